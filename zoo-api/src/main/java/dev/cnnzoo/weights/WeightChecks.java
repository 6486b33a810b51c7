package dev.cnnzoo.weights;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Tensor;

/**
 * What a tensor must be to become a network's weight, checked wherever weights meet a graph
 * ({@link Weights#bind}, {@link Weights#transfer}, imports): floating point (files' F16, BF16 and
 * F64 are widened to F32 on reading; integer tensors are refused, since an ONNX model with an
 * integer initializer where a float one belongs loads nowhere), and finite unless
 * {@linkplain #allowingNonFinite() allowed}: NaN or infinite weights make every output NaN, which is
 * almost always a damaged file rather than an intent.
 *
 * @param allowNonFinite accept NaN and infinite values (to inspect a diverged run's weights, say)
 */
public record WeightChecks(boolean allowNonFinite) {
    /** Floating point and finite. */
    public static WeightChecks strict() {
        return new WeightChecks(false);
    }

    /** Floating point; NaN and infinities accepted. */
    public static WeightChecks allowingNonFinite() {
        return new WeightChecks(true);
    }

    /** A tensor with NaN or infinite values, refused by {@link #strict()} checks. */
    public static final class NonFiniteException extends ZooException {
        private final String tensor;

        NonFiniteException(String tensor, String message) {
            super(message);
            this.tensor = tensor;
        }

        /** The tensor's name. */
        public String tensor() {
            return tensor;
        }
    }

    /**
     * Checks {@code t}, to become weight {@code name}.
     *
     * @throws ZooException naming the tensor: integer values, or (unless allowed) NaN or infinite ones
     */
    public void check(String name, Tensor t) {
        if (!t.isFloating()) {
            throw new ZooException("tensor '" + name + "' holds " + t.dtype().name().toLowerCase(java.util.Locale.ROOT)
                    + " values; a network's weights are floating point (F32, or F16, BF16 and F64, which are widened)");
        }
        if (allowNonFinite) {
            return;
        }
        float[] a = t.floats();
        long nan = 0;
        long infinite = 0;
        long first = -1;
        for (int i = 0; i < a.length; i++) {
            float v = a[i];
            if (Float.isNaN(v)) {
                nan++;
            } else if (Float.isInfinite(v)) {
                infinite++;
            } else {
                continue;
            }
            if (first < 0) {
                first = i;
            }
        }
        if (first >= 0) {
            String counts = (nan > 0 ? nan + " NaN" : "") + (nan > 0 && infinite > 0 ? " and " : "")
                    + (infinite > 0 ? infinite + " infinite" : "");
            throw new NonFiniteException(name, "tensor '" + name + "' holds " + counts + " value(s) of " + a.length + " (the first at index "
                    + first + "); non-finite weights are refused unless explicitly allowed");
        }
    }
}
