package dev.cnnzoo.quantize;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.onnx.quantize.TensorRange;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * The values one tensor took during calibration, reduced to what its method needs: the minimum and
 * maximum, and for {@link CalibrationMethod#PERCENTILE} and {@link CalibrationMethod#ENTROPY} a
 * histogram of magnitudes (positive and negative values apart).
 *
 * <p>The histogram is built in one pass: its {@value #BINS} bins start at the first batch's largest
 * magnitude and double their width (merging neighbours, which is exact) whenever a later value
 * falls beyond them, so at least half the bins always cover the values seen. Exact zeros are
 * counted apart: zero is exactly representable whatever the range, and after a ReLU half the
 * values are zeros, a spike that would otherwise dominate the entropy search (merging the first
 * bins spreads it, which the divergence punishes, so it would pull the clip down: 1.6σ for a
 * rectified Gaussian instead of about 4σ).
 */
final class RangeCollector {
    /** Histogram bins per sign; TensorRT's calibrator uses 2048. */
    static final int BINS = 2048;
    /** At most this many clipping thresholds are tried by the entropy search (it is quadratic in the bins). */
    private static final int ENTROPY_CANDIDATES = 400;

    private final String tensor;
    private final CalibrationMethod method;
    private final double percentile;
    private float min = Float.POSITIVE_INFINITY;
    private float max = Float.NEGATIVE_INFINITY;
    private long[] positive;
    private long[] negative;
    private double width;
    private long zeros;

    RangeCollector(String tensor, CalibrationMethod method, double percentile) {
        this.tensor = tensor;
        this.method = method;
        this.percentile = percentile;
    }

    void add(FloatBuffer values) {
        int n = values.remaining();
        int base = values.position();
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            float v = values.get(base + i);
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        if (Float.isNaN(lo) || Float.isNaN(hi) || Float.isInfinite(lo) || Float.isInfinite(hi)) {
            throw new ZooException("tensor '" + tensor + "' took a non-finite value during calibration; the float model itself "
                    + "overflows on this data (check its weights and the data's preprocessing)");
        }
        min = Math.min(min, lo);
        max = Math.max(max, hi);
        if (method == CalibrationMethod.MINMAX) {
            return;
        }
        double largest = Math.max(Math.abs(lo), Math.abs(hi));
        if (largest == 0) {
            zeros += n;
            return;
        }
        if (positive == null) {
            positive = new long[BINS];
            negative = new long[BINS];
            width = largest / BINS;
        }
        while (largest > width * BINS) {
            doubleWidth();
        }
        double perBin = 1 / width;
        for (int i = 0; i < n; i++) {
            float v = values.get(base + i);
            if (v > 0) {
                positive[Math.min(BINS - 1, (int) (v * perBin))]++;
            } else if (v == 0) {
                zeros++;
            } else {
                negative[Math.min(BINS - 1, (int) (-v * perBin))]++;
            }
        }
    }

    private void doubleWidth() {
        for (long[] h : new long[][] {positive, negative}) {
            for (int i = 0; i < BINS / 2; i++) {
                h[i] = h[2 * i] + h[2 * i + 1];
            }
            Arrays.fill(h, BINS / 2, BINS, 0);
        }
        width *= 2;
    }

    boolean seen() {
        return min <= max;
    }

    TensorRange range() {
        if (!seen()) {
            throw new IllegalStateException("no values of '" + tensor + "' were seen");
        }
        if (method == CalibrationMethod.MINMAX || positive == null) {
            return new TensorRange(min, max);
        }
        long[] magnitude = new long[BINS];
        for (int i = 0; i < BINS; i++) {
            magnitude[i] = positive[i] + negative[i];
        }
        double threshold = method == CalibrationMethod.PERCENTILE ? percentileThreshold(magnitude)
                : entropyThreshold(magnitude, min >= 0 ? 256 : 128);
        return new TensorRange((float) Math.max(min, -threshold), (float) Math.min(max, threshold));
    }

    /** The magnitude below which {@code percentile} % of the values lie (the upper edge of its bin). */
    private double percentileThreshold(long[] magnitude) {
        long total = zeros;
        for (long c : magnitude) {
            total += c;
        }
        double target = total * percentile / 100;
        long cumulative = zeros;
        for (int i = 0; i < BINS; i++) {
            cumulative += magnitude[i];
            if (cumulative >= target) {
                return (i + 1) * width;
            }
        }
        return BINS * width;
    }

    /**
     * The clipping threshold whose quantization into {@code levels} steps keeps the histogram's
     * distribution closest in KL divergence: for each candidate edge i, P is the histogram up to i
     * with everything beyond added to its last bin, Q is P merged into {@code levels} groups and
     * spread back evenly over each group's non-empty bins.
     */
    private double entropyThreshold(long[] hist, int levels) {
        int last = BINS - 1;
        while (last > 0 && hist[last] == 0) {
            last--;
        }
        int used = last + 1;
        if (used <= levels) {
            return used * width;            // every value already has a step of its own
        }
        long[] suffix = new long[BINS + 1];
        for (int i = BINS - 1; i >= 0; i--) {
            suffix[i] = suffix[i + 1] + hist[i];
        }
        int step = Math.max(1, (used - levels) / ENTROPY_CANDIDATES);
        double bestDivergence = Double.POSITIVE_INFINITY;
        int best = used;
        double[] p = new double[used];
        double[] q = new double[used];
        for (int i = levels; i <= used; i += step) {
            for (int k = 0; k < i; k++) {
                p[k] = hist[k];
            }
            p[i - 1] += suffix[i];
            for (int j = 0; j < levels; j++) {
                int start = (int) ((long) j * i / levels);
                int stop = (int) ((long) (j + 1) * i / levels);
                double sum = 0;
                int nonEmpty = 0;
                for (int k = start; k < stop; k++) {
                    sum += hist[k];
                    nonEmpty += p[k] != 0 ? 1 : 0;
                }
                for (int k = start; k < stop; k++) {
                    q[k] = p[k] != 0 ? sum / nonEmpty : 0;
                }
            }
            double d = divergence(p, q, i);
            if (d < bestDivergence) {
                bestDivergence = d;
                best = i;
            }
        }
        return best * width;
    }

    /** KL(P ‖ Q) of the first {@code n} bins, each normalised; empty bins of Q under P's mass get a tiny floor. */
    private static double divergence(double[] p, double[] q, int n) {
        double sp = 0;
        double sq = 0;
        for (int k = 0; k < n; k++) {
            sp += p[k];
            sq += q[k];
        }
        if (sp == 0 || sq == 0) {
            return Double.POSITIVE_INFINITY;
        }
        double d = 0;
        for (int k = 0; k < n; k++) {
            if (p[k] > 0) {
                double pk = p[k] / sp;
                double qk = Math.max(q[k] / sq, 1e-12);
                d += pk * Math.log(pk / qk);
            }
        }
        return d;
    }
}
