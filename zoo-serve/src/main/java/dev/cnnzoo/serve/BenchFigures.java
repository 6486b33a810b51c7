package dev.cnnzoo.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.ZooException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Figures from a {@code zoo bench --out FILE.json} report, by model id, for the catalog: the zoo's
 * own rows (not the {@code --vs} or PyTorch comparisons), each with its batch, mode, p50/p99
 * latency and images per second, as the report's {@code results} hold them.
 */
public final class BenchFigures {
    /** One measurement. */
    public record Figure(String mode, int batch, double p50Millis, double p99Millis, double imagesPerSecond) {
    }

    private final Map<String, List<Figure>> byModel;
    private final String machine;

    private BenchFigures(Map<String, List<Figure>> byModel, String machine) {
        this.byModel = byModel;
        this.machine = machine;
    }

    /** No figures. */
    public static BenchFigures none() {
        return new BenchFigures(Map.of(), null);
    }

    /** The zoo rows of a {@code zoo bench} JSON report. */
    public static BenchFigures read(Path file) {
        JsonNode doc;
        try {
            doc = new ObjectMapper().readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new ZooException("cannot read the benchmark report " + file + ": " + e.getMessage(), e);
        }
        JsonNode results = doc == null ? null : doc.get("results");
        if (results == null || !results.isArray()) {
            throw new ZooException(file + " is not a zoo bench JSON report (it has no \"results\" array; write one with zoo bench --out FILE.json)");
        }
        Map<String, List<Figure>> byModel = new LinkedHashMap<>();
        for (JsonNode r : results) {
            if (!"zoo".equals(r.path("source").asText()) || !r.has("model") || !r.has("latency_ms")) {
                continue;
            }
            byModel.computeIfAbsent(r.get("model").asText(), k -> new ArrayList<>()).add(new Figure(r.path("mode").asText("inference"),
                    r.path("batch").asInt(), r.get("latency_ms").path("p50").asDouble(), r.get("latency_ms").path("p99").asDouble(),
                    r.path("images_per_second").asDouble()));
        }
        JsonNode m = doc.path("machine");
        JsonNode settings = doc.path("settings");
        String machine = m.isObject() ? m.path("cpu").asText("") + ", " + m.path("logical_cores").asText("?") + " logical cores, "
                + settings.path("threads").asText("?") + " ONNX Runtime threads, " + settings.path("device").asText("cpu") + ", "
                + doc.path("date").asText("undated") : null;
        return new BenchFigures(byModel, machine);
    }

    public List<Figure> of(String model) {
        return byModel.getOrDefault(model, List.of());
    }

    /** Where the figures were measured, or null. */
    public String machine() {
        return machine;
    }
}
