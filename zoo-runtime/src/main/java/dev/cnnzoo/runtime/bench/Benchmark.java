package dev.cnnzoo.runtime.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * Times repeated runs. Warm-up runs come first and are not recorded: the first runs of an ONNX
 * Runtime session allocate its arena and pick kernels. When several subjects are timed together
 * their runs alternate, run by run, so a change in the machine's load (other processes on a shared
 * machine) falls on all of them alike and their ratio stays meaningful; the order within a round
 * flips every round, so no subject always runs first.
 *
 * <p>Before each run of an alternation the benchmark pauses {@value #SETTLE_MILLIS} ms, untimed: an
 * ONNX Runtime session's threads keep spinning for a while after its run, and a run of another
 * session in that time competes with them for the cores. (ResNet-50 at batch 1 on two threads: 42 ms
 * right after a run of the same session, 71 ms right after another session's, 44 ms after a 100 ms
 * pause.)
 */
public final class Benchmark {
    /**
     * How many runs: {@code warmup} untimed, then up to {@code iterations} timed. With a positive
     * {@code budgetSeconds} the timed rounds stop once that much time is spent, after at least
     * {@value #MIN_TIMED} (or {@code iterations}, if fewer): the big models then get fewer runs.
     */
    public record Plan(int warmup, int iterations, double budgetSeconds) {
        public static final int MIN_TIMED = 3;

        public Plan {
            if (warmup < 0) {
                throw new dev.cnnzoo.api.ZooException("warm-up runs must be 0 or more, got " + warmup);
            }
            if (iterations < 1) {
                throw new dev.cnnzoo.api.ZooException("timed runs must be at least 1, got " + iterations);
            }
            if (!(budgetSeconds >= 0) || Double.isInfinite(budgetSeconds)) {
                throw new dev.cnnzoo.api.ZooException("the time budget must be 0 (none) or a number of seconds, got " + budgetSeconds);
            }
        }

        public Plan(int warmup, int iterations) {
            this(warmup, iterations, 0);
        }

        public int total() {
            return warmup + iterations;
        }
    }

    /** Told after every run, timed or not. */
    @FunctionalInterface
    public interface Progress {
        /** {@code done} of {@code total} runs of every subject are finished. */
        void ran(int done, int total);

        Progress NONE = (done, total) -> { };
    }

    /** The pause before each run when subjects alternate. */
    public static final int SETTLE_MILLIS = 100;

    private Benchmark() {
    }

    /** The latencies of one subject. */
    public static Latencies time(Runnable subject, Plan plan, Progress progress) {
        return interleaved(List.of(subject), plan, progress).get(0);
    }

    /**
     * The latencies of each subject, their runs alternating: warm-up rounds, then timed rounds in
     * which every subject runs once, in turn, forwards in even rounds and backwards in odd ones.
     */
    public static List<Latencies> interleaved(List<? extends Runnable> subjects, Plan plan, Progress progress) {
        int n = subjects.size();
        int total = plan.total() * n;
        int done = 0;
        for (int i = 0; i < plan.warmup(); i++) {
            for (Runnable s : subjects) {
                settle(n);
                s.run();
                progress.ran(++done, total);
            }
        }
        double[][] millis = new double[n][plan.iterations()];
        int rounds = 0;
        long timedStart = System.nanoTime();
        while (rounds < plan.iterations()) {
            for (int j = 0; j < n; j++) {
                // Every other round runs the subjects in reverse: none always runs first.
                int k = rounds % 2 == 0 ? j : n - 1 - j;
                settle(n);
                long start = System.nanoTime();
                subjects.get(k).run();
                millis[k][rounds] = (System.nanoTime() - start) / 1e6;
                progress.ran(++done, total);
            }
            rounds++;
            boolean spent = plan.budgetSeconds() > 0 && (System.nanoTime() - timedStart) / 1e9 - pauses(n, rounds) >= plan.budgetSeconds();
            if (spent && rounds >= Math.min(Plan.MIN_TIMED, plan.iterations())) {
                break;
            }
        }
        List<Latencies> out = new ArrayList<>();
        for (double[] m : millis) {
            out.add(new Latencies(java.util.Arrays.copyOf(m, rounds)));
        }
        return out;
    }

    /** Lets the previous session's threads go idle when subjects alternate. */
    private static void settle(int subjects) {
        if (subjects < 2) {
            return;
        }
        try {
            Thread.sleep(SETTLE_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while benchmarking", e);
        }
    }

    /** Seconds of pauses in {@code rounds} timed rounds: they do not count against the budget. */
    private static double pauses(int subjects, int rounds) {
        return subjects < 2 ? 0 : subjects * rounds * SETTLE_MILLIS / 1000.0;
    }
}
