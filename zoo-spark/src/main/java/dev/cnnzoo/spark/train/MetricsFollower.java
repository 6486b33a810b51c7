package dev.cnnzoo.spark.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Shows the driver's user how a run goes: replica 0 appends to {@code metrics.jsonl} on the
 * shared output folder, and this reads it every two seconds and reports each new step and epoch
 * record as a line (the replicas' own output stays in the executors' logs).
 */
final class MetricsFollower implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path file;
    private final Consumer<String> log;
    private final Thread thread;
    private long lastShown = -1;
    private volatile boolean stop;

    MetricsFollower(Path file, Consumer<String> log) {
        this.file = file;
        this.log = log;
        this.thread = new Thread(this::follow, "zoo-metrics-follower");
        thread.setDaemon(true);
        thread.start();
    }

    private void follow() {
        while (!stop) {
            poll();
            try {
                Thread.sleep(2000);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private synchronized void poll() {
        if (!Files.exists(file)) {
            return;
        }
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode r = JSON.readTree(line);
                // Records in order (step, then the epoch record of the same step): show those after the last shown.
                long order = 2 * r.path("step").asLong() + (r.path("kind").asText().equals("epoch") ? 1 : 0);
                if (order > lastShown) {
                    log.accept(describe(r));
                    lastShown = order;
                }
            }
        } catch (IOException e) {
            // a line being written, or a file being replaced: read again next time
        }
    }

    static String describe(JsonNode r) {
        if (r.path("kind").asText().equals("epoch")) {
            return String.format(Locale.ROOT, "epoch %d: train loss %.4f accuracy %.2f%%%s, %.1f s, %.0f images/s", r.path("epoch").asInt(),
                    r.path("train_loss").asDouble(), 100 * r.path("train_accuracy").asDouble(), r.path("test_accuracy").isNumber()
                            ? String.format(Locale.ROOT, "; test loss %.4f accuracy %.2f%%", r.path("test_loss").asDouble(),
                                    100 * r.path("test_accuracy").asDouble()) : "",
                    r.path("seconds").asDouble(), r.path("images_per_second").asDouble());
        }
        double step = r.path("step_seconds").asDouble();
        return String.format(Locale.ROOT, "step %d: loss %.4f accuracy %.2f%% lr %.2e, %.0f images/s, %.0f ms a step (all-reduce %.1f ms)",
                r.path("step").asLong(), r.path("loss").asDouble(), 100 * r.path("accuracy").asDouble(), r.path("learning_rate").asDouble(),
                r.path("images_per_second").asDouble(), 1000 * step, 1000 * r.path("allreduce_seconds").asDouble());
    }

    @Override
    public void close() {
        stop = true;
        thread.interrupt();
        poll();
    }
}
