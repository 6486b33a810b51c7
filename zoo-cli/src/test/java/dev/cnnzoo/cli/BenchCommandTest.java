package dev.cnnzoo.cli;

import static dev.cnnzoo.cli.ZooCommandTest.zoo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.testkit.Conformance;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** zoo bench's figures and files; speed itself is never asserted. */
class BenchCommandTest {
    @TempDir
    Path dir;

    private static JsonNode json(String text) throws IOException {
        return new ObjectMapper().readTree(text);
    }

    @Test
    void jsonHasPercentilesThroughputAndFlopsPerModelAndBatch() throws IOException {
        Path out = dir.resolve("results.json");
        Path chart = dir.resolve("chart.png");
        ZooCommandTest.Result r = zoo("bench", "lenet5-modern", "--batch", "1,3", "--warmup", "1", "--iters", "4", "--threads", "1",
                "--format", "json", "--out", out.toString(), "--chart", chart.toString());
        assertEquals(0, r.exit(), r.err());
        JsonNode doc = json(Files.readString(out));
        assertTrue(doc.get("machine").get("logical_cores").asInt() > 0);
        assertEquals(1, doc.get("settings").get("threads").asInt());
        assertEquals(2, doc.get("results").size());
        long macs = ModelZoo.load().summary("lenet5-modern").macs();
        int i = 0;
        for (int batch : new int[] {1, 3}) {
            JsonNode row = doc.get("results").get(i++);
            assertEquals("lenet5-modern", row.get("model").asText());
            assertEquals(batch, row.get("batch").asInt());
            assertEquals(4, row.get("runs").asInt());
            assertEquals(4, row.get("millis").size(), "warm-up runs are not recorded");
            JsonNode lat = row.get("latency_ms");
            assertTrue(lat.get("min").asDouble() <= lat.get("p50").asDouble() && lat.get("p50").asDouble() <= lat.get("p90").asDouble()
                    && lat.get("p90").asDouble() <= lat.get("p99").asDouble(), lat.toString());
            assertEquals(2 * macs, row.get("flops_per_image").asLong(), "two FLOPs per multiply-accumulate");
            double p50 = lat.get("p50").asDouble();
            assertEquals(batch * 1000 / p50, row.get("images_per_second").asDouble(), 1e-6);
            assertEquals(2.0 * macs * batch / (p50 * 1e6), row.get("gflops_per_second").asDouble(), 1e-9);
            assertTrue(row.get("peak_resident_bytes").asLong() > 0);
        }
        assertEquals(doc.get("results"), json(r.out()).get("results"), "stdout carries the same measurements as the file");
        byte[] png = Files.readAllBytes(chart);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(png, 4));
    }

    @Test
    void tableAndCsvCarryTheSameRows() {
        ZooCommandTest.Result table = zoo("bench", "lenet5*", "--iters", "2", "--warmup", "0", "--threads", "1");
        assertEquals(0, table.exit(), table.err());
        assertTrue(table.out().lines().anyMatch(l -> l.startsWith("lenet5 ") && l.contains(" 1 ")), table.out());
        assertTrue(table.out().lines().anyMatch(l -> l.startsWith("lenet5-modern ")), table.out());
        assertTrue(table.out().contains("2 FLOPs per multiply-accumulate"), "the convention is stated");
        ZooCommandTest.Result csv = zoo("bench", "lenet5", "--iters", "2", "--warmup", "0", "--threads", "1", "--format", "csv");
        List<String> lines = csv.out().lines().toList();
        assertTrue(lines.get(0).startsWith("model,source,ran,mode,batch,runs,p50_ms"), lines.get(0));
        assertTrue(lines.get(1).startsWith("lenet5,zoo,,inference,1,2,"), lines.get(1));
    }

    @Test
    void vsTimesAnotherFileInTheSameRunAndGivesTheRatio() throws IOException {
        Path file = dir.resolve("other.onnx");
        assertEquals(0, zoo("export", "lenet5-modern", "-o", file.toString()).exit());
        ZooCommandTest.Result r = zoo("bench", "lenet5-modern", "--vs", file.toString(), "--batch", "2", "--iters", "3", "--warmup", "1",
                "--threads", "1", "--format", "json");
        assertEquals(0, r.exit(), r.err());
        JsonNode rows = json(r.out()).get("results");
        assertEquals(2, rows.size());
        assertEquals("zoo", rows.get(0).get("source").asText());
        assertEquals("vs", rows.get(1).get("source").asText());
        assertEquals("other.onnx", rows.get(1).get("ran").asText());
        assertEquals(3, rows.get(1).get("runs").asInt());
        double p50Ratio = rows.get(0).get("latency_ms").get("p50").asDouble() / rows.get(1).get("latency_ms").get("p50").asDouble();
        assertEquals(p50Ratio, rows.get(1).get("zoo_p50_over_this_p50").asDouble(), 1e-9);
        // The reported ratio pairs the runs of each round: the median of zoo_i / file_i.
        double[] ratios = new double[3];
        for (int i = 0; i < 3; i++) {
            ratios[i] = rows.get(0).get("millis").get(i).asDouble() / rows.get(1).get("millis").get(i).asDouble();
        }
        java.util.Arrays.sort(ratios);
        assertEquals(ratios[1], rows.get(1).get("zoo_over_this").asDouble(), 1e-9);

        assertTrue(zoo("bench", "lenet5", "lenet5-modern", "--vs", file.toString()).err().contains("--vs compares one model"));
        Path wrongInput = dir.resolve("fashion.onnx");
        zoo("export", "fashion-cnn", "-o", wrongInput.toString(), "--input", "1x32x32");
        assertTrue(zoo("bench", "lenet5-modern", "--vs", wrongInput.toString(), "--iters", "1").err().contains("takes input FLOAT N×1×32×32"));
    }

    @Test
    void anIdIsThatModelEvenWhereAFamilySharesItsName() throws IOException {
        ZooCommandTest.Result r = zoo("bench", "alexnet", "--iters", "1", "--warmup", "0", "--threads", "1", "--format", "json",
                "--input", "3x67x67");
        assertEquals(0, r.exit(), r.err());
        JsonNode rows = json(r.out()).get("results");
        assertEquals(1, rows.size(), "the family alexnet has three models; the id one");
        assertEquals("alexnet", rows.get(0).get("model").asText());
    }

    @Test
    void anOnnxFileAlone() throws IOException {
        Path file = dir.resolve("m.onnx");
        zoo("export", "lenet5", "-o", file.toString());
        ZooCommandTest.Result r = zoo("bench", file.toString(), "--iters", "2", "--warmup", "0", "--format", "csv", "--threads", "1");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().lines().skip(1).findFirst().orElseThrow().startsWith("m.onnx,onnx,,inference,1,2,"), r.out());
    }

    @Test
    void trainingStepsThroughTheArtifacts() throws IOException {
        ZooCommandTest.Result r = zoo("bench", "lenet5-modern", "--train", "--batch", "8", "--iters", "2", "--warmup", "1", "--threads", "1",
                "--optimizer", "sgd", "--format", "json");
        assertEquals(0, r.exit(), r.err());
        JsonNode doc = json(r.out());
        JsonNode row = doc.get("results").get(0);
        assertEquals("train", row.get("mode").asText());
        assertEquals(6 * ModelZoo.load().summary("lenet5-modern").macs(), row.get("flops_per_image").asLong(),
                "a step counts as three forward passes");
        assertTrue(doc.get("settings").get("optimizer").asText().startsWith("sgd"), doc.get("settings").toString());
    }

    @Test
    void eachModelAtItsOwnBatchSizes() throws IOException {
        ZooCommandTest.Result r = zoo("bench", "lenet5-modern@2", "lenet5@3,1", "--batch", "5", "--iters", "1", "--warmup", "0", "--threads", "1",
                "--in-process", "--format", "json");
        assertEquals(0, r.exit(), r.err());
        List<String> rows = new java.util.ArrayList<>();
        json(r.out()).get("results").forEach(row -> rows.add(row.get("model").asText() + "@" + row.get("batch").asInt()));
        assertEquals(List.of("lenet5@1", "lenet5@3", "lenet5-modern@2"), rows, "in model order, each at its own sizes");
    }

    /** --profile writes ONNX Runtime's profile of the timed steps and where their time went; --recompute changes the artifacts, not the run. */
    @Test
    void aProfiledTrainingStep() throws IOException {
        Path profiles = dir.resolve("profiles");
        ZooCommandTest.Result r = zoo("bench", "lenet5-modern", "--train", "--batch", "4", "--iters", "2", "--warmup", "1", "--threads", "1",
                "--recompute", "--profile", profiles.toString(), "--format", "json");
        assertEquals(0, r.exit(), r.err());
        String report = Files.readString(profiles.resolve("lenet5-modern-b4.txt"));
        assertTrue(report.contains("backward") && report.contains("optimizer") && report.contains("costliest layers"), report);
        try (var files = Files.list(profiles)) {
            assertTrue(files.anyMatch(f -> f.getFileName().toString().matches("lenet5-modern-b4_.*\\.json")), "ONNX Runtime's own profile is kept");
        }
        assertEquals("recomputed after batch norms", json(r.out()).get("settings").get("activations").asText());
    }

    /** PyTorch's side reports its process's peak resident memory too, and the zoo's over it. */
    @Conformance
    @Test
    void pyTorchsPeakMemoryBesideTheZoos() throws IOException {
        ZooCommandTest.Result r = zoo("bench", "lenet5-modern", "--train", "--vs-pytorch", "--batch", "4", "--iters", "2", "--warmup", "1",
                "--threads", "1", "--format", "json");
        assertEquals(0, r.exit(), r.err());
        JsonNode rows = json(r.out()).get("results");
        JsonNode zooRow = rows.get(0);
        JsonNode torchRow = rows.get(1);
        assertEquals("pytorch", torchRow.get("source").asText());
        long torchPeak = torchRow.get("peak_resident_bytes").asLong();
        assertTrue(torchPeak > 50L << 20, "PyTorch's process holds at least Python and torch: " + torchPeak);
        assertEquals(zooRow.get("peak_resident_bytes").asDouble() / torchPeak, torchRow.get("zoo_peak_resident_over_this").asDouble(), 1e-9);
    }

    /**
     * PyTorch's row names the BLAS its dense layers called, and a run on the netlib reference BLAS
     * (Debian's default for torch, 30 times slower than OpenBLAS on the two-core CI machine) is warned
     * of, since it flatters the zoo. Both libraries are picked the way the dynamic linker would pick
     * an installed alternative, by the library path of PyTorch's process.
     */
    @Conformance
    @Test
    void pyTorchsBlasIsNamedAndTheReferenceOneWarnedOf() throws IOException, InterruptedException {
        Path reference = Path.of("/usr/lib/x86_64-linux-gnu/blas");
        Path openBlas = Path.of("/usr/lib/x86_64-linux-gnu/openblas-openmp");
        Assumptions.assumeTrue(Files.isDirectory(reference) && Files.isDirectory(openBlas),
                "Debian's libblas3 and libopenblas0-openmp (.ci/run installs both)");
        List<String> command = ZooProcess.command("bench", "lenet5-modern", "--vs-pytorch", "--batch", "2", "--warmup", "0", "--iters", "1",
                "--threads", "1", "--format", "json", "--no-progress");
        ZooProcess.Result slow = ZooProcess.run(command, Map.of("LD_LIBRARY_PATH", reference.toString()));
        assertEquals(0, slow.exit(), slow.err());
        assertTrue(json(slow.out()).get("results").get(1).get("ran").asText().endsWith(", 1t, reference BLAS"), slow.out());
        assertTrue(slow.err().contains("zoo: --vs-pytorch: " + PyTorchBench.REFERENCE_BLAS_WARNING), slow.err());

        ZooProcess.Result fast = ZooProcess.run(command, Map.of("LD_LIBRARY_PATH", openBlas.toString()));
        assertEquals(0, fast.exit(), fast.err());
        assertTrue(json(fast.out()).get("results").get(1).get("ran").asText().endsWith(", 1t, OpenBLAS"), fast.out());
        assertFalse(fast.err().contains("reference BLAS"), fast.err());
    }

    @Test
    void badRequestsAreNamed() {
        assertEquals("zoo: 'lenet5@0': after '@' give batch sizes of at least 1, e.g. resnet18@8 or resnet18@1,8",
                zoo("bench", "lenet5@0").err().strip());
        assertEquals("zoo: --batch needs batch sizes of at least 1, got [1, 0]", zoo("bench", "lenet5", "--batch", "1,0").err().strip());
        assertEquals("zoo: --format must be table, json or csv, got 'xml'", zoo("bench", "lenet5", "--format", "xml").err().strip());
        assertEquals("zoo: no model matches 'nothing*' (see zoo list)", zoo("bench", "nothing*").err().strip());
        assertEquals("zoo: unknown model 'lenet6'; did you mean lenet5?", zoo("bench", "lenet6").err().strip());
        assertEquals("zoo: ONNX file " + dir.resolve("absent.onnx") + " does not exist", zoo("bench", dir.resolve("absent.onnx").toString()).err().strip());
        assertTrue(zoo("bench", "lenet5", "--optimizer", "sgd").err().contains("apply to --train only"));
        assertTrue(zoo("bench", "lenet5", "--profile", dir.toString()).err().contains("apply to --train only"));
        assertTrue(zoo("bench", "lenet5", "--no-recompute").err().contains("apply to --train only"));
    }

    /** A saved report of these models and images per second, batch 1, in the order given. */
    private Path report(String name, Object... modelsAndRates) throws IOException {
        StringBuilder results = new StringBuilder();
        for (int i = 0; i < modelsAndRates.length; i += 2) {
            double ms = 1000 / ((Number) modelsAndRates[i + 1]).doubleValue();
            results.append(i == 0 ? "" : ",").append("{\"model\":\"").append(modelsAndRates[i]).append("\",\"source\":\"zoo\",")
                    .append("\"mode\":\"inference\",\"batch\":1,\"runs\":1,\"millis\":[").append(ms).append("],")
                    .append("\"peak_resident_bytes\":null}");
        }
        Path f = dir.resolve(name);
        Files.writeString(f, "{\"tool\":\"cnn-zoo bench\",\"machine\":{\"cpu\":\"Test CPU\",\"logical_cores\":2},"
                + "\"settings\":{\"threads\":2},\"results\":[" + results + "]}");
        return f;
    }

    @Test
    void tableAndChartOrderModelsByFamilyAndDepth() throws IOException {
        Path saved = report("scrambled.json", "resnet152", 9.3, "resnet18", 58.4, "vgg19", 5.3, "resnet101", 12.6, "lenet5", 8054, "resnet34", 29.2);
        Path chart = dir.resolve("chart.png");
        ZooCommandTest.Result r = zoo("bench", "--from", saved.toString(), "--chart", chart.toString());
        assertEquals(0, r.exit(), r.err());
        List<String> order = r.out().lines().skip(3).filter(l -> !l.startsWith("GFLOP") && !l.startsWith("wrote")).map(l -> l.split(" ")[0])
                .toList();
        assertEquals(List.of("lenet5", "resnet18", "resnet34", "resnet101", "resnet152", "vgg19"), order, r.out());
        assertTrue(Files.size(chart) > 1000);

        var c = BenchReport.fromJson(Files.readString(saved), "t").sorted(BenchCommand.modelOrder(ModelZoo.load())).chart();
        assertEquals(List.of("lenet5", "resnet18", "resnet34", "resnet101", "resnet152", "vgg19"),
                c.getSeriesMap().get("batch 1").getXData().stream().map(Object::toString).toList(), "the chart's bars in the same order");
        assertTrue(c.getStyler().isLabelsVisible(), "every bar carries its value");
        assertTrue(c.getStyler().isYAxisLogarithmic(), "8,054 against 5.3 img/s: three decades, a log axis with a line per decade");
        assertEquals(1.0, c.getStyler().getYAxisMin(), "bars start at the decade below the slowest, not at 10");

        var linear = BenchReport.fromJson(Files.readString(report("resnets.json", "resnet18", 58.4, "resnet152", 9.3)), "t").chart();
        assertFalse(linear.getStyler().isYAxisLogarithmic(), "resnet152 at a sixth of resnet18 should look a sixth");
        assertEquals(0.0, linear.getStyler().getYAxisMin());
    }

    @Test
    void filesComeAfterZooModelsInTheirOwnNaturalOrder() {
        List<String> names = new java.util.ArrayList<>(List.of("x10.onnx", "vgg11", "x9.onnx", "resnet152", "lenet5", "resnet18"));
        names.sort(BenchCommand.modelOrder(ModelZoo.load()));
        assertEquals(List.of("lenet5", "resnet18", "resnet152", "vgg11", "x9.onnx", "x10.onnx"), names);
    }
}
