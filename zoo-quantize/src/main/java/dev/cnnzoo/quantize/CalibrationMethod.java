package dev.cnnzoo.quantize;

import dev.cnnzoo.api.ZooException;
import java.util.Locale;

/** How calibration turns the values a tensor took into the range its quantization covers. */
public enum CalibrationMethod {
    /** The smallest and largest value seen: nothing clips, but one outlier coarsens every step. */
    MINMAX,
    /** Clips the magnitudes above a percentile of all values seen (99.999 by default, ONNX Runtime's). */
    PERCENTILE,
    /**
     * Clips where the quantized distribution loses least information: the threshold minimising the
     * Kullback-Leibler divergence between the value histogram and its quantized form (Migacz,
     * "8-bit Inference with TensorRT", GTC 2017).
     */
    ENTROPY;

    public static CalibrationMethod parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ZooException("unknown calibration method '" + name + "'; the methods are minmax, percentile and entropy");
        }
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
