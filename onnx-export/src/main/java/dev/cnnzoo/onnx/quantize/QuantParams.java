package dev.cnnzoo.onnx.quantize;

/**
 * Affine quantization of a tensor to 8-bit integers: {@code real = scale · (q − zeroPoint)}.
 *
 * @param scale     the real value of one step; positive
 * @param zeroPoint the integer that stands for real 0 (0–255 for uint8, 0 for symmetric int8)
 */
public record QuantParams(float scale, int zeroPoint) {
    public QuantParams {
        if (!(scale > 0) || Float.isInfinite(scale)) {
            throw new IllegalArgumentException("a quantization scale must be positive and finite, got " + scale);
        }
    }

    /**
     * Asymmetric uint8 parameters for values in [min, max]. The range is widened to include 0, so
     * that zero (ReLU's floor, convolution padding) is exactly representable; a range that is only
     * 0 gets scale 1 (any scale represents it).
     */
    public static QuantParams uint8(float min, float max) {
        double lo = Math.min(min, 0);
        double hi = Math.max(max, 0);
        if (hi - lo <= 0) {
            return new QuantParams(1, 0);
        }
        float scale = (float) ((hi - lo) / 255);
        if (!(scale > 0)) {          // a range below float's resolution
            scale = Float.MIN_NORMAL;
        }
        int zeroPoint = (int) Math.max(0, Math.min(255, Math.round(-lo / scale)));
        return new QuantParams(scale, zeroPoint);
    }

    /** Quantizes one value (round half to even, as ONNX QuantizeLinear does), saturating to uint8. */
    public int quantizeUint8(float x) {
        return (int) Math.max(0, Math.min(255, Math.rint(x / scale) + zeroPoint));
    }

    public float dequantize(int q) {
        return scale * (q - zeroPoint);
    }
}
