package dev.cnnzoo.cli;

import static dev.cnnzoo.cli.ZooCommandTest.zoo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.runtime.bench.Machine;
import dev.cnnzoo.training.data.SyntheticData;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** zoo quantize and export --int8, and the INT8 file through eval, predict and bench. */
class QuantizeCommandTest {
    @TempDir
    Path dir;

    @Test
    void quantizedFileGoesThroughEvalPredictAndBench() throws IOException {
        Path data = SyntheticData.idx(dir.resolve("idx"), 64, 32, 1);
        Path int8 = dir.resolve("fashion-int8.onnx");
        ZooCommandTest.Result q = zoo("quantize", "fashion-cnn", "--weights", "pretrained", "--calibrate", data.toString(), "--samples", "32",
                "-o", int8.toString(), "--threads", "1", "--no-progress");
        assertEquals(0, q.exit(), q.err());
        assertTrue(q.out().contains("calibrated with minmax on 32 images drawn from"), q.out());
        assertTrue(q.out().contains("quantized: 5 Conv, 1 Flatten, 3 Gemm, 3 MaxPool"), q.out());
        assertTrue(q.out().contains("ONNX Runtime runs it as: 3 NhwcMaxPool, 3 QGemm, 5 QLinearConv; QuantizeLinear 1, DequantizeLinear 0 left unfused"), q.out());
        assertTrue(Files.size(int8) < 1_600_000, "int8 weights: about a quarter of the float file's 5.7 MB");

        ZooCommandTest.Result eval = zoo("eval", int8.toString(), "--data", data.toString());
        assertEquals(0, eval.exit(), eval.err());
        assertTrue(eval.out().startsWith("fashion-int8.onnx on ") && eval.out().contains("accuracy") && eval.out().contains("(32 images)"),
                eval.out());

        Path png = dir.resolve("shirt.png");
        ImageIO.write(new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY), "png", png.toFile());
        ZooCommandTest.Result predict = zoo("predict", int8.toString(), png.toString(), "--top", "2");
        assertEquals(0, predict.exit(), predict.err());
        assertTrue(predict.out().startsWith("fashion-int8.onnx; "), predict.out());
        assertTrue(predict.out().contains("1. "), predict.out());

