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
}
