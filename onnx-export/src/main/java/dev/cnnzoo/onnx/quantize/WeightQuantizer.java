package dev.cnnzoo.onnx.quantize;

/**
 * Symmetric int8 quantization of weights per output channel, and int32 quantization of biases at
 * the scale the integer kernels accumulate in (input scale × weight scale), as ONNX Runtime's
 * {@code QLinearConv} and {@code QGemm} expect them.
 */
final class WeightQuantizer {
    /** Symmetric levels: ±127 (−128 unused, so negation stays representable). */
    static final int LEVELS = 127;
    /**
     * ±63, 7 bits: on x86 CPUs without VNNI, ONNX Runtime's uint8×int8 kernels add pairs of
     * products in 16 bits (vpmaddubsw), and 255 · 127 · 2 overflows that; 255 · 63 · 2 does not.
     */
    static final int REDUCED_LEVELS = 63;

    /** Weights as int8 with one scale per channel along {@code axis}. */
    record PerChannel(byte[] values, float[] scales, int axis) {
    }

    private WeightQuantizer() {
    }

    /**
     * Quantizes {@code w} (of shape {@code dims}) per slice along {@code axis}: scale = max|w| / levels.
     * Where a bias would overflow int32 at input scale × weight scale (a channel of near-zero
     * weights under a large bias) the weight scale is raised until it fits.
     *
     * @param bias       the bias per channel, or null
     * @param inputScale the scale of the activation the weights multiply
     */
    static PerChannel quantize(float[] w, long[] dims, int axis, float[] bias, float inputScale, int levels) {
        int channels = Math.toIntExact(dims[axis]);
        long inner = 1;
        for (int d = axis + 1; d < dims.length; d++) {
            inner *= dims[d];
        }
        int step = Math.toIntExact(inner);
        float[] maxAbs = new float[channels];
        for (int i = 0; i < w.length; i++) {
            int c = (i / step) % channels;
            maxAbs[c] = Math.max(maxAbs[c], Math.abs(w[i]));
        }
        float[] scales = new float[channels];
        for (int c = 0; c < channels; c++) {
            float s = maxAbs[c] > 0 ? maxAbs[c] / levels : 1f;
            if (bias != null) {
                double smallest = Math.abs(bias[c]) / (inputScale * (double) Integer.MAX_VALUE);
                s = (float) Math.max(s, smallest * 1.01);
            }
            scales[c] = s;
        }
        byte[] q = new byte[w.length];
        for (int i = 0; i < w.length; i++) {
            int c = (i / step) % channels;
            q[i] = (byte) Math.max(-levels, Math.min(levels, Math.rint(w[i] / scales[c])));
        }
        return new PerChannel(q, scales, axis);
    }

    /** The bias as int32 at scale inputScale × weightScale[c], and those scales. */
    static int[] quantizeBias(float[] bias, float inputScale, float[] weightScales, float[] biasScalesOut) {
        int[] q = new int[bias.length];
        for (int c = 0; c < bias.length; c++) {
            float s = inputScale * weightScales[c];
            biasScalesOut[c] = s;
            q[c] = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, Math.rint(bias[c] / (double) s)));
        }
        return q;
    }
}
