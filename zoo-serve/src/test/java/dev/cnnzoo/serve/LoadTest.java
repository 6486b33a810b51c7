package dev.cnnzoo.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.runtime.bench.ResidentMemory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * 32 concurrent clients × 200 requests on loopback: no errors, batches of more than one request
 * forming, and resident memory flat across the run (the heap is fixed and pre-touched by the
 * surefire configuration, so what could grow is native: sessions, tensors, buffers, threads).
 */
class LoadTest {
    @Test
    void thirtyTwoClientsGetEveryAnswerInBatchesWithFlatMemory() throws Exception {
        ServeOptions options = ServeFixture.options().maxBatch(8).maxDelay(Duration.ofMillis(5)).runtime(RuntimeOptions.cpu(2));
        try (ModelServer server = ModelServer.start(List.of(ServeFixture.servedFashionCnn()), options, ServeFixture.ZOO, BenchFigures.none())) {
            // Warm-up: sessions, arenas, connection pools and the JIT reach their working size.
            LoadGenerator.Report warm = LoadGenerator.run(new LoadGenerator.Settings(server.uri(), "fashion-cnn", 32, 40, 1, Duration.ofSeconds(60)));
            assertEquals(Map.of(200, 32 * 40), warm.statuses(), warm.describe());
            System.gc();
            long before = ResidentMemory.current().orElse(-1);

            LoadGenerator.Report run = LoadGenerator.run(new LoadGenerator.Settings(server.uri(), "fashion-cnn", 32, 200, 1, Duration.ofSeconds(60)));
            System.gc();
            long after = ResidentMemory.current().orElse(-1);
            System.out.println(run.describe());

            assertEquals(Map.of(200, 32 * 200), run.statuses(), run.describe());
            assertEquals(0, run.transport(), run.describe());
            LoadGenerator.BatchStats batches = LoadGenerator.batchStats(server.uri(), "fashion-cnn");
            System.out.printf("batches %d, mean %.2f rows, %d of more than one; resident %d → %d MiB%n", batches.batches(), batches.meanBatch(),
                    batches.multi(), before >> 20, after >> 20);
            assertEquals(32 * 240, (long) batches.rows(), "every request's row ran once");
            assertTrue(batches.multi() > 0 && batches.meanBatch() > 1.2, "batches formed: " + batches);
            if (before > 0 && after > 0) {
                // 6,400 requests through a leak of even 10 KiB each would add 62 MiB.
                assertTrue(after - before < (48L << 20), "resident memory grew from " + (before >> 20) + " to " + (after >> 20) + " MiB");
            }
        }
    }
}
