package dev.cnnzoo.runtime.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.ZooException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFilesTest {
    @TempDir
    Path dir;

    private Path png(String name, BufferedImage img) throws IOException {
        Path f = dir.resolve(name);
        ImageIO.write(img, "png", f.toFile());
        return f;
    }

    @Test
    void greySamplesAreReadAsStoredNotColourConverted() throws IOException {
        BufferedImage grey = new BufferedImage(3, 2, BufferedImage.TYPE_BYTE_GRAY);
        grey.getRaster().setSample(1, 0, 0, 128);
        grey.getRaster().setSample(2, 1, 0, 255);
        ImageFiles.Decoded d = ImageFiles.read(png("grey.png", grey), 1);
        assertEquals(128 / 255f, d.planes().get(0, 0, 1), "as Pillow and the IDX reader see it (getRGB would give ~186)");
        assertEquals(1f, d.planes().get(0, 1, 2));
        assertEquals("", d.conversion());
        ImageFiles.Decoded rgb = ImageFiles.read(dir.resolve("grey.png"), 3);
        for (int c = 0; c < 3; c++) {
            assertEquals(128 / 255f, rgb.planes().get(c, 0, 1));
        }
        assertEquals("grey replicated to RGB", rgb.conversion());
    }

    @Test
    void colourToGreyIsLumaAndTransparencyIsDropped() throws IOException {
        BufferedImage rgba = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
        rgba.setRGB(0, 0, 0x00_ff_00_00);                // fully transparent red
        rgba.setRGB(1, 0, 0x80_10_20_30);
        Path f = png("rgba.png", rgba);
        ImageFiles.Decoded d = ImageFiles.read(f, 3);
        assertEquals(1f, d.planes().get(0, 0, 0), "alpha is dropped, as Pillow's convert('RGB') does");
        assertEquals(0x20 / 255f, d.planes().get(1, 0, 1));
        assertEquals(0x30 / 255f, d.planes().get(2, 0, 1));
        assertEquals("transparency dropped", d.conversion());
        ImageFiles.Decoded grey = ImageFiles.read(f, 1);
        assertEquals(0.299f, grey.planes().get(0, 0, 0), 1e-6);
        assertEquals("transparency dropped, colour converted to grey (ITU-R 601 luma)", grey.conversion());
    }

    @Test
    void whatIsNotAnImageIsNamed() throws IOException {
        Path text = dir.resolve("notes.png");
        Files.writeString(text, "not a picture");
        assertEquals(text + " is not an image the zoo can decode (JPEG, PNG, BMP, GIF or TIFF)",
                assertThrows(ZooException.class, () -> ImageFiles.read(text, 3)).getMessage());
        assertEquals("image " + dir.resolve("absent.jpg") + " does not exist",
                assertThrows(ZooException.class, () -> ImageFiles.read(dir.resolve("absent.jpg"), 3)).getMessage());
        assertTrue(assertThrows(ZooException.class, () -> ImageFiles.read(dir, 3)).getMessage().endsWith("is a folder, not an image"));
        assertTrue(assertThrows(ZooException.class, () -> ImageFiles.read(text, 4)).getMessage().contains("1 (grey) or 3 (RGB)"));
    }

    @Test
    void foldersExpandToTheirImagesSorted() throws IOException {
        BufferedImage img = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Path sub = Files.createDirectory(dir.resolve("images"));
        ImageIO.write(img, "png", sub.resolve("b.png").toFile());
        ImageIO.write(img, "jpg", sub.resolve("a.JPG").toFile());
        Files.writeString(sub.resolve("readme.txt"), "skipped");
        Path single = dir.resolve("c.bmp");
        assertEquals(List.of(sub.resolve("a.JPG"), sub.resolve("b.png"), single), ImageFiles.expand(List.of(sub, single)));
        Path empty = Files.createDirectory(dir.resolve("empty"));
        assertTrue(assertThrows(ZooException.class, () -> ImageFiles.expand(List.of(empty))).getMessage().contains("holds no images"));
    }

    /** A test resource copied to the temporary folder. */
    private Path resource(String name) throws IOException {
        Path f = dir.resolve(name);
        try (var in = ImageFilesTest.class.getResourceAsStream(name)) {
            Files.copy(in, f);
        }
        return f;
    }

    /** A JPEG of a smooth colour image, cut to {@code fraction} of its bytes when below 1. */
    private Path jpeg(String name, double fraction) throws IOException {
        BufferedImage img = new BufferedImage(128, 96, BufferedImage.TYPE_INT_RGB);
        java.util.SplittableRandom noise = new java.util.SplittableRandom(7);
        for (int y = 0; y < 96; y++) {
            for (int x = 0; x < 128; x++) {
                img.setRGB(x, y, (x * 2) << 16 | (y * 2) << 8 | noise.nextInt(256));      // mostly entropy-coded data, little header
            }
        }
        Path f = dir.resolve(name);
        ImageIO.write(img, "jpg", f.toFile());
        byte[] bytes = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(bytes, (int) (bytes.length * fraction)));
        return f;
    }

    /** The 0-255 values of the pixel at (x, y). */
    private static int[] pixel(ImageFiles.Decoded d, int x, int y) {
        int[] v = new int[d.planes().channels()];
        for (int c = 0; c < v.length; c++) {
            v[c] = Math.round(255 * d.planes().get(c, y, x));
        }
        return v;
    }

    @Test
    void aTruncatedJpegIsRefusedUnlessAskedForAndThenNoted() throws IOException {
        Path whole = jpeg("whole.jpg", 1);
        assertEquals("", ImageFiles.read(whole, 3).conversion());
        Path cut = jpeg("cut.jpg", 0.6);
        ZooException e = assertThrows(ZooException.class, () -> ImageFiles.read(cut, 3));
        assertTrue(e.getMessage().startsWith(cut + " is truncated or corrupt ("), e.getMessage());
        assertTrue(e.getMessage().contains("Premature end") || e.getMessage().contains("premature end"), e.getMessage());
        ImageFiles.Decoded d = ImageFiles.read(cut, 3, ImageFiles.Damaged.DECODE_WITH_WARNING);
        assertTrue(d.conversion().startsWith("damaged, decoded anyway: "), d.conversion());
        assertEquals(128, d.planes().width());
        // What the decoder made up is grey: the last row holds no image.
        assertEquals(List.of(128, 128, 128), java.util.Arrays.stream(pixel(d, 120, 95)).boxed().toList());
    }

    @Test
    void aTruncatedPngIsRefused() throws IOException {
        BufferedImage img = new BufferedImage(40, 40, BufferedImage.TYPE_INT_RGB);
        Path f = png("cut.png", img);
        byte[] bytes = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        String msg = assertThrows(ZooException.class, () -> ImageFiles.read(f, 3)).getMessage();
        assertTrue(msg.startsWith(f + " cannot be decoded as an image (damaged or truncated?)"), msg);
    }

    /** The inks of make_cmyk_fixtures.py's patches as RGB by the naive conversion R = (255 − C)(255 − K)/255. */
    private static final int[][] PATCH_RGB = {{255, 0, 0}, {0, 255, 0}, {127, 127, 127}, {167, 111, 55}};

    private static void assertPatches(ImageFiles.Decoded d) {
        for (int i = 0; i < 4; i++) {
            int[] got = pixel(d, 16 * (i % 2) + 8, 16 * (i / 2) + 8);
            for (int c = 0; c < 3; c++) {
                assertTrue(Math.abs(got[c] - PATCH_RGB[i][c]) <= 3, "patch " + i + ": " + java.util.Arrays.toString(got) + " for "
                        + java.util.Arrays.toString(PATCH_RGB[i]));
            }
        }
    }

    @Test
    void cmykYcckAndProfiledJpegsBecomeTheRgbOfTheirInks() throws IOException {
        ImageFiles.Decoded cmyk = ImageFiles.read(resource("patches-cmyk.jpg"), 3);
        assertPatches(cmyk);
        assertEquals("CMYK converted to RGB as Pillow does (inverted Adobe inks)", cmyk.conversion());

        ImageFiles.Decoded ycck = ImageFiles.read(FourChannelJpegs.ycck(dir.resolve("patches-cmyk.jpg"), dir.resolve("ycck.jpg")), 3);
        assertPatches(ycck);
        assertEquals("YCCK converted to RGB as Pillow does (inverted Adobe inks)", ycck.conversion());

        ImageFiles.Decoded icc = ImageFiles.read(resource("patches-cmyk-icc.jpg"), 3);
        assertPatches(icc);
        assertEquals("CMYK converted to RGB as Pillow does (inverted Adobe inks; the embedded ICC profile not applied)", icc.conversion());

        ImageFiles.Decoded grey = ImageFiles.read(dir.resolve("patches-cmyk.jpg"), 1);
        assertEquals(Math.round(0.299f * 167 + 0.587f * 111 + 0.114f * 55), pixel(grey, 24, 24)[0], 2);
        assertTrue(grey.conversion().endsWith("colour converted to grey (ITU-R 601 luma)"), grey.conversion());
    }
}
