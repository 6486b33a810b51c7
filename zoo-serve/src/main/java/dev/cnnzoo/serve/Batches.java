package dev.cnnzoo.serve;

import dev.cnnzoo.graph.DType;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import java.util.Arrays;
import java.util.List;

/** Tensors stacked along their first (batch) dimension and cut apart again. */
final class Batches {
    private Batches() {
    }

    /** The rows of {@code parts}, in order, as one tensor; every part has the same type and the same shape after dimension 0. */
    static Tensor concat(List<Tensor> parts) {
        if (parts.size() == 1) {
            return parts.get(0);
        }
        Tensor first = parts.get(0);
        int rows = parts.stream().mapToInt(t -> t.shape().dim(0)).sum();
        Shape shape = first.shape().withDim(0, rows);
        int at = 0;
        if (first.dtype() == DType.FLOAT) {
            float[] out = new float[Math.toIntExact(shape.elements())];
            for (Tensor t : parts) {
                float[] a = t.floats();
                System.arraycopy(a, 0, out, at, a.length);
                at += a.length;
            }
            return Tensor.of(shape, out);
        }
        long[] out = new long[Math.toIntExact(shape.elements())];
        for (Tensor t : parts) {
            long[] a = t.longs();
            System.arraycopy(a, 0, out, at, a.length);
            at += a.length;
        }
        return first.dtype() == DType.BOOL ? Tensor.ofBools(shape, out) : Tensor.ofLongs(shape, out);
    }

    /** Rows {@code [from, from + rows)} of {@code t}. */
    static Tensor slice(Tensor t, int from, int rows) {
        if (from == 0 && rows == t.shape().dim(0)) {
            return t;
        }
        int per = Math.toIntExact(t.shape().elements() / Math.max(1, t.shape().dim(0)));
        Shape shape = t.shape().withDim(0, rows);
        if (t.dtype() == DType.FLOAT) {
            return Tensor.of(shape, Arrays.copyOfRange(t.floats(), from * per, (from + rows) * per));
        }
        long[] a = Arrays.copyOfRange(t.longs(), from * per, (from + rows) * per);
        return t.dtype() == DType.BOOL ? Tensor.ofBools(shape, a) : Tensor.ofLongs(shape, a);
    }

    /** The shape after the batch dimension, the part that must agree for two requests to share a batch. */
    static int[] sampleShape(Tensor t) {
        return t.shape().tail(1);
    }
}