        Path fp32 = dir.resolve("fashion.onnx");
        assertEquals(0, zoo("export", "fashion-cnn", "-o", fp32.toString()).exit());
        ZooCommandTest.Result bench = zoo("bench", int8.toString(), "--vs", fp32.toString(), "--iters", "2", "--warmup", "1", "--threads", "1",
                "--no-progress");
        assertEquals(0, bench.exit(), bench.err());
        assertTrue(bench.out().lines().anyMatch(l -> l.startsWith("fashion-int8.onnx") && l.contains(" 1 ")), bench.out());
        assertTrue(bench.out().lines().anyMatch(l -> l.contains("vs fashion.onnx")), bench.out());
        assertTrue(bench.out().lines().anyMatch(l -> l.matches("  fashion-int8.onnx is [0-9.]+× as fast as fashion.onnx at batch 1 .*")), bench.out());
        assertTrue(bench.out().contains("CPU features: ") || !Files.readString(Path.of("/proc/cpuinfo")).contains(" avx2"), bench.out());
    }

    @Test
    void exportInt8WritesTheSameKindOfFile() throws IOException {
        Path data = SyntheticData.idx(dir.resolve("idx"), 16, 8, 2);
        Path out = dir.resolve("lenet5-int8.onnx");
        ZooCommandTest.Result r = zoo("export", "lenet5", "--int8", "--calibrate", data.toString(), "--samples", "8", "-o", out.toString(),
                "--no-progress");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("left in float:") && r.out().contains("Tanh: ONNX Runtime has no integer tanh"), r.out());
        assertTrue(Files.isRegularFile(out));
        ZooCommandTest.Result without = zoo("export", "lenet5", "--calibrate", data.toString(), "-o", dir.resolve("x.onnx").toString());
        assertEquals(2, without.exit());
        assertEquals("zoo: --calibrate and the other quantization options need --int8", without.err().strip());
    }

    @Test
    void badCalibrationDataIsOneLineAndLeavesNoFile() throws IOException {
        Path idx = SyntheticData.idx(dir.resolve("idx"), 20, 4, 3);
        Path cifar = SyntheticData.cifar(dir.resolve("cifar"), 4, 3);
        Path out = dir.resolve("out.onnx");
        expectError("zoo: ", "has 1-channel images but resnet18 takes 3 channel(s)",
                "quantize", "resnet18", "--calibrate", idx.toString(), "-o", out.toString());
        expectError("zoo: ", "has 3-channel images but fashion-cnn takes 1 channel(s)",
                "quantize", "fashion-cnn", "--calibrate", cifar.toString(), "-o", out.toString());
        expectError("zoo: ", "holds 28×28 images but fashion-cnn takes 32×32",
                "quantize", "fashion-cnn", "--input", "1x32x32", "--calibrate", idx.toString(), "-o", out.toString());
        expectError("zoo: ", "holds 20 images, too few for the 100 calibration samples asked for (ask for at most 20)",
                "quantize", "lenet5", "--calibrate", idx.toString(), "--samples", "100", "-o", out.toString());
        expectError("zoo: no layer of the model is named fc9", "",
                "quantize", "fashion-cnn", "--calibrate", idx.toString(), "--samples", "4", "--keep-fp32", "fc9", "-o", out.toString());
        expectError("zoo: quantization needs calibration images: --calibrate DATA", "",
                "quantize", "fashion-cnn", "-o", out.toString());
        expectError("zoo: unknown calibration method 'kl'", "",
                "quantize", "fashion-cnn", "--calibrate", idx.toString(), "--method", "kl", "-o", out.toString());
        expectError("zoo: dataset folder", "does not exist",
                "quantize", "fashion-cnn", "--calibrate", dir.resolve("nowhere").toString(), "-o", out.toString());
        assertFalse(Files.exists(out), "nothing is written when quantization fails");

        Path once = dir.resolve("once.onnx");
        ZooCommandTest.Result first = zoo("quantize", "lenet5", "--calibrate", idx.toString(), "--samples", "4", "-o", once.toString());
        assertEquals(0, first.exit(), first.err());
        // the weights' width follows the CPU unless asked: 7 bits where int8 pairs saturate (x86 without VNNI)
        assertTrue(first.out().contains(Machine.int8PairsSaturate() ? "weights in 7 bits (±63)" : "weights in 8 bits"), first.out());
        Path eight = dir.resolve("eight.onnx");
        ZooCommandTest.Result asked = zoo("quantize", "lenet5", "--calibrate", idx.toString(), "--samples", "4", "--no-reduce-range",
                "-o", eight.toString());
        assertTrue(asked.out().contains("weights in 8 bits"), asked.out());
        assertTrue(zoo("quantize", "lenet5", "--calibrate", idx.toString(), "--samples", "4", "--reduce-range", "-o", eight.toString())
                .out().contains("weights in 7 bits (±63)"));
        expectError("zoo: the model is quantized already (it has ", "; quantize its float model instead",
                "quantize", once.toString(), "--calibrate", idx.toString(), "-o", out.toString());
        assertFalse(Files.exists(out));
        try (Stream<Path> left = Files.list(dir)) {
            assertTrue(left.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary file is left behind");
        }
    }

    private static void expectError(String start, String contains, String... args) {
        ZooCommandTest.Result r = zoo(args);
        assertEquals(2, r.exit(), r.out() + r.err());
        String line = r.err().strip();
        assertEquals(1, line.lines().count(), "one line: " + line);
        assertTrue(line.startsWith(start) && line.contains(contains), line);
    }
}
