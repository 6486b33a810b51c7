package dev.cnnzoo.runtime.bench;

import java.util.Arrays;

/**
 * The wall-clock times of a benchmark's timed runs, in milliseconds. Percentiles interpolate
 * linearly between the sorted times (numpy's default), so with few runs p99 lies near the slowest.
 */
public record Latencies(double[] millis) {
    public Latencies {
        if (millis.length == 0) {
            throw new IllegalArgumentException("no timed runs");
        }
        millis = millis.clone();
        Arrays.sort(millis);
    }

    public int runs() {
        return millis.length;
    }

    /** The {@code q}-th percentile, 0 ≤ q ≤ 100. */
    public double percentile(double q) {
        if (q < 0 || q > 100) {
            throw new IllegalArgumentException("percentile must be in [0, 100], got " + q);
        }
        double rank = q / 100 * (millis.length - 1);
        int lo = (int) Math.floor(rank);
        int hi = Math.min(lo + 1, millis.length - 1);
        return millis[lo] + (rank - lo) * (millis[hi] - millis[lo]);
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
        return millis[0];
    }

    public double mean() {
        return Arrays.stream(millis).average().orElseThrow();
    }

    /** Images per second at the median latency: a noisy neighbour's slow runs do not move it. */
    public double imagesPerSecond(int batch) {
        return batch * 1000.0 / p50();
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
        return String.format(java.util.Locale.ROOT, "p50 %.3f ms, p90 %.3f ms, p99 %.3f ms over %d runs", p50(), p90(), p99(), runs());
    }
}
