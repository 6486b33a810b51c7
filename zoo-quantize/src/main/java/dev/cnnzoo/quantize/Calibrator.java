package dev.cnnzoo.quantize;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtSession;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.onnx.OnnxFiles;
import dev.cnnzoo.onnx.quantize.TensorRange;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.training.data.BatchLoader;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds the range of every tensor to be quantized by running the float model, with each of those
 * tensors as an extra output, over the calibration images in ONNX Runtime.
 */
public final class Calibrator {
    /** Told after each batch. */
    @FunctionalInterface
    public interface Progress {
        void calibrated(int images, int total);

        Progress NONE = (images, total) -> { };
    }

    /**
     * The batch holds at most this many bytes of the tensors read back (every intermediate tensor
     * of a batch is kept for the copy into Java): 256 MiB keeps VGG-16's calibration, about 60 MB of
     * activations per image, at four images per run.
     */
    static final long BATCH_BYTES = 256L << 20;
    static final int MAX_BATCH = 32;

    private Calibrator() {
    }

    /**
     * The calibrated range of each of {@code tensors} of {@code fp32}.
     *
     * @param percentile for {@link CalibrationMethod#PERCENTILE}: the share of values (in %) inside the range
     */
    public static Map<String, TensorRange> ranges(ModelProto fp32, String inputName, List<String> tensors, CalibrationData data,
            CalibrationMethod method, double percentile, RuntimeOptions runtime, Progress progress) {
        Map<String, RangeCollector> collectors = new LinkedHashMap<>();
        tensors.forEach(t -> collectors.put(t, new RangeCollector(t, method, percentile)));
        // Constants are measured where they are; the input as it is fed; the rest as ONNX Runtime computes them.
        Map<String, TensorProto> constants = new HashMap<>();
        fp32.getGraph().getInitializerList().forEach(t -> constants.put(t.getName(), t));
        Set<String> wanted = new HashSet<>(tensors);
        wanted.remove(inputName);
        for (String t : tensors) {
            if (constants.containsKey(t)) {
                collectors.get(t).add(FloatBuffer.wrap(OnnxFiles.floats(constants.get(t))));
                wanted.remove(t);
            }
        }
        try (InferenceSession session = InferenceSession.open(withOutputs(fp32, List.copyOf(wanted)).toByteArray(), runtime)) {
            long bytesPerImage;
            try (BatchLoader probe = data.first()) {
                bytesPerImage = run(session, inputName, probe.evaluation().next(), wanted, null);
            }
            int batch = (int) Math.max(1, Math.min(MAX_BATCH, BATCH_BYTES / Math.max(1, bytesPerImage)));
            int done = 0;
            try (BatchLoader loader = data.loader(batch)) {
                for (Iterator<BatchLoader.Batch> it = loader.evaluation(); it.hasNext();) {
                    BatchLoader.Batch b = it.next();
                    run(session, inputName, b, wanted, collectors);
                    done += b.size();
                    progress.calibrated(done, data.size());
                }
            }
        }
        Map<String, TensorRange> ranges = new LinkedHashMap<>();
        collectors.forEach((t, c) -> ranges.put(t, c.range()));
        return ranges;
    }

    /** One run; feeds each tensor to its collector (none: only measure). Returns the bytes read back per image. */
    private static long run(InferenceSession session, String inputName, BatchLoader.Batch batch, Set<String> wanted,
            Map<String, RangeCollector> collectors) {
        long bytes = 0;
        if (collectors != null && collectors.containsKey(inputName)) {
            collectors.get(inputName).add(FloatBuffer.wrap(batch.images().floats()));
        }
        if (wanted.isEmpty()) {
            return 0;
        }
        try (OnnxTensor input = InferenceSession.nativeTensor(batch.images());
                OrtSession.Result result = session.runNative(Map.of(inputName, input), wanted)) {
            for (Map.Entry<String, OnnxValue> e : result) {
                OnnxTensor t = (OnnxTensor) e.getValue();
                if (t.getInfo().type != OnnxJavaType.FLOAT) {
                    throw new ZooException("tensor '" + e.getKey() + "' is " + t.getInfo().type + ", not float; the quantizer takes FP32 models");
                }
                bytes += t.getInfo().getNumElements() * 4L;
                if (collectors != null) {
                    collectors.get(e.getKey()).add(t.getFloatBuffer());
                }
            }
        }
        return bytes / batch.size();
    }

    /** The model with every tensor of {@code tensors} also a graph output (its value info where known, else float of any shape). */
    static ModelProto withOutputs(ModelProto model, List<String> tensors) {
        Map<String, ValueInfoProto> known = new LinkedHashMap<>();
        model.getGraph().getValueInfoList().forEach(v -> known.put(v.getName(), v));
        model.getGraph().getInputList().forEach(v -> known.put(v.getName(), v));
        Set<String> outputs = new HashSet<>();
        model.getGraph().getOutputList().forEach(v -> outputs.add(v.getName()));
        ModelProto.Builder b = model.toBuilder();
        for (String t : tensors) {
            if (outputs.contains(t)) {
                continue;
            }
            ValueInfoProto v = known.getOrDefault(t, ValueInfoProto.newBuilder().setName(t)
                    .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE)))
                    .build());
            b.getGraphBuilder().addOutput(v);
        }
        return b.build();
    }
}
