package dev.cnnzoo.runtime.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.testkit.Conformance;
import dev.cnnzoo.testkit.Python;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CMYK (Adobe transform 0), YCCK (transform 2) and ICC-profiled JPEGs decode to the RGB Pillow 9's
 * {@code convert("RGB")} gives, which torchvision's ImageFolder and recipes see; so does an RGB JPEG
 * with an embedded profile (whose samples are taken as stored). The JDK's own conversion does not
 * (a mean red of 174 for Pillow's 126 on a test card).
 */
@Conformance
class FourChannelJpegConformanceTest {
    @TempDir
    Path dir;

    private Path resource(String name) throws IOException {
        Path f = dir.resolve(name);
        try (InputStream in = getClass().getResourceAsStream(name)) {
            Files.copy(in, f);
        }
        return f;
    }

    @Test
    void decodedAsPillowConvertsThem() throws IOException {
        Path cmyk = resource("patches-cmyk.jpg");
        List<Path> files = List.of(cmyk, FourChannelJpegs.ycck(cmyk, dir.resolve("ycck.jpg")), resource("patches-cmyk-icc.jpg"),
                dir.resolve("rgb-icc.jpg"));
        List<String> args = new ArrayList<>(List.of("--make-rgb-icc", dir.resolve("rgb-icc.jpg").toString()));
        for (Path f : files) {
            args.add(f.toString());
            args.add(f + ".rgb");
        }
        String log = Python.runResource(getClass(), "pillow_rgb.py", args.toArray(String[]::new));
        assertTrue(log.contains("ycck.jpg CMYK 2"), "Pillow reads the YCCK file as YCCK: " + log);
        for (Path f : files) {
            ImageFiles.Decoded d = ImageFiles.read(f, 3);
            byte[] pillow = Files.readAllBytes(Path.of(f + ".rgb"));
            int w = d.planes().width();
            int plane = w * d.planes().height();
            assertEquals(3 * plane, pillow.length, f.toString());
            long sum = 0;
            int worst = 0;
            for (int i = 0; i < plane; i++) {
                for (int c = 0; c < 3; c++) {
                    int ours = Math.round(255 * d.planes().get(c, i / w, i % w));
                    int diff = Math.abs(ours - (pillow[3 * i + c] & 0xff));
                    sum += diff;
                    worst = Math.max(worst, diff);
                }
            }
            // The JDK's libjpeg and Pillow's libjpeg-turbo share the integer IDCT; YCC to RGB rounds its own way (±1).
            assertTrue(worst <= 2, f.getFileName() + ": largest difference " + worst + " (" + d.conversion() + ")");
            assertTrue(sum / (3.0 * plane) <= 0.5, f.getFileName() + ": mean difference " + sum / (3.0 * plane));
        }
    }
}
