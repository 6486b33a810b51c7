package dev.cnnzoo.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;

/**
 * Native memory that a loop's inputs are copied into, one buffer per input name, reused from one
 * run to the next.
 *
 * <p>ONNX Runtime's Java binding copies a Java array into a fresh direct buffer for every tensor it
 * makes from one, and a direct buffer is freed only when a garbage collection finds it. A training
 * loop allocates little else on the Java heap, so collections are rare and those copies pile up as
 * resident memory: GoogLeNet's batch of 8 added 5 MB a step, 73 MB after 15 steps. A tensor made
 * from a direct buffer in native order uses that buffer as it is, so writing each step's batch into
 * the same buffer keeps that memory at one batch.
 *
 * <p>A tensor returned here reads its buffer until it is closed; the next call for the same name
 * overwrites it. Not for use from several threads at once.
 */
public final class StagingBuffers {
    private final Map<String, ByteBuffer> buffers = new HashMap<>();

    /** A native tensor of {@code t}'s data in the buffer kept for {@code name}; the caller closes it. */
    public OnnxTensor tensor(String name, Tensor t) {
        long[] shape = t.shape().longDims();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try {
            return switch (t.dtype()) {
                case FLOAT -> OnnxTensor.createTensor(env, buffer(name, t.floats().length, Float.BYTES).asFloatBuffer().put(t.floats()).rewind(),
                        shape);
                case INT64 -> OnnxTensor.createTensor(env, buffer(name, t.longs().length, Long.BYTES).asLongBuffer().put(t.longs()).rewind(),
                        shape);
                default -> InferenceSession.toNative(env, t);
            };
        } catch (OrtException e) {
            throw new ZooException("cannot create a native tensor for '" + name + "': " + e.getMessage(), e);
        }
    }

    /** A native-order view of exactly {@code elements × width} bytes of the buffer kept for {@code name}, grown when too small. */
    private ByteBuffer buffer(String name, int elements, int width) {
        int bytes = Math.multiplyExact(elements, width);
        ByteBuffer b = buffers.get(name);
        if (b == null || b.capacity() < bytes) {
            b = ByteBuffer.allocateDirect(bytes);
            buffers.put(name, b);
        }
        return b.duplicate().clear().limit(bytes).slice().order(ByteOrder.nativeOrder());
    }
}
