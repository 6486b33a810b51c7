package dev.cnnzoo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.testkit.Conformance;
import dev.cnnzoo.testkit.OnnxChecker;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ZooCommandTest {
    @TempDir
    Path dir;

    record Result(int exit, String out, String err) {
    }

    static Result zoo(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Zoo.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    @Test
    void listShowsTheLeNetModelsWithCounts() {
        Result r = zoo("list");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("lenet5 ") && l.contains("60,000") && l.contains("1×28×28")), r.out());
        assertTrue(r.out().contains("fashion-cnn") && r.out().contains("1,413,834"), r.out());
        Result glob = zoo("list", "lenet5*");
        assertEquals(2, glob.out().lines().count() - 1, glob.out());
        Result none = zoo("list", "nothing*");
        assertEquals(1, none.exit());
    }

    @Test
    void infoShowsMetadataAndTheLayerTable() {
        Result r = zoo("info", "lenet5", "--depth", "1");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("https://doi.org/10.1109/5.726791"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("c3 ") && l.contains("N×16×10×10") && l.contains("1,516")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("total") && l.contains("60,000")), r.out());
    }

    @Test
    void unknownModelIsOneLineOnStderrWithoutAStackTrace() {
        Result r = zoo("info", "lenet6");
        assertEquals(2, r.exit());
        assertEquals("zoo: unknown model 'lenet6'; did you mean lenet5?", r.err().strip());
        assertFalse(r.err().contains("at dev.cnnzoo"), r.err());
        Result verbose = zoo("info", "lenet6", "--verbose");
        assertTrue(verbose.err().contains("at dev.cnnzoo"), "--verbose shows the stack trace");
    }

    @Test
    void badValuesAreNamed() {
        assertEquals("zoo: classes must be at least 1, got 0", zoo("export", "lenet5", "-o", dir.resolve("x.onnx").toString(),
                "--classes", "0").err().strip());
        assertTrue(zoo("export", "lenet5", "-o", dir.resolve("x.onnx").toString(), "--input", "1x8").err()
                .contains("--input needs 3 numbers"));
        assertTrue(zoo("run", "lenet5", "--weights", dir.resolve("missing.safetensors").toString()).err()
                .contains("does not exist"));
        assertFalse(Files.exists(dir.resolve("x.onnx")), "nothing half-written is left");
    }

    @Test
    void exportThenRunTheFile() {
        Path file = dir.resolve("fashion.onnx");
        Result exported = zoo("export", "fashion-cnn", "-o", file.toString(), "--classes", "5");
        assertEquals(0, exported.exit(), exported.err());
        assertTrue(Files.isRegularFile(file));
        Result run = zoo("run", file.toString(), "--batch", "3", "--threads", "1");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("output logits       3×5"), run.out());
        assertTrue(run.out().contains("image 2:"), run.out());
    }

    @Test
    void runAZooModelById() {
        Result r = zoo("run", "lenet5-modern", "--batch", "2");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("output logits       2×10"), r.out());
    }

    @Conformance
    @Test
    void exportedFilePassesTheChecker() {
        Path file = dir.resolve("lenet5.onnx");
        assertEquals(0, zoo("export", "lenet5", "-o", file.toString(), "--opset", "13").exit());
        OnnxChecker.fullCheck(file);
    }
}
