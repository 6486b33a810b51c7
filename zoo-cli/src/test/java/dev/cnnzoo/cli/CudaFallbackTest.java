package dev.cnnzoo.cli;

import static dev.cnnzoo.cli.ZooCommandTest.zoo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.runtime.Devices;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.Weights;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every command that picks a device says how to get CUDA when the build lacks it, before doing any work. */
class CudaFallbackTest {
    @TempDir
    Path dir;

    @Test
    void everyDeviceChoiceSaysHowToGetCuda() throws IOException {
        assumeFalse(Devices.cudaAvailable(), "the -Pcuda build on a GPU machine has nothing to fall back from");
        Path image = dir.resolve("x.png");
        ImageIO.write(new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY), "png", image.toFile());
        Path w = dir.resolve("w.safetensors");
        Model m = ModelZoo.load().build("lenet5-modern");
        Safetensors.write(w, Weights.initial(m.graph(), 1), Map.of());
        List<List<String>> commands = List.of(
                List.of("run", "lenet5-modern", "--device", "cuda"),
                List.of("predict", "lenet5-modern", "--weights", w.toString(), image.toString(), "--device", "cuda"),
                List.of("bench", "lenet5-modern", "--device", "cuda"),
                List.of("bench", "lenet5-modern", "--train", "--device", "cuda"),
                List.of("train", "lenet5-modern", "--device", "cuda", "--limit", "64", "--epochs", "1", "--out", dir.resolve("run").toString()),
                List.of("eval", "lenet5-modern", "--weights", w.toString(), "--device", "cuda", "--limit", "8"));
        for (List<String> c : commands) {
            ZooCommandTest.Result r = zoo(c.toArray(String[]::new));
            assertEquals(2, r.exit(), c + ": " + r.err());
            String err = r.err().strip();
            assertTrue(err.startsWith("zoo: --device cuda needs ONNX Runtime's CUDA build") && err.contains("-Pcuda") && err.contains("--device cpu"),
                    c + ": " + err);
            assertEquals(1, err.lines().count(), c + ": one line, no stack trace");
        }
        assertFalse(Files.exists(dir.resolve("run").resolve("checkpoint")), "train stopped before writing anything");
    }
}
