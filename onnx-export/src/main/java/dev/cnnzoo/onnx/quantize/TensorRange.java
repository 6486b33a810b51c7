package dev.cnnzoo.onnx.quantize;

/**
 * The range of values a tensor's quantization must cover, as calibration found it (its minimum and
 * maximum, or a narrower clipping range).
 */
public record TensorRange(float min, float max) {
    public TensorRange {
        if (!(min <= max) || Float.isInfinite(min) || Float.isInfinite(max)) {
            throw new IllegalArgumentException("a range needs finite min ≤ max, got [" + min + ", " + max + "]");
        }
    }

    /** Unsigned 8-bit parameters covering this range, widened to hold 0 exactly. */
    public QuantParams uint8() {
        return QuantParams.uint8(min, max);
    }
}
