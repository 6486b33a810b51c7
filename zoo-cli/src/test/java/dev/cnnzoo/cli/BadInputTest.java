package dev.cnnzoo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.training.data.SyntheticData;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.Weights;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input to every command that reads or writes: each is refused with exit status 2 and one line
 * on stderr naming the problem in the user's terms (never a Java exception, never "internal error",
 * no stack trace), and nothing is left behind: the working folder and the input files are exactly
 * as they were (no output, no temporary file).
 *
 * <p>In the arguments, {@code IN} stands for the folder of prepared inputs and {@code OUT} for the
 * case's own empty working folder.
 */
class BadInputTest {
    @TempDir
    static Path in;

    @TempDir
    Path out;

    record Case(String name, String message, String... args) {
        @Override
        public String toString() {
            return name;
        }
    }

    @BeforeAll
    static void inputs() throws IOException {
        ModelZoo zoo = ModelZoo.load();
        Model lenet = zoo.build("lenet5");
        Weights good = Weights.initial(lenet.graph(), 1);
        Safetensors.write(in.resolve("lenet5.safetensors"), good, Map.of());
        String first = lenet.graph().parameters().keySet().iterator().next();
        Tensor t = good.get(first);
        Safetensors.write(in.resolve("int.safetensors"), good.with(first, Tensor.ofLongs(t.shape(), new long[t.floats().length])), Map.of());
        float[] nan = t.floats().clone();
        nan[0] = Float.NaN;
        Safetensors.write(in.resolve("nan.safetensors"), good.with(first, Tensor.of(t.shape(), nan)), Map.of());
        raw(in.resolve("twice.safetensors"), "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8);
        raw(in.resolve("overflow.safetensors"), "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
                + "\"data_offsets\":[0,4]}}", 4);
        byte[] whole = Files.readAllBytes(in.resolve("lenet5.safetensors"));
        Files.write(in.resolve("cut.safetensors"), java.util.Arrays.copyOf(whole, whole.length - 100));
        Model lenet5Classes = zoo.build("lenet5", ModelConfig.builder().classes(5).build());
        Safetensors.write(in.resolve("lenet5-5classes.safetensors"), Weights.initial(lenet5Classes.graph(), 1), Map.of());

        Files.writeString(in.resolve("plain.txt"), "a plain file");
        Files.writeString(in.resolve("garbage.onnx"), "not a protobuf at all");
        Files.createDirectories(in.resolve("folder.onnx"));
        Files.createDirectories(in.resolve("empty"));
        fixedBatch(in.resolve("fixed.onnx"));

        BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        ImageIO.write(img, "png", in.resolve("digit.png").toFile());
        BufferedImage noise = new BufferedImage(128, 96, BufferedImage.TYPE_INT_RGB);
        java.util.SplittableRandom r = new java.util.SplittableRandom(1);
        for (int y = 0; y < 96; y++) {
            for (int x = 0; x < 128; x++) {
                noise.setRGB(x, y, r.nextInt(1 << 24));
            }
        }
        ImageIO.write(noise, "jpg", in.resolve("cut.jpg").toFile());
        byte[] jpeg = Files.readAllBytes(in.resolve("cut.jpg"));
        Files.write(in.resolve("cut.jpg"), java.util.Arrays.copyOf(jpeg, jpeg.length * 3 / 5));

        SyntheticData.idx(in.resolve("idx"), 64, 16, 5);
        ImageIO.write(img, "png", Files.createDirectories(in.resolve("oneclass/cat")).resolve("a.png").toFile());

        Files.writeString(in.resolve("bench.json"), "{\"tool\":\"cnn-zoo bench\",\"machine\":{\"cpu\":\"test\",\"logical_cores\":2},"
                + "\"settings\":{\"threads\":1},\"results\":[{\"model\":\"lenet5\",\"source\":\"zoo\",\"mode\":\"inference\",\"batch\":1,"
                + "\"runs\":2,\"millis\":[1.0,1.2],\"peak_resident_bytes\":null}]}");
    }

    private static void raw(Path file, String header, int data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        Files.write(file, ByteBuffer.allocate(8 + h.length + data).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).array());
    }

