package dev.cnnzoo.runtime.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ResamplingTest {
    private static Planes row(float... values) {
        return new Planes(1, 1, values.length, values);
    }

    @Test
    void halvingWeighsTheFourNearestInputsOneThreeThreeOneEighths() {
        // Output 1 of 8 → 4 is centred at input coordinate 3; the tent stretched to ±2 covers inputs 1..4
        // at distances 1.5, 0.5, 0.5, 1.5, i.e. weights 0.25, 0.75, 0.75, 0.25 before normalising.
        Planes out = Resampling.resize(row(0, 1, 2, 3, 4, 5, 6, 7), 1, 4, Resampling.Filter.BILINEAR);
        float expected1 = (1 * 1 + 2 * 3 + 3 * 3 + 4 * 1) / 8f;
        assertEquals(expected1, out.values()[1], 1e-6);
        // At the border only inputs 0..2 fall under the filter: 0.75, 0.75, 0.25 normalised.
        assertEquals((0 * 3 + 1 * 3 + 2 * 1) / 7f, out.values()[0], 1e-6);
    }

    @Test
    void doublingInterpolatesBetweenNeighbours() {
        // Upsampling keeps the tent at width 1: output 1 of 2 → 4 sits at input 0.75, a quarter of the way from 1 to 0... of 0 to 1.
        Planes out = Resampling.resize(row(0, 1), 1, 4, Resampling.Filter.BILINEAR);
        assertArrayEquals(new float[] {0, 0.25f, 0.75f, 1}, out.values(), 1e-6f);
    }

    @Test
    void constantsStayConstantAndTheSameSizeIsTheSameImage() {
        float[] grey = new float[3 * 37 * 53];
        java.util.Arrays.fill(grey, 0.42f);
        Planes image = new Planes(3, 37, 53, grey);
        for (Resampling.Filter f : Resampling.Filter.values()) {
            Planes out = Resampling.resize(image, 11, 90, f);
            for (float v : out.values()) {
                assertEquals(0.42f, v, 1e-6f, f + ": weights sum to one");
            }
        }
        assertSame(image, Resampling.resize(image, 37, 53, Resampling.Filter.BILINEAR));
    }

    @Test
    void axesAreIndependent() {
        // Resampling a transposed image gives the transposed result: the same filter per axis.
        SplittableRandom r = new SplittableRandom(5);
        int h = 13;
        int w = 29;
        float[] a = new float[h * w];
        float[] t = new float[h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                a[y * w + x] = (float) r.nextDouble();
                t[x * h + y] = a[y * w + x];
            }
        }
        Planes out = Resampling.resize(new Planes(1, h, w, a), 6, 10, Resampling.Filter.BICUBIC);
        Planes outT = Resampling.resize(new Planes(1, w, h, t), 10, 6, Resampling.Filter.BICUBIC);
        for (int y = 0; y < 6; y++) {
            for (int x = 0; x < 10; x++) {
                assertEquals(out.get(0, y, x), outT.get(0, x, y), 1e-5);
            }
        }
    }

    @Test
    void tapsCoverTheFilterAndSumToOne() {
        Resampling.Taps taps = Resampling.taps(500, 256, Resampling.Filter.BILINEAR);
        for (int i = 0; i < 256; i++) {
            double sum = 0;
            for (int j = 0; j < taps.count()[i]; j++) {
                sum += taps.weights()[i * taps.stride() + j];
            }
            assertEquals(1, sum, 1e-6);
            assertEquals(true, taps.count()[i] <= taps.stride());
        }
    }
}
