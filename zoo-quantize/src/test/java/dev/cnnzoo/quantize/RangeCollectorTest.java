package dev.cnnzoo.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.onnx.quantize.TensorRange;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RangeCollectorTest {
    private static float[] gaussian(int n, double sigma, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (sigma * r.nextGaussian());
        }
        return a;
    }

    private static TensorRange collect(CalibrationMethod method, double percentile, float[]... batches) {
        RangeCollector c = new RangeCollector("t", method, percentile);
        for (float[] b : batches) {
            c.add(FloatBuffer.wrap(b));
        }
        return c.range();
    }

    @Test
    void minMaxIsTheExtremesOverEveryBatch() {
        TensorRange r = collect(CalibrationMethod.MINMAX, 0, new float[] {0.5f, -1.25f, 2}, new float[] {7, 0}, new float[] {-3});
        assertEquals(new TensorRange(-3, 7), r);
    }

    @Test
    void percentileClipsTheMagnitudesAboveIt() {
        // Uniform on [−1, 1): 99 % of the magnitudes lie below 0.99.
        SplittableRandom random = new SplittableRandom(1);
        float[] a = new float[200_000];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (2 * random.nextDouble() - 1);
        }
        TensorRange r = collect(CalibrationMethod.PERCENTILE, 99, a);
        double bin = 1.0 / RangeCollector.BINS;       // the histogram's resolution here
        assertEquals(0.99, r.max(), 2 * bin);
        assertEquals(-0.99, r.min(), 2 * bin);
    }

    @Test
    void histogramsWidenWithoutLosingCounts() {
        // The second batch reaches 64 times further than the first: the bins double six times.
        float[] small = gaussian(50_000, 0.1, 2);
        float[] large = gaussian(50_000, 6.4, 3);
        TensorRange split = collect(CalibrationMethod.PERCENTILE, 50, small, large);
        float[] both = Arrays.copyOf(small, 100_000);
        System.arraycopy(large, 0, both, 50_000, 50_000);
        float[] magnitudes = new float[both.length];
        for (int i = 0; i < both.length; i++) {
            magnitudes[i] = Math.abs(both[i]);
        }
        Arrays.sort(magnitudes);
        double median = magnitudes[magnitudes.length / 2];
        double bin = 2 * Math.abs(largest(both)) / RangeCollector.BINS;
        assertEquals(median, split.max(), 2 * bin, "the median magnitude, to within the final bins' width");
    }

    private static float largest(float[] a) {
        float m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    @Test
    void entropyClipsLongTailsAndKeepsShortOnes() {
        // A Gaussian's tail is thin: every clip loses more than the finer steps gain, so the range
        // stays near its extremes. A Laplace distribution's is long: the clip falls well inside.
        float[] gauss = gaussian(500_000, 1, 4);
        TensorRange g = collect(CalibrationMethod.ENTROPY, 0, gauss);
        assertTrue(g.max() > 3.5 && g.max() <= largest(gauss), "Gaussian clipped at " + g.max() + " of " + largest(gauss));
        SplittableRandom r = new SplittableRandom(7);
        float[] laplace = new float[500_000];
        for (int i = 0; i < laplace.length; i++) {
            double u = r.nextDouble() - 0.5;
            laplace[i] = (float) (-Math.signum(u) * Math.log(1 - 2 * Math.abs(u)));
        }
        TensorRange l = collect(CalibrationMethod.ENTROPY, 0, laplace);
        assertTrue(l.max() < 0.8 * largest(laplace) && l.max() > 5, "Laplace clipped at " + l.max() + " of " + largest(laplace));
    }

    @Test
    void entropyIgnoresALoneOutlier() {
        float[] a = gaussian(200_000, 1, 5);
        a[17] = 40;              // one activation in two hundred thousand, 40σ out
        TensorRange r = collect(CalibrationMethod.ENTROPY, 0, a);
        assertTrue(r.max() < 6, "clip at " + r.max());
        assertEquals(40, collect(CalibrationMethod.MINMAX, 0, a).max(), 0, "min/max keeps it");
    }

    @Test
    void nonNegativeTensorsKeepZeroAsTheirFloor() {
        float[] a = gaussian(100_000, 1, 6);
        for (int i = 0; i < a.length; i++) {
            a[i] = Math.max(0, a[i]);            // a ReLU's output: half its values are 0
        }
        for (CalibrationMethod m : CalibrationMethod.values()) {
            TensorRange r = collect(m, 99.99, a);
            assertEquals(0, r.min(), 0, m.toString());
            assertTrue(r.max() > 3, m + ": " + r.max());
        }
    }

    @Test
    void nonFiniteValuesAreReportedAsTheFloatModelsFault() {
        ZooException e = assertThrows(ZooException.class, () -> collect(CalibrationMethod.MINMAX, 0, new float[] {1, Float.NaN}));
        assertTrue(e.getMessage().startsWith("tensor 't' took a non-finite value during calibration"), e.getMessage());
    }
}