    /** lenet5 exported, then its batch dimension fixed to 1 (as a torch.onnx.export without dynamic_axes writes it). */
    private static void fixedBatch(Path file) throws IOException {
        Path dynamic = in.resolve("dynamic.onnx");
        assertEquals(0, ZooCommandTest.zoo("export", "lenet5", "-o", dynamic.toString()).exit());
        ModelProto.Builder m = ModelProto.parseFrom(Files.readAllBytes(dynamic)).toBuilder();
        for (ValueInfoProto.Builder v : m.getGraphBuilder().getInputBuilderList()) {
            v.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder().getDimBuilder(0).clearDimParam().setDimValue(1);
        }
        for (ValueInfoProto.Builder v : m.getGraphBuilder().getOutputBuilderList()) {
            v.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder().getDimBuilder(0).clearDimParam().setDimValue(1);
        }
        Files.write(file, m.build().toByteArray());
        // The same file with its first initializer given twice.
        m.getGraphBuilder().addInitializer(m.getGraphBuilder().getInitializer(0));
        Files.write(in.resolve("twice.onnx"), m.build().toByteArray());
        Files.delete(dynamic);
    }

    static Stream<Case> cases() {
        String w = "IN/lenet5.safetensors";
        List<Case> c = new ArrayList<>(List.of(
                // export
                new Case("export to a folder", "OUT is a folder; give the name of a file to write", "export", "lenet5", "-o", "OUT"),
                new Case("export to an empty path", "no file name given (the output path is empty)", "export", "lenet5", "-o", ""),
                new Case("export under a file", "IN/plain.txt is a file, not a folder", "export", "lenet5", "-o", "IN/plain.txt/x.onnx"),
                new Case("export opset 12", "opset 12 is outside the range the exporter writes, 13 to 21", "export", "lenet5", "-o",
                        "OUT/x.onnx", "--opset", "12"),
                new Case("export opset not a number", "Invalid value for option '--opset': 'x' is not an int", "export", "lenet5", "-o",
                        "OUT/x.onnx", "--opset", "x"),
                new Case("export two billion classes", "a size is too large to compute (integer overflow)", "export", "lenet5", "-o",
                        "OUT/x.onnx", "--classes", "2000000000"),
                new Case("export two billion classes of a plain network", "more than one tensor can (2,147,483,647)", "export",
                        "lenet5-modern", "-o", "OUT/x.onnx", "--classes", "2000000000"),
                new Case("export classes beyond an int", "'99999999999' is not an int", "export", "lenet5", "-o", "OUT/x.onnx",
                        "--classes", "99999999999"),
                new Case("export input too large to hold", "more than one tensor can (2,147,483,647)", "export", "lenet5", "-o",
                        "OUT/x.onnx", "--input", "1x100000x100000"),
                new Case("export input beyond an int", "--input has a size too large to count, 99999999999", "export", "lenet5", "-o",
                        "OUT/x.onnx", "--input", "1x99999999999x28"),
                new Case("export zero channels", "--input needs positive sizes", "export", "lenet5", "-o", "OUT/x.onnx", "--input", "0x28x28"),
                new Case("export integer weights", "holds int64 values; a network's weights are floating point", "export", "lenet5", "-o",
                        "OUT/x.onnx", "--weights", "IN/int.safetensors"),
                new Case("export NaN weights", "holds 1 NaN value(s) of 150 (the first at index 0); non-finite weights are refused unless "
                        + "explicitly allowed (--allow-non-finite accepts them)", "export", "lenet5", "-o", "OUT/x.onnx", "--weights",
                        "IN/nan.safetensors"),
                new Case("export a tensor named twice", "its header names a tensor twice ('w')", "export", "lenet5", "-o", "OUT/x.onnx",
                        "--weights", "IN/twice.safetensors"),
                new Case("export an overflowing shape", "whose element count overflows a 64-bit integer", "export", "lenet5", "-o",
                        "OUT/x.onnx", "--weights", "IN/overflow.safetensors"),
                new Case("export truncated weights", "IN/cut.safetensors is not a valid safetensors file", "export", "lenet5", "-o",
                        "OUT/x.onnx", "--weights", "IN/cut.safetensors"),
                new Case("export weights that are a folder", "weights file IN is a folder, not a file", "export", "lenet5", "-o",
                        "OUT/x.onnx", "--weights", "IN"),
                new Case("export dropout NaN", "dropout rate must be in [0, 1), got NaN", "export", "lenet5", "-o", "OUT/x.onnx",
                        "--dropout", "NaN"),
                // run
                new Case("run batch 0", "--batch must be at least 1, got 0", "run", "lenet5", "--batch", "0"),
                new Case("run a batch no tensor holds", "more than one tensor can hold (2,147,483,647 values)", "run", "lenet5", "--batch",
                        "100000000"),
                new Case("run a fixed-batch file with another batch", "IN/fixed.onnx takes a fixed batch of 1", "run", "IN/fixed.onnx",
                        "--batch", "4"),
                new Case("run a file that is not ONNX", "ONNX Runtime cannot load IN/garbage.onnx", "run", "IN/garbage.onnx"),
                new Case("run a missing file", "model file IN/missing.onnx does not exist", "run", "IN/missing.onnx"),
                new Case("run a folder", "model file IN/folder.onnx is a folder, not an ONNX file", "run", "IN/folder.onnx"),
                new Case("run with -1 threads", "--threads must be 0 (ONNX Runtime's choice) or more, got -1", "run", "lenet5",
                        "--threads", "-1"),
                new Case("run top 0", "--top must be at least 1, got 0", "run", "lenet5", "--top", "0"),
                new Case("run NaN weights", "holds 1 NaN value(s)", "run", "lenet5", "--weights", "IN/nan.safetensors"),
                // predict
                new Case("predict batch 0", "the batch size must be at least 1, got 0", "predict", "lenet5", "--weights", w, "IN/digit.png",
                        "--batch", "0"),
                new Case("predict a truncated JPEG", "IN/cut.jpg is truncated or corrupt", "predict", "lenet5", "--weights", w, "IN/cut.jpg"),
                new Case("predict an empty folder", "folder IN/empty holds no images", "predict", "lenet5", "--weights", w, "IN/empty"),
                new Case("predict missing labels", "labels file IN/missing.txt does not exist", "predict", "lenet5", "--weights", w,
                        "--labels", "IN/missing.txt", "IN/digit.png"),
                new Case("predict integer weights", "holds int64 values", "predict", "lenet5", "--weights", "IN/int.safetensors",
                        "IN/digit.png"),
                new Case("predict top 0", "--top must be at least 1, got 0", "predict", "lenet5", "--weights", w, "--top", "0", "IN/digit.png"),
                // eval
                new Case("eval batch 0", "the batch size must be at least 1, got 0", "eval", "lenet5", "--weights", w, "--data", "IN/idx",
                        "--batch", "0"),
                new Case("eval weights for other classes than the data's", "has 10 classes but lenet5 has 5 outputs", "eval", "lenet5",
                        "--weights", "IN/lenet5-5classes.safetensors", "--classes", "5", "--data", "IN/idx"),
                new Case("eval limit -1", "--limit must be 0 (every image) or more, got -1", "eval", "lenet5", "--weights", w, "--data",
                        "IN/idx", "--limit", "-1"),
                new Case("eval predictions to a folder", "OUT is a folder; give the name of a file to write", "eval", "lenet5", "--weights",
                        w, "--data", "IN/idx", "--predictions", "OUT"),
                new Case("eval unknown split", "--split must be test or train, got 'dev'", "eval", "lenet5", "--weights", w, "--data",
                        "IN/idx", "--split", "dev"),
                new Case("eval missing checkpoint", "no checkpoint at IN/nothing", "eval", "lenet5", "--checkpoint", "IN/nothing"),
                new Case("eval missing data", "dataset folder IN/nodata does not exist", "eval", "lenet5", "--weights", w, "--data",
                        "IN/nodata"),
                new Case("eval NaN weights", "holds 1 NaN value(s)", "eval", "lenet5", "--weights", "IN/nan.safetensors", "--data", "IN/idx"),
                // import
                new Case("import a missing file", "weights file IN/missing.onnx does not exist", "import", "lenet5", "IN/missing.onnx", "-o",
                        "OUT/w.safetensors"),
                new Case("import a file that is not ONNX", "IN/garbage.onnx is not an ONNX model", "import", "lenet5", "IN/garbage.onnx",
                        "-o", "OUT/w.safetensors"),
                new Case("import to a folder", "OUT is a folder; give the name of a file to write", "import", "lenet5", w, "-o", "OUT"),
                new Case("import to an empty path", "no file name given (the output path is empty)", "import", "lenet5", w, "-o", ""),
                new Case("import NaN weights", "holds 1 NaN value(s)", "import", "lenet5", "IN/nan.safetensors", "-o", "OUT/w.safetensors"),
                new Case("import integer weights", "holds int64 values", "import", "lenet5", "IN/int.safetensors", "-o", "OUT/w.safetensors"),
                new Case("import an initializer named twice", "IN/twice.onnx names the initializer 'c1.weight' twice", "import", "lenet5",
                        "IN/twice.onnx", "-o", "OUT/w.safetensors"),
                new Case("import a folder", "weights file IN is a folder", "import", "lenet5", "IN", "-o", "OUT/w.safetensors"),
                // bench
                new Case("bench batch 0", "--batch needs batch sizes of at least 1, got [0]", "bench", "lenet5", "--batch", "0"),
                new Case("bench iters 0", "--iters must be at least 1, got 0", "bench", "lenet5", "--iters", "0"),
                new Case("bench a batch no tensor holds", "more than one tensor can hold", "bench", "lenet5", "--batch", "100000000",
                        "--iters", "1", "--warmup", "0"),
                new Case("bench a fixed-batch file with another batch", "has a fixed batch of 1, so it cannot run batch 4", "bench",
                        "IN/fixed.onnx", "--batch", "4"),
                new Case("bench budget NaN", "the time budget must be 0 (none) or a number of seconds, got NaN", "bench", "lenet5",
                        "--budget", "NaN"),
                new Case("bench chart to a folder", "OUT is a folder; give the name of a file to write", "bench", "--from", "IN/bench.json",
                        "--chart", "OUT"),
                new Case("bench chart to a folder, before measuring", "OUT is a folder; give the name of a file to write", "bench", "lenet5",
                        "--chart", "OUT"),
                new Case("bench from a missing report", "--from IN/missing.json does not exist", "bench", "--from", "IN/missing.json"),
                new Case("bench from a file that is no report", "IN/plain.txt is not a readable zoo bench report", "bench", "--from",
                        "IN/plain.txt"),
                new Case("bench out to an empty path", "no file name given (the output path is empty)", "bench", "--from", "IN/bench.json",
                        "--out", ""),
                // train
                new Case("train 0 epochs", "epochs must be at least 1, got 0", "train", "lenet5", "--data", "IN/idx", "--out", "OUT/run",
                        "--epochs", "0"),
                new Case("train batch 0", "the batch size must be at least 1, got 0", "train", "lenet5", "--data", "IN/idx", "--out",
                        "OUT/run", "--batch", "0"),
                new Case("train learning rate NaN", "the learning rate must be a positive number, got NaN", "train", "lenet5", "--data",
                        "IN/idx", "--out", "OUT/run", "--lr", "NaN"),
                new Case("train negative learning rate", "the learning rate must be a positive number, got -1.0", "train", "lenet5", "--data",
                        "IN/idx", "--out", "OUT/run", "--lr", "-1"),
                new Case("train momentum 1.5", "momentum must be in [0, 1), got 1.5", "train", "lenet5", "--data", "IN/idx", "--out",
                        "OUT/run", "--optimizer", "sgd", "--momentum", "1.5"),
                new Case("train label smoothing 1", "label smoothing must be in [0, 1), got 1.0", "train", "lenet5", "--data", "IN/idx",
                        "--out", "OUT/run", "--label-smoothing", "1"),
                new Case("train step schedule every 0 epochs", "a step schedule decays every 1 or more epochs, got 0", "train", "lenet5",
                        "--data", "IN/idx", "--out", "OUT/run", "--schedule", "step:0:0.1"),
                new Case("train unknown schedule", "unknown schedule 'linear'", "train", "lenet5", "--data", "IN/idx", "--out", "OUT/run",
                        "--schedule", "linear"),
                new Case("train checkpoint every -1", "the checkpoint interval must be 0 (epoch ends only) or more steps, got -1", "train", "lenet5", "--data", "IN/idx", "--out", "OUT/run",
                        "--checkpoint-every", "-1"),
                new Case("train on one class", "IN/oneclass has one class folder with images ('cat'); a classifier needs at least two",
                        "train", "lenet5", "--data", "IN/oneclass", "--out", "OUT/run", "--input", "1x28x28"),
                new Case("train into a file", "the output folder IN/plain.txt exists and is not a folder", "train", "lenet5", "--data", "IN/idx", "--out",
                        "IN/plain.txt"),
                new Case("train on missing data", "dataset folder IN/nodata does not exist", "train", "lenet5", "--data", "IN/nodata", "--out",
                        "OUT/run"),
                new Case("train from NaN weights", "holds 1 NaN value(s)", "train", "lenet5", "--data", "IN/idx", "--out", "OUT/run",
                        "--weights", "IN/nan.safetensors"),
                new Case("train a batch larger than the data", "has 64 images, fewer than one batch of 100000000", "train", "lenet5",
                        "--data", "IN/idx", "--out", "OUT/run", "--batch", "100000000"),
                new Case("train with -1 threads", "--threads must be 0 (ONNX Runtime's choice) or more, got -1", "train", "lenet5",
                        "--data", "IN/idx", "--out", "OUT/run", "--threads", "-1"),
                // info
                new Case("info depth 0", "--depth must be at least 1, got 0", "info", "lenet5", "--depth", "0")));
        return c.stream();
    }

