package dev.cnnzoo.cli;

import static dev.cnnzoo.cli.ZooCommandTest.zoo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.Counterpart;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Parameter;
import dev.cnnzoo.testkit.Conformance;
import dev.cnnzoo.testkit.Counterparts;
import dev.cnnzoo.testkit.Python;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The counterparts the zoo names are the zoo's networks, and the Python tools build them from the
 * zoo's metadata alone: every torchvision counterpart, built by torchvision, has the zoo model's
 * state-dict names and shapes; tools/export_torchvision.py exports one through {@code zoo info
 * --json} and answers bad input in one line; {@code zoo bench --vs-pytorch} times one.
 */
@Conformance
class CounterpartConformanceTest {
    private static final ModelZoo ZOO = ModelZoo.load();
    private static final Path TOOL = Path.of("..", "tools", "export_torchvision.py").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    @Test
    void everyTorchvisionCounterpartHasTheZoosParameterNamesAndShapes() throws IOException {
        List<String> ids = ZOO.list().stream().filter(i -> i.counterpart(Counterpart.Library.TORCHVISION).isPresent())
                .map(ModelInfo::id).toList();
        assertTrue(ids.size() >= 16, "alexnet-tv, googlenet-bn, inception-v3, five ResNets, eight VGGs: " + ids);
        String out = Python.runResource(getClass(), "counterpart_parameters.py",
                Counterparts.byId(ZOO, Counterpart.Library.TORCHVISION, ids.toArray(String[]::new)));
        ObjectMapper json = new ObjectMapper();
        List<String> seen = new ArrayList<>();
        for (String line : out.lines().filter(l -> l.startsWith("{")).toList()) {
            JsonNode n = json.readTree(line);
            String id = n.get("model").asText();
            Map<String, String> torchvision = new TreeMap<>();
            n.get("parameters").fields().forEachRemaining(e -> torchvision.put(e.getKey(), e.getValue().toString()));
            Map<String, String> zoo = new TreeMap<>();
            for (Parameter p : ZOO.build(id).graph().parameters().values()) {
                zoo.put(p.name(), Arrays.toString(p.shape().dims()).replace(" ", ""));
            }
            assertEquals(torchvision, zoo, id + ": torchvision's state dict against the zoo's parameters");
            seen.add(id);
        }
        assertEquals(ids, seen);
    }

    record Run(int exit, String out, String err) {
    }

    /** The tool as a user runs it, asking this test's class path for `zoo info` (the launcher would build the tree). */
    private Run tool(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Python.INTERPRETER.toString(), TOOL.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        pb.environment().put("ZOO", java + " -Xmx2g -cp " + System.getProperty("java.class.path") + " " + Zoo.class.getName());
        pb.environment().put("TORCH_HOME", dir.resolve("torch-home").toString());  // no cached weights
        pb.environment().put("https_proxy", "http://127.0.0.1:9");               // and no network, whatever the machine has
        Path err = dir.resolve("tool.err");
        Process p = pb.redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(10, TimeUnit.MINUTES), "export_torchvision.py finished");
        return new Run(p.exitValue(), out, Files.readString(err));
    }

    @Test
    void exportTorchvisionTakesTheCounterpartFromTheZoo() throws Exception {
        Path onnx = dir.resolve("alexnet-tv.onnx");
        Run r = tool("alexnet-tv", onnx.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("torchvision") && r.out().contains(" alexnet, opset 17"), r.out());
        ZooCommandTest.Result run = zoo("run", onnx.toString(), "--batch", "1");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("3×224×224") || run.out().contains("3x224x224"), run.out());
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.filter(f -> f.getFileName().toString().endsWith(".tmp")).toList(), "no temporary file left");
        }
    }

    @Test
    void exportTorchvisionAnswersBadInputInOneLine() throws Exception {
        Path out = dir.resolve("x.onnx");
        Run offline = tool("resnet18", out.toString(), "--weights", "DEFAULT");
        assertEquals(1, offline.exit());
        assertEquals(1, offline.err().strip().lines().count(), offline.err());
        assertTrue(offline.err().startsWith("export_torchvision.py: cannot download torchvision's resnet18 weights DEFAULT from https://"),
                offline.err());

        Run unknownWeights = tool("resnet18", out.toString(), "--weights", "IMAGENET9K");
        assertEquals("export_torchvision.py: torchvision's resnet18 has no weights IMAGENET9K; it has IMAGENET1K_V1, DEFAULT",
                unknownWeights.err().strip());
        assertEquals(1, unknownWeights.exit());

        Run unknownId = tool("resnet19", out.toString());
        assertEquals(2, unknownId.exit(), "the zoo's own exit status for an unknown id");
        assertTrue(unknownId.err().strip().startsWith("zoo: unknown model 'resnet19'; did you mean resnet18"), unknownId.err());
        assertEquals(1, unknownId.err().strip().lines().count(), unknownId.err());

        Run timmOnly = tool("inception-v4", out.toString());
        assertEquals(1, timmOnly.exit());
        assertEquals("export_torchvision.py: inception-v4 has no torchvision counterpart; it has timm inception_v4", timmOnly.err().strip());

        Run noFolder = tool("alexnet-tv", dir.resolve("missing/x.onnx").toString());
        assertEquals(1, noFolder.exit());
        assertEquals("export_torchvision.py: the output's folder " + dir.resolve("missing") + " does not exist", noFolder.err().strip());
        assertFalse(Files.exists(out));
    }

    @Test
    void benchVsPyTorchTimesTheCounterpartTheZooNames() {
        ZooCommandTest.Result r = zoo("bench", "alexnet-tv", "--vs-pytorch", "--batch", "1", "--warmup", "0", "--iters", "2",
                "--threads", "1", "--format", "json", "--no-progress");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("\"pytorch\""), r.out());
        ZooCommandTest.Result none = zoo("bench", "zfnet", "--vs-pytorch", "--batch", "1", "--warmup", "0", "--iters", "1",
                "--threads", "1", "--no-progress");
        assertEquals(2, none.exit(), none.err());
        assertTrue(none.err().startsWith("zoo: no PyTorch counterpart of zfnet"), none.err());
    }
}
