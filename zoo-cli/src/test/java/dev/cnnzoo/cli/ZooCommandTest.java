package dev.cnnzoo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.testkit.Conformance;
import dev.cnnzoo.testkit.OnnxChecker;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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

    @Test
    void infoListsTheFeatureStages() {
        Result r = zoo("info", "resnet50", "--depth", "1");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("feature stages (--features-only outputs them; --out-indices picks some)\n"
                + "stage    layer   channels  reduction  output\n"
                + "stage1   act1          64          2  N×64×112×112\n"
                + "stage2   layer1       256          4  N×256×56×56\n"
                + "stage3   layer2       512          8  N×512×28×28\n"
                + "stage4   layer3      1024         16  N×1024×14×14\n"
                + "stage5   layer4      2048         32  N×2048×7×7\n"), r.out());
        Result picked = zoo("info", "resnet50", "--out-indices", "2,5", "--depth", "1");
        assertEquals(0, picked.exit(), picked.err());
        assertTrue(picked.out().contains("feature stages (the outputs)\n"
                + "stage    layer   channels  reduction  output\n"
                + "stage2   layer1       256          4  N×256×56×56\n"
                + "stage5   layer4      2048         32  N×2048×7×7\n"), picked.out());
        assertFalse(picked.out().contains("fc "), "no classifier: " + picked.out());
    }

    @Test
    void exportForTheFeaturesOnlyThenRunTheFile() throws java.io.IOException {
        Path file = dir.resolve("stages.onnx");
        Result exported = zoo("export", "lenet5-modern", "-o", file.toString(), "--out-indices", "2");
        assertEquals(0, exported.exit(), exported.err());
        var metadata = dev.cnnzoo.onnx.OnnxExporter.metadata(ai.onnx.proto.OnnxMl.ModelProto.parseFrom(Files.readAllBytes(file)));
        assertEquals("[{\"name\":\"stage2\",\"channels\":16,\"reduction\":4,\"layer\":\"pool2\"}]", metadata.get("zoo.feature_info"));
        Result run = zoo("run", file.toString(), "--batch", "2");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("output stage2       2×16×5×5"), run.out());
        assertFalse(run.out().contains("image 0:"), "no classes of feature maps: " + run.out());

        assertEquals("zoo: out index 9 is past the last feature stage of lenet5-modern, which has 2: stage1 (pool1, /2), stage2 (pool2, /4)",
                zoo("export", "lenet5-modern", "-o", dir.resolve("bad.onnx").toString(), "--out-indices", "1,9").err().strip());
        assertFalse(Files.exists(dir.resolve("bad.onnx")));
    }

    @Test
    void featureStagesAreNotRankedAsClasses() {
        Result stages = zoo("run", "lenet5-modern", "--features-only");
        assertEquals(0, stages.exit(), stages.err());
        assertTrue(stages.out().contains("output stage1       1×6×14×14") && stages.out().contains("output stage2       1×16×5×5"),
                stages.out());
        assertFalse(stages.out().contains("image 0:"), stages.out());
    }

    @Test
    void exportPrintsTheParametersTheFileHolds() throws IOException {
        Path file = dir.resolve("googlenet.onnx");
        Result r = zoo("export", "googlenet", "-o", file.toString());
        assertEquals(0, r.exit(), r.err());
        // The inference form drops GoogLeNet's two auxiliary classifiers: count what the file's initializers hold.
        dev.cnnzoo.api.Model model = dev.cnnzoo.api.ModelZoo.load().build("googlenet");
        java.util.Set<String> trainable = new java.util.HashSet<>();
        model.graph().parameters().values().stream().filter(dev.cnnzoo.graph.Parameter::trainable).forEach(p -> trainable.add(p.name()));
        long inFile = 0;
        for (var t : ai.onnx.proto.OnnxMl.ModelProto.parseFrom(Files.readAllBytes(file)).getGraph().getInitializerList()) {
            if (trainable.contains(t.getName())) {
                inFile += t.getDimsList().stream().mapToLong(Long::longValue).reduce(1, (a, b) -> a * b);
            }
        }
        assertEquals(6_998_552, inFile);
        assertTrue(r.out().contains("googlenet, opset 17, 6,998,552 parameters"), r.out());
        assertFalse(r.out().contains("13,378,280"), "not the training form's count, auxiliary classifiers included");
    }

    @Test
    void infoGivesThePreprocessingOfTheInputAsked() {
        Result r = zoo("info", "lenet5", "--input", "1x32x32");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("preprocessing  resize 32, crop 32,"), r.out());
        assertTrue(zoo("info", "resnet18", "--input", "3x112x112").out().contains("preprocessing  resize 128, crop 112,"));
    }

    @Test
    void runOnAHeadlessModelDescribesFeaturesNotClasses() {
        Result r = zoo("run", "lenet5-modern", "--no-top", "--batch", "2");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("image 0: ") && r.out().contains(" features, mean "), r.out());
        assertFalse(r.out().contains("class "), "no top classes of a feature vector: " + r.out());
        assertTrue(zoo("run", "lenet5-modern").out().contains("class "), "a classifier still gets its top classes");
    }

    @Test
    void listOrdersModelsByFamilyAndDepth() {
        List<String> ids = zoo("list").out().lines().skip(1).map(l -> l.split("\\s+")[0]).toList();
        for (String[] pair : new String[][] {{"resnet18", "resnet34"}, {"resnet34", "resnet101"}, {"resnet101", "resnet152"},
                {"preact-resnet164", "preact-resnet1001"}, {"vgg11", "vgg16"}, {"vgg16-bn", "vgg19"}, {"lenet5", "resnet18"}}) {
            assertTrue(ids.indexOf(pair[0]) >= 0 && ids.indexOf(pair[0]) < ids.indexOf(pair[1]), pair[0] + " before " + pair[1] + ": " + ids);
        }
    }

    @Test
    void expectedFailuresAreUserErrorsAndOnlyBugsAreInternal() {
        assertEquals("cannot use a file: no space left on the device (the disk is full)",
                Zoo.userMessage(new IOException("No space left on device"), "export"));
        assertEquals("cannot use /x: the file system is read-only",
                Zoo.userMessage(new java.io.UncheckedIOException(new java.nio.file.FileSystemException("/x", null, "Read-only file system")), "export"));
        assertEquals("cannot use /x: it is a folder, not a file",
                Zoo.userMessage(new java.nio.file.FileSystemException("/x", null, "Is a directory"), "export"));
        assertEquals("cannot use /x: permission denied", Zoo.userMessage(new java.nio.file.AccessDeniedException("/x"), "export"));
        assertTrue(Zoo.userMessage(new ArithmeticException("integer overflow"), "export").startsWith("a size is too large to compute"));
        assertTrue(Zoo.userMessage(new OutOfMemoryError("Java heap space"), "export").startsWith("out of memory: this needs more than"));
        assertTrue(Zoo.userMessage(new RuntimeException("wrapped", new java.nio.file.NoSuchFileException("/y")), "export").endsWith("it does not exist"));
        assertEquals(null, Zoo.userMessage(new NullPointerException(), "export"), "a bug stays an internal error");
        assertEquals(null, Zoo.userMessage(new ArithmeticException("/ by zero"), "export"), "a division by zero is a missing check, a bug");
        assertEquals(null, Zoo.userMessage(new IndexOutOfBoundsException("Index 12 out of bounds for length 10"), "export"));
    }

    @Test
    void usageErrorsAreOneLineNamingTheHelp() {
        Result r = zoo("export", "lenet5", "--opset", "x", "-o", dir.resolve("x.onnx").toString());
        assertEquals(2, r.exit());
        assertEquals("zoo: Invalid value for option '--opset': 'x' is not an int (zoo help export lists its options)", r.err().strip());
        assertEquals("zoo: Unknown option: '--nope' (zoo help run lists its options)", zoo("run", "lenet5", "--nope").err().strip());
    }

    @Test
    void pluginJarsThatCannotBeOpenedAreReported() throws Exception {
        Path notAJar = Files.writeString(dir.resolve("plugin.jar"), "not a zip");
        Path noProvider = dir.resolve("empty.jar");
        try (var jar = new java.util.jar.JarOutputStream(Files.newOutputStream(noProvider))) {
            jar.putNextEntry(new java.util.jar.JarEntry("readme.txt"));
        }
        String path = notAJar + ":" + dir.resolve("missing.jar") + ":" + noProvider + ":" + dir;
        List<String> problems = Zoo.pluginProblems(path);
        assertEquals(4, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("plugin jar " + notAJar + " (ZOO_PLUGINS) cannot be opened as a jar ("), problems.get(0));
        assertEquals("plugin jar " + dir.resolve("missing.jar") + " (ZOO_PLUGINS) does not exist; its models are not loaded", problems.get(1));
        assertTrue(problems.get(2).contains("registers no model provider"), problems.get(2));
        assertTrue(problems.get(3).contains("is a folder, not a jar"), problems.get(3));
        // As the launcher runs it: the warning comes first, the command still runs.
        ZooProcess.Result r = ZooProcess.run(ZooProcess.command("list", "lenet5"), java.util.Map.of("ZOO_PLUGINS", notAJar.toString()));
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().startsWith("zoo: warning: plugin jar " + notAJar + " (ZOO_PLUGINS) cannot be opened as a jar"), r.err());
        assertTrue(r.out().contains("lenet5"), r.out());
    }
}
