package dev.cnnzoo.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** SIGTERM to a server in a child JVM: requests in flight complete, nothing hangs, the process exits 0. */
class SigtermTest {
    private static Process serve(int maxBatch, long delayMillis) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                ServeProcess.class.getName(), Integer.toString(maxBatch), Long.toString(delayMillis));
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        return pb.start();
    }

    private static URI awaitPort(Process p) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        assertTrue(line != null && line.startsWith("port "), "the server printed: " + line);
        return URI.create("http://127.0.0.1:" + line.substring(5).trim() + "/");
    }

    private static Map<String, Object> request() {
        return Map.of("inputs", List.of(Map.of("name", "input", "shape", new long[] {1, 1, 28, 28}, "datatype", "FP32", "data", new float[784])));
    }

    /** Waits until the server's metrics show {@code n} requests queued for fashion-cnn. */
    private static void awaitQueued(URI base, int n) throws InterruptedException {
        String want = "zoo_queue_depth{model=\"fashion-cnn\"} " + n + ".0";
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!ServeFixture.get(base.resolve("metrics")).body().contains(want)) {
            assertTrue(System.nanoTime() < deadline, "the requests never all reached the queue");
            Thread.sleep(50);
        }
    }

    @Test
    void queuedRequestsAreAnsweredBeforeTheProcessExitsZero() throws Exception {
        // Batches of up to 64 wait up to 20 s for company: the requests below are all queued when SIGTERM arrives.
        Process p = serve(64, 20_000);
        try {
            URI base = awaitPort(p);
            List<CompletableFuture<ServeFixture.Reply>> inFlight = new ArrayList<>();
            ExecutorService clients = Executors.newFixedThreadPool(12);
            for (int i = 0; i < 12; i++) {
                inFlight.add(CompletableFuture.supplyAsync(() -> ServeFixture.postJson(base.resolve("v2/models/fashion-cnn/infer"), request()), clients));
            }
            clients.shutdown();
            awaitQueued(base, 12);
            long start = System.nanoTime();
            p.destroy();                                                    // SIGTERM
            for (CompletableFuture<ServeFixture.Reply> f : inFlight) {
                ServeFixture.Reply r = f.get(30, TimeUnit.SECONDS);
                assertEquals(200, r.status(), r.body());
                assertEquals(10, r.json().get("outputs").get(0).get("data").size());
            }
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the server exited");
            assertEquals(0, p.exitValue());
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(3), "the queue ran at once, without waiting out the 20 s delay");
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void sigtermDuringLoadLosesNoRequestInFlightAndExitsZero() throws Exception {
        Process p = serve(8, 5);
        try {
            URI base = awaitPort(p);
            CompletableFuture<LoadGenerator.Report> load = CompletableFuture.supplyAsync(() -> {
                try {
                    return LoadGenerator.run(new LoadGenerator.Settings(base, "fashion-cnn", 16, 400, 1, Duration.ofSeconds(30)));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(3000);
            p.destroy();
            assertTrue(p.waitFor(40, TimeUnit.SECONDS), "the server exited");
            assertEquals(0, p.exitValue());
            LoadGenerator.Report r = load.get(120, TimeUnit.SECONDS);
            System.out.println(r.describe());
            // Answered before the stop (200) or refused while draining (503); requests sent after the
            // port closed fail to connect. None is cut off or left hanging (the 30 s timeouts would say so).
            assertTrue(Set.of(200, 503).containsAll(r.statuses().keySet()), r.describe());
            assertTrue(r.succeeded() > 0, r.describe());
            assertTrue(r.errors().stream().noneMatch(e -> e.contains("Timeout")), r.describe());
        } finally {
            p.destroyForcibly();
        }
    }
}
