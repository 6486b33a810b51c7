package dev.cnnzoo.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class DynamicBatcherTest {
    /** A "model" that doubles its input and records the batch sizes it ran. */
    private static final class Doubler implements Function<Map<String, Tensor>, Map<String, Tensor>> {
        final List<Integer> batches = Collections.synchronizedList(new ArrayList<>());
        final CountDownLatch gate;

        Doubler(CountDownLatch gate) {
            this.gate = gate;
        }

        @Override
        public Map<String, Tensor> apply(Map<String, Tensor> feeds) {
            try {
                gate.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Tensor x = feeds.get("x");
            batches.add(x.shape().dim(0));
            float[] a = x.floats().clone();
            for (int i = 0; i < a.length; i++) {
                a[i] *= 2;
            }
            return Map.of("y", Tensor.of(x.shape(), a));
        }
    }

    private static Map<String, Tensor> rows(float first, int n) {
        float[] a = new float[n * 3];
        for (int i = 0; i < a.length; i++) {
            a[i] = first + i;
        }
        return Map.of("x", Tensor.of(Shape.of(n, 3), a));
    }

    @Test
    void queuedRequestsRunTogetherAndEachGetsItsOwnRows() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        Doubler model = new Doubler(gate);
        try (DynamicBatcher b = new DynamicBatcher("m", model, 8, TimeUnit.MILLISECONDS.toNanos(50), 64, ServerMetrics.BatchMetrics.none())) {
            // The first request runs alone and holds the worker at the gate while eleven more queue up.
            List<CompletableFuture<Map<String, Tensor>>> results = new ArrayList<>();
            results.add(b.submit(rows(0, 1), 1));
            Thread.sleep(100);
            for (int i = 1; i < 12; i++) {
                results.add(b.submit(rows(100 * i, i % 3 + 1), i % 3 + 1));
            }
            gate.countDown();
            for (int i = 0; i < results.size(); i++) {
                Tensor y = results.get(i).get(10, TimeUnit.SECONDS).get("y");
                int n = i == 0 ? 1 : i % 3 + 1;
                assertEquals(Shape.of(n, 3), y.shape(), "request " + i);
                float first = i == 0 ? 0 : 100 * i;
                for (int k = 0; k < n * 3; k++) {
                    assertEquals(2 * (first + k), y.floats()[k], "request " + i + " value " + k);
                }
            }
            // 1 alone, then 23 rows in batches of at most 8 formed from whole requests.
            assertEquals(1, model.batches.get(0));
            assertEquals(24, model.batches.stream().mapToInt(Integer::intValue).sum());
            assertTrue(model.batches.stream().allMatch(n -> n <= 8), model.batches.toString());
            assertTrue(model.batches.stream().anyMatch(n -> n > 3), "requests were merged: " + model.batches);
        }
    }

    @Test
    void aFullQueueRefusesAtOnceWith429() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        try (DynamicBatcher b = new DynamicBatcher("m", new Doubler(gate), 1, 0, 2, ServerMetrics.BatchMetrics.none())) {
            CompletableFuture<Map<String, Tensor>> running = b.submit(rows(0, 1), 1);
            Thread.sleep(100);                              // taken by the worker, which waits at the gate
            CompletableFuture<Map<String, Tensor>> q1 = b.submit(rows(1, 1), 1);
            CompletableFuture<Map<String, Tensor>> q2 = b.submit(rows(2, 1), 1);
            RequestException e = assertThrows(RequestException.class, () -> b.submit(rows(3, 1), 1));
            assertEquals(429, e.status());
            gate.countDown();
            for (CompletableFuture<Map<String, Tensor>> f : List.of(running, q1, q2)) {
                assertEquals(Shape.of(1, 3), f.get(10, TimeUnit.SECONDS).get("y").shape());
            }
        }
    }

    @Test
    void closingRunsEveryQueuedRequestWithoutWaitingForTheDelayThenRefuses() throws Exception {
        Doubler model = new Doubler(new CountDownLatch(0));
        DynamicBatcher b = new DynamicBatcher("m", model, 64, TimeUnit.SECONDS.toNanos(30), 64, ServerMetrics.BatchMetrics.none());
        List<CompletableFuture<Map<String, Tensor>>> results = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            results.add(b.submit(rows(i, 1), 1));
        }
        long start = System.nanoTime();
        b.close();
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "close did not wait out the 30 s delay");
        for (CompletableFuture<Map<String, Tensor>> f : results) {
            assertTrue(f.isDone());
            assertEquals(Shape.of(1, 3), f.get().get("y").shape());
        }
        assertEquals(503, assertThrows(RequestException.class, () -> b.submit(rows(0, 1), 1)).status());
    }

    @Test
    void requestsOfDifferentSampleShapesNeverShareABatch() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        Doubler model = new Doubler(gate);
        try (DynamicBatcher b = new DynamicBatcher("m", model, 8, TimeUnit.MILLISECONDS.toNanos(50), 64, ServerMetrics.BatchMetrics.none())) {
            CompletableFuture<Map<String, Tensor>> first = b.submit(rows(0, 1), 1);
            Thread.sleep(100);
            CompletableFuture<Map<String, Tensor>> a = b.submit(rows(0, 2), 2);
            CompletableFuture<Map<String, Tensor>> wide = b.submit(Map.of("x", Tensor.of(Shape.of(1, 5), new float[5])), 1);
            gate.countDown();
            assertEquals(Shape.of(2, 3), a.get(10, TimeUnit.SECONDS).get("y").shape());
            assertEquals(Shape.of(1, 5), wide.get(10, TimeUnit.SECONDS).get("y").shape());
            first.get(10, TimeUnit.SECONDS);
            assertEquals(List.of(1, 2, 1), model.batches);
        }
    }

    @Test
    void aFailingRunFailsEveryRequestOfItsBatchAndTheNextBatchRuns() throws Exception {
        int[] calls = {0};
        Function<Map<String, Tensor>, Map<String, Tensor>> flaky = feeds -> {
            if (calls[0]++ == 0) {
                throw new IllegalStateException("boom");
            }
            return Map.of("y", feeds.get("x"));
        };
        try (DynamicBatcher b = new DynamicBatcher("m", flaky, 4, 0, 8, ServerMetrics.BatchMetrics.none())) {
            CompletableFuture<Map<String, Tensor>> bad = b.submit(rows(0, 1), 1);
            assertThrows(java.util.concurrent.ExecutionException.class, () -> bad.get(10, TimeUnit.SECONDS));
            assertEquals(Shape.of(1, 3), b.submit(rows(0, 1), 1).get(10, TimeUnit.SECONDS).get("y").shape());
        }
    }
}