    /** Every file under {@code dir} with its size and modification time. */
    private static Map<String, String> snapshot(Path dir) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.toList()) {
                m.put(dir.relativize(p).toString(), Files.isDirectory(p) ? "folder" : Files.size(p) + " " + Files.getLastModifiedTime(p));
            }
        }
        return m;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void isRefusedInOneLineWithNothingLeftBehind(Case c) throws IOException {
        String[] args = java.util.Arrays.stream(c.args()).map(a -> a.replace("IN", in.toString()).replace("OUT", out.toString()))
                .toArray(String[]::new);
        String expected = c.message().replace("IN", in.toString()).replace("OUT", out.toString());
        Map<String, String> inputs = snapshot(in);
        Map<String, String> before = snapshot(out);

        ZooCommandTest.Result r = ZooCommandTest.zoo(args);

        assertEquals(2, r.exit(), "exit status; stdout: " + r.out() + "\nstderr: " + r.err());
        List<String> lines = r.err().strip().lines().toList();
        assertFalse(lines.isEmpty(), "a message on stderr");
        String last = lines.get(lines.size() - 1);
        assertTrue(lines.stream().anyMatch(l -> l.contains(expected)), "expected '" + expected + "' in:\n" + r.err());
        for (String l : lines) {
            assertTrue(l.startsWith("zoo: "), "every line is the zoo's own, no stack trace: " + r.err());
            assertFalse(l.contains("internal error") || l.matches(".*\\b(java|javax|ai\\.onnxruntime)\\.[a-z.]+[A-Z]\\w*(Exception|Error)\\b.*"),
                    "no internal error or Java exception named: " + l);
        }
        assertTrue(last.startsWith("zoo: "), last);
        assertEquals(before, snapshot(out), "nothing written to the working folder");
        assertEquals(inputs, snapshot(in), "the inputs untouched, no temporary file beside them");
    }
}
