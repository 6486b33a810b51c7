package dev.cnnzoo.training.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.io.AtomicFile;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The run's metrics as JSON lines ({@code metrics.jsonl}): one record per logged step and one per
 * epoch. On resume the log is cut back to the checkpoint's step, so a resumed run's log reads as
 * an uninterrupted one's.
 */
public final class MetricsLog implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path file;
    private final BufferedWriter out;
    private final List<JsonNode> records = new ArrayList<>();

    public MetricsLog(Path file, long keepUpToStep) throws IOException {
        this.file = file;
        if (Files.exists(file)) {
            StringBuilder kept = new StringBuilder();
            for (String line : Files.readAllLines(file)) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    JsonNode r = JSON.readTree(line);
                    if (r.path("step").asLong() <= keepUpToStep) {
                        records.add(r);
                        kept.append(line).append('\n');
                    }
                } catch (IOException e) {
                    // a line cut off by a kill: drop it
                }
            }
            AtomicFile.write(file, kept.toString().getBytes(StandardCharsets.UTF_8));
        }
        AtomicFile.checkTarget(file);           // appended to, not replaced: the same policy on what it may be
        this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    public void write(Map<String, Object> record) {
        try {
            String line = JSON.writeValueAsString(record);
            records.add(JSON.readTree(line));
            out.write(line);
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw dev.cnnzoo.io.FileProblems.of(e, "write", file);
        }
    }

    /** A record as the log keeps them: its kind ("step" or "epoch"), epoch and step, then {@code fields}. */
    public static Map<String, Object> record(String kind, int epoch, long step, Map<String, Object> fields) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind);
        m.put("epoch", epoch);
        m.put("step", step);
        m.putAll(fields);
        return m;
    }

    public List<JsonNode> records() {
        return records;
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
