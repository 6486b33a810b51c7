package dev.cnnzoo.runtime.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class BenchmarkTest {
    @Test
    void percentilesInterpolateLikeNumpy() {
        // numpy.percentile(range(1, 101), [50, 90, 99]) = [50.5, 90.1, 99.01]
        Latencies l = new Latencies(IntStream.rangeClosed(1, 100).mapToDouble(i -> 101 - i).toArray());
        assertEquals(50.5, l.p50(), 1e-9);
        assertEquals(90.1, l.p90(), 1e-9);
        assertEquals(99.01, l.p99(), 1e-9);
        assertEquals(1, l.min());
        assertEquals(50.5, l.mean(), 1e-9);
        assertEquals(8 * 1000 / 50.5, l.imagesPerSecond(8), 1e-9, "images/s is the batch over the median latency");
        assertEquals(7.0, new Latencies(new double[] {7}).p99());
        assertThrows(IllegalArgumentException.class, () -> new Latencies(new double[0]));
    }

    @Test
    void warmUpRunsAreNotTimedAndSubjectsAlternateInBothOrders() {
        List<String> calls = new ArrayList<>();
        List<Latencies> l = Benchmark.interleaved(List.of(() -> calls.add("a"), () -> calls.add("b")), new Benchmark.Plan(2, 3),
                Benchmark.Progress.NONE);
        assertEquals(List.of("a", "b", "a", "b", "a", "b", "b", "a", "a", "b"), calls, "warm-up, then timed rounds ab, ba, ab");
        assertEquals(3, l.get(0).runs());
        assertEquals(3, l.get(1).runs());
    }

    @Test
    void thePairedRatioComparesRunsOfTheSameRound() {
        // Rounds on a quiet machine (a 10, b 11) or a busy one (a 18, b 20), a taking 0.9 to 0.91 of b's
        // time; in the last round the machine got busy between a's run and b's. The medians then fall on
        // different levels (10 and 20); the paired ratio does not care.
        Latencies a = new Latencies(new double[] {10, 10, 18, 18, 10});
        Latencies b = new Latencies(new double[] {11, 11, 20, 20, 20});
        assertEquals(0.9, Latencies.pairedRatio(a, b), 1e-9);
        assertEquals(0.5, a.p50() / b.p50(), 1e-9);
        assertThrows(IllegalArgumentException.class, () -> Latencies.pairedRatio(a, new Latencies(new double[] {1})));
    }

    @Test
    void progressCountsEveryRun() {
        List<Integer> seen = new ArrayList<>();
        Benchmark.time(() -> { }, new Benchmark.Plan(1, 4), (done, total) -> {
            assertEquals(5, total);
            seen.add(done);
        });
        assertEquals(List.of(1, 2, 3, 4, 5), seen);
    }

    @Test
    void aBudgetStopsTheTimedRunsAfterAtLeastThree() {
        int[] runs = {0};
        Latencies l = Benchmark.time(() -> {
            runs[0]++;
            sleep(30);
        }, new Benchmark.Plan(1, 1000, 0.05), Benchmark.Progress.NONE);
        assertEquals(Benchmark.Plan.MIN_TIMED, l.runs(), "50 ms of 30 ms runs: the minimum of three");
        assertEquals(1 + l.runs(), runs[0]);
        assertTrue(l.min() >= 29, "each run is timed: " + l);
        assertArrayEquals(new double[] {2, 1}, new Latencies(new double[] {2, 1}).millis(), "in the order they ran");
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
