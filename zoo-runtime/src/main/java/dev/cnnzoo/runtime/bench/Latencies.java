package dev.cnnzoo.runtime.bench;

import java.util.Arrays;
import java.util.Locale;

/**
 * The wall-clock times of a benchmark's timed runs, in milliseconds, in the order they ran.
 * Percentiles interpolate linearly between the sorted times (numpy's default), so with few runs
 * p99 lies near the slowest.
 */
public final class Latencies {
    private final double[] millis;
    private final double[] sorted;

    public Latencies(double[] millis) {
        if (millis.length == 0) {
            throw new IllegalArgumentException("no timed runs");
        }
        this.millis = millis.clone();
        this.sorted = millis.clone();
        Arrays.sort(sorted);
    }

    /** The times in the order the runs happened. */
    public double[] millis() {
        return millis.clone();
    }

    public int runs() {
        return millis.length;
    }

    /** The {@code q}-th percentile, 0 ≤ q ≤ 100. */
    public double percentile(double q) {
        return percentile(sorted, q);
    }

    static double percentile(double[] sorted, double q) {
        if (q < 0 || q > 100) {
            throw new IllegalArgumentException("percentile must be in [0, 100], got " + q);
        }
        double rank = q / 100 * (sorted.length - 1);
        int lo = (int) Math.floor(rank);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (rank - lo) * (sorted[hi] - sorted[lo]);
    }

    public double p50() {
        return percentile(50);
    }

    public double p90() {
        return percentile(90);
    }

    public double p99() {
        return percentile(99);
    }

    public double min() {
        return sorted[0];
    }

    public double mean() {
        return Arrays.stream(millis).average().orElseThrow();
    }

    /** Images per second at the median latency: a noisy neighbour's slow runs do not move it. */
    public double imagesPerSecond(int batch) {
        return batch * 1000.0 / p50();
    }

    /**
     * How much slower {@code a} is than {@code b} when their runs alternated
     * ({@link Benchmark#interleaved}): the median over rounds of a's time over b's in the same
     * round. Both runs of a round see the same machine, so a neighbour that slows some rounds
     * (on a shared machine, run times can jump between two levels) slows both sides of the ratio;
     * the ratio of the two medians instead compares whichever level each median fell on.
     */
    public static double pairedRatio(Latencies a, Latencies b) {
        if (a.runs() != b.runs()) {
            throw new IllegalArgumentException("paired runs must be as many: " + a.runs() + " and " + b.runs());
        }
        double[] r = new double[a.runs()];
        for (int i = 0; i < r.length; i++) {
            r[i] = a.millis[i] / b.millis[i];
        }
        Arrays.sort(r);
        return percentile(r, 50);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Latencies l && Arrays.equals(millis, l.millis);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(millis);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "p50 %.3f ms, p90 %.3f ms, p99 %.3f ms over %d runs", p50(), p90(), p99(), runs());
    }
}
