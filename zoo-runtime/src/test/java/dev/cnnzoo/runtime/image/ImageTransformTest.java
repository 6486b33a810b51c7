package dev.cnnzoo.runtime.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.Preprocessing;
import dev.cnnzoo.api.ZooException;
import org.junit.jupiter.api.Test;

class ImageTransformTest {
    /** A recipe without normalisation, so outputs are the cropped pixels themselves. */
    private static Preprocessing plain(int resize, int crop, int channels) {
        float[] zero = new float[channels];
        float[] one = new float[channels];
        java.util.Arrays.fill(one, 1f);
        return new Preprocessing(resize, crop, zero, one, "bilinear");
    }

    /** Pixel value = its column / 1000, so a crop's first value says where it started. */
    private static Planes columns(int h, int w) {
        float[] v = new float[h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                v[y * w + x] = x / 1000f;
            }
        }
        return new Planes(1, h, w, v);
    }

    @Test
    void shorterSideToTheResizeLongerSideRoundedDown() {
        ImageTransform t = new ImageTransform(Preprocessing.imagenet(256, 224), 3, 224, 224);
        Planes landscape = t.resizeShorterSide(new Planes(3, 375, 500, new float[3 * 375 * 500]));
        assertEquals(256, landscape.height());
        assertEquals(341, landscape.width(), "int(256 × 500 / 375) = int(341.33)");
        Planes portrait = t.resizeShorterSide(new Planes(3, 451, 300, new float[3 * 451 * 300]));
        assertEquals(256, portrait.width());
        assertEquals(384, portrait.height(), "int(256 × 451 / 300) = int(384.85)");
        assertEquals(256, t.resize());
        assertEquals(128, new ImageTransform(Preprocessing.imagenet(256, 224), 3, 112, 112).resize(), "the recipe scales with the input");
    }

    @Test
    void centreCropRoundsItsOffsetHalfToEvenAsPython() {
        // 341 − 224 = 117 columns to drop: round(58.5) = 58 in Python 3, so the crop starts at column 58.
        ImageTransform t = new ImageTransform(plain(256, 224, 1), 1, 224, 224);
        float[] out = t.apply(columns(256, 341));
        assertEquals(0.058f, out[0], 1e-7);
        // 343 − 224 = 119: round(59.5) = 60.
        assertEquals(0.060f, t.apply(columns(256, 343))[0], 1e-7);
        // Rows: 256 − 224 = 32, offset 16; every row starts at the same column.
        assertEquals(0.058f, out[223 * 224], 1e-7);
    }

    @Test
    void aSmallerImageIsPaddedWithZerosAroundTheCentre() {
        // A 6×6 crop of a 4×4 image: one row and column of zeros on each side, as torchvision pads.
        ImageTransform t = new ImageTransform(plain(6, 6, 1), 1, 6, 6);
        float[] out = new float[36];
        t.centreCrop(columns(4, 4), out, 0);
        assertEquals(0f, out[0]);
        assertEquals(0f, out[6 + 0], "row 1, column 0: padding");
        assertEquals(0f, out[6 + 1], "row 1, column 1: pixel (0, 0)");
        assertEquals(0.001f, out[6 + 2], 1e-7);
        assertEquals(0f, out[6 + 5]);
    }

    @Test
    void normalisesEachChannel() {
        ImageTransform t = new ImageTransform(Preprocessing.imagenet(4, 4), 3, 4, 4);
        float[] v = new float[3 * 16];
        java.util.Arrays.fill(v, 0.5f);
        float[] out = t.apply(new Planes(3, 4, 4, v));
        assertEquals((0.5f - 0.485f) / 0.229f, out[0], 1e-7);
        assertEquals((0.5f - 0.456f) / 0.224f, out[16], 1e-7);
        assertEquals((0.5f - 0.406f) / 0.225f, out[47], 1e-7);
        assertTrue(assertThrows(ZooException.class, () -> new ImageTransform(Preprocessing.imagenet(4, 4), 1, 4, 4)).getMessage()
                .contains("normalises 3 channel(s) but it is built for 1"));
    }
}
