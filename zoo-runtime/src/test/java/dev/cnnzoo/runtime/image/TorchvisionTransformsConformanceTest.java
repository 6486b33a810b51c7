package dev.cnnzoo.runtime.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.Preprocessing;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.testkit.Close;
import dev.cnnzoo.testkit.Conformance;
import dev.cnnzoo.testkit.Python;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.Weights;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The zoo's resize, crop and normalisation against torchvision 0.14's transforms on the same PNG
 * files: within 1e-5 of the float-tensor path ({@code Resize(antialias=True)}), and, for bilinear
 * resizing, within Pillow's 8-bit rounding of the classic PIL path, for downscaling, upscaling, portrait and landscape images,
 * grey, RGB and RGBA files, both the ImageNet and the Inception recipes, and bicubic resampling.
 */
@Conformance
class TorchvisionTransformsConformanceTest {
    @TempDir
    Path dir;

    private record Case(String name, Path file, Preprocessing pre, int channels) {
    }

    @Test
    void resizeCropAndNormaliseMatchTorchvision() throws IOException {
        List<Case> cases = new ArrayList<>();
        cases.add(new Case("landscape", png("landscape.png", noise(500, 375, BufferedImage.TYPE_INT_RGB, 1)), Preprocessing.imagenet(256, 224), 3));
        cases.add(new Case("portrait", png("portrait.png", gradient(300, 451, 2)), Preprocessing.inception(342, 299), 3));
        cases.add(new Case("small", png("small.png", noise(100, 80, BufferedImage.TYPE_INT_RGB, 3)), Preprocessing.imagenet(256, 224), 3));
        cases.add(new Case("grey-as-rgb", png("grey.png", noise(64, 48, BufferedImage.TYPE_BYTE_GRAY, 4)), Preprocessing.imagenet(256, 224), 3));
        cases.add(new Case("rgba", png("rgba.png", noise(333, 222, BufferedImage.TYPE_INT_ARGB, 5)), Preprocessing.imagenet(256, 224), 3));
        Preprocessing bicubic = new Preprocessing(256, 224, new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f}, "bicubic");
        cases.add(new Case("bicubic", dir.resolve("landscape.png"), bicubic, 3));
        Preprocessing fashion = Preprocessing.grey(28, 0.2860f, 0.3530f);
        cases.add(new Case("mnist-size", png("digit.png", noise(28, 28, BufferedImage.TYPE_BYTE_GRAY, 6)), fashion, 1));
        cases.add(new Case("grey-shrunk", png("grey-large.png", noise(56, 40, BufferedImage.TYPE_BYTE_GRAY, 7)), fashion, 1));
        cases.add(new Case("rgb-as-grey", dir.resolve("small.png"), fashion, 1));

        List<Map<String, Object>> spec = new ArrayList<>();
        for (Case c : cases) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", c.name());
            m.put("file", c.file().toString());
            m.put("resize", c.pre().resize());
            m.put("crop", c.pre().crop());
            m.put("channels", c.channels());
            m.put("interpolation", c.pre().interpolation());
            m.put("mean", c.pre().mean());
            m.put("std", c.pre().std());
            spec.add(m);
        }
        Path specFile = dir.resolve("cases.json");
        Files.writeString(specFile, new ObjectMapper().writeValueAsString(spec));
        Path outFile = dir.resolve("torchvision.safetensors");
        Python.runResource(getClass(), "torchvision_transforms.py", specFile.toString(), outFile.toString());
        Weights torch = Safetensors.read(outFile);

        for (Case c : cases) {
            int crop = c.pre().crop();
            float[] zoo = new ImageTransform(c.pre(), c.channels(), crop, crop).apply(ImageFiles.read(c.file(), c.channels()).planes());
            Tensor tensorPath = torch.get(c.name() + ".tensor");
            assertArrayEquals(new int[] {c.channels(), crop, crop}, tensorPath.shape().dims(), c.name());
            Close.assertAbsolute(c.name() + " vs torchvision's tensor transforms", tensorPath.floats(), zoo, 1e-5);
            System.out.printf("%-12s max |zoo − tensor path| %.2e, max |zoo − PIL path| %.2e%n", c.name(), maxDifference(tensorPath.floats(), zoo),
                    maxDifference(torch.get(c.name() + ".pil").floats(), zoo));
            if (c.pre().interpolation().equals("bilinear")) {
                // Pillow resizes in 8 bits, rounding after each pass: within one step of 1/255 before normalising.
                // (Its bicubic also clips the first pass's overshoot to [0, 255], so it can stray further.)
                float minStd = Float.MAX_VALUE;
                for (float s : c.pre().std()) {
                    minStd = Math.min(minStd, s);
                }
                Close.assertAbsolute(c.name() + " vs torchvision's PIL transforms", torch.get(c.name() + ".pil").floats(), zoo,
                        1.0 / 255 / minStd);
            }
        }
    }

    private static double maxDifference(float[] a, float[] b) {
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs((double) a[i] - b[i]));
        }
        return worst;
    }

    private Path png(String name, BufferedImage img) throws IOException {
        Path f = dir.resolve(name);
        ImageIO.write(img, "png", f.toFile());
        return f;
    }

    /** Independent random samples: the hardest case for resampling (all detail is at the pixel scale). */
    private static BufferedImage noise(int w, int h, int type, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        BufferedImage img = new BufferedImage(w, h, type);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (type == BufferedImage.TYPE_BYTE_GRAY) {
                    img.getRaster().setSample(x, y, 0, r.nextInt(256));
                } else {
                    img.setRGB(x, y, r.nextInt());
                }
            }
        }
        return img;
    }

    /** A smooth photograph-like image: gradients with a little noise. */
    private static BufferedImage gradient(int w, int h, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int red = Math.min(255, 255 * x / w + r.nextInt(8));
                int green = Math.min(255, 255 * y / h + r.nextInt(8));
                int blue = Math.min(255, 128 + (int) (100 * Math.sin(x * 0.05 + y * 0.03)) + r.nextInt(8));
                img.setRGB(x, y, red << 16 | green << 8 | blue);
            }
        }
        return img;
    }
}
