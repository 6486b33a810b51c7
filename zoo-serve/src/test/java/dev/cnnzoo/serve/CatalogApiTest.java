package dev.cnnzoo.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cnnzoo.api.ModelInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The catalog's data: what {@code zoo list} and {@code zoo info} compute, with a {@code zoo bench} report's figures. */
class CatalogApiTest {
    /** The CPU table committed with the project (docs/benchmarks.md). */
    static final Path BENCH_REPORT = Path.of("..", "docs", "benchmarks", "cpu.json");

    private static List<String> ids(JsonNode models) {
        List<String> ids = new ArrayList<>();
        models.forEach(m -> ids.add(m.get("id").asText()));
        return ids;
    }

    @Test
    void theCatalogIsTheZoosListWithPapersSummariesAndBenchmarkFigures() throws Exception {
        BenchFigures bench = BenchFigures.read(BENCH_REPORT);
        try (ModelServer server = ModelServer.start(List.of(ServeFixture.servedFashionCnn()), ServeFixture.options().eager(false),
                ServeFixture.ZOO, bench)) {
            JsonNode all = ServeFixture.get(server.uri().resolve("api/catalog")).json();
            assertEquals(ServeFixture.ZOO.list().stream().map(ModelInfo::id).toList(), ids(all.get("models")));
            assertEquals(ServeFixture.ZOO.list("vgg1?-bn").stream().map(ModelInfo::id).toList(),
                    ids(ServeFixture.get(server.uri().resolve("api/catalog?glob=vgg1%3F-bn")).json().get("models")));
            assertEquals(ServeFixture.ZOO.family("resnet").size(), ServeFixture.get(server.uri().resolve("api/catalog?glob=resnet")).json()
                    .get("models").size(), "a family name filters as zoo list does");

            for (JsonNode m : all.get("models")) {
                String id = m.get("id").asText();
                assertEquals(ServeFixture.ZOO.summary(id).parameters(), m.get("parameters").asLong(), id);
                assertEquals(ServeFixture.ZOO.summary(id).macs(), m.get("macs").asLong(), id);
                assertEquals(ServeFixture.ZOO.find(id).paper().url(), m.get("paper").get("url").isNull() ? null : m.get("paper").get("url").asText());
                assertEquals(bench.of(id).size(), m.get("bench").size(), id);
                assertEquals(id.equals("fashion-cnn"), m.get("served").asBoolean(), id);
            }
            JsonNode lenet = ServeFixture.get(server.uri().resolve("api/models/lenet5?depth=1")).json();
            assertEquals(60_000, lenet.get("parameters").asLong(), "LeCun et al. 1998: 60,000 trainable parameters");
            JsonNode c1 = null;
            for (JsonNode row : lenet.get("layers")) {
                c1 = row.get("layer").asText().equals("c1") ? row : c1;
            }
            assertEquals("N×6×28×28", c1.get("output").asText(), "C1: six 28×28 feature maps (LeCun et al. 1998, Fig. 2)");
            assertEquals(156, c1.get("parameters").asLong(), "C1: 156 trainable parameters");
            assertTrue(lenet.get("pretrained").asBoolean());
            BenchFigures.Figure first = bench.of("lenet5").get(0);
            assertEquals(first.imagesPerSecond(), lenet.get("bench").get(0).get("images_per_second").asDouble());

            assertEquals(404, ServeFixture.get(server.uri().resolve("api/models/resnet5")).status());
            assertTrue(ServeFixture.get(server.uri().resolve("api/models/resnet5")).json().get("error").asText().contains("resnet50"),
                    "the zoo's suggestions");
            assertEquals(200, ServeFixture.get(server.uri().resolve("models/lenet5")).status());
            assertTrue(ServeFixture.get(server.uri().resolve("")).body().contains("<table id=\"catalog\""));
            // Lazy loading: not ready until the first request that needs the model.
            assertEquals(503, ServeFixture.get(server.uri().resolve("v2/models/fashion-cnn/ready")).status());
            assertEquals(200, ServeFixture.get(server.uri().resolve("v2/models/fashion-cnn")).status());
            assertEquals(200, ServeFixture.get(server.uri().resolve("v2/models/fashion-cnn/ready")).status());
        }
    }

    @Test
    void aFileThatIsNotABenchReportIsOneClearError() throws Exception {
        Path notReport = Path.of("..", "README.md");
        dev.cnnzoo.api.ZooException e = org.junit.jupiter.api.Assertions.assertThrows(dev.cnnzoo.api.ZooException.class,
                () -> BenchFigures.read(notReport));
        assertTrue(e.getMessage().contains("README.md"), e.getMessage());
    }
}
