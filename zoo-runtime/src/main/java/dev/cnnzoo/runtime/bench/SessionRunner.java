package dev.cnnzoo.runtime.bench;

import ai.onnxruntime.OnnxTensor;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.DType;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.runtime.InferenceSession;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One forward pass of a session per {@link #run()}, on a random batch made once and kept native,
 * so what is timed is ONNX Runtime's work: no Java arrays are copied in, and the outputs are freed
 * without being copied out.
 */
public final class SessionRunner implements Runnable, AutoCloseable {
    private final InferenceSession session;
    private final Map<String, OnnxTensor> feeds = new LinkedHashMap<>();

    private SessionRunner(InferenceSession session) {
        this.session = session;
    }

    /**
     * Uniform [0, 1) inputs (zeros for integer ones) with batch {@code batch}. A dynamic dimension
     * other than the batch takes its size from {@code perSample} (channels, height, width), as
     * when a foreign file is compared with a zoo model.
     *
     * @throws ZooException when an input's batch is fixed to another size, or a dynamic size is unknown
     */
    public static SessionRunner randomInputs(InferenceSession session, int batch, int[] perSample, String what) {
        SessionRunner r = new SessionRunner(session);
        SplittableRandom random = new SplittableRandom(0);
        try {
            for (InferenceSession.Port p : session.inputs()) {
                long[] dims = p.shape().clone();
                if (dims.length == 0) {
                    throw new ZooException(what + "'s input '" + p.name() + "' is a scalar, not a batch of images");
                }
                if (dims[0] >= 0 && dims[0] != batch) {
                    throw new ZooException(what + "'s input '" + p.name() + "' has a fixed batch of " + dims[0] + ", so it cannot run batch "
                            + batch + " (export it with a dynamic batch: torch.onnx.export(..., dynamic_axes={'" + p.name() + "': {0: 'N'}}))");
                }
                dims[0] = batch;
                for (int i = 1; i < dims.length; i++) {
                    if (dims[i] < 0) {
                        if (perSample == null || perSample.length != dims.length - 1) {
                            throw new ZooException(what + "'s input '" + p.name() + "' has a dynamic dimension " + i + " and no size is known for it");
                        }
                        dims[i] = perSample[i - 1];
                    }
                }
                Shape shape = Tensor.holdableShape(what + "'s input '" + p.name() + "'", dims);
                Tensor t;
                if (p.dtype() == DType.FLOAT) {
                    float[] a = new float[Math.toIntExact(shape.elements())];
                    for (int i = 0; i < a.length; i++) {
                        a[i] = (float) random.nextDouble();
                    }
                    t = Tensor.of(shape, a);
                } else {
                    t = Tensor.ofLongs(shape, new long[Math.toIntExact(shape.elements())]);
                }
                r.feeds.put(p.name(), InferenceSession.nativeTensor(t));
            }
            return r;
        } catch (RuntimeException e) {
            r.close();
            throw e;
        }
    }

    /** The shape fed to the first input. */
    public long[] inputShape() {
        return feeds.values().iterator().next().getInfo().getShape();
    }

    @Override
    public void run() {
        session.runNative(feeds, null).close();        // outputs freed unread
    }

    @Override
    public void close() {
        feeds.values().forEach(OnnxTensor::close);
        feeds.clear();
    }
}
