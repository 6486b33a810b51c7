package dev.cnnzoo.training.run;

import java.util.function.LongToDoubleFunction;

/**
 * A learning rate as a function of the step (1 for the first update), computed in Java and fed to
 * the graph as its {@code learning_rate} input: a {@link Schedule} laid over a run of known length.
 */
public interface LearningRate {
    double at(long step);

    /** What the rate does, e.g. "cosine from 0.001 over 9380 steps, linear warm-up over 500 steps". */
    String describe();

    static LearningRate constant(double lr) {
        return of(s -> lr, "constant " + lr);
    }

    /** Multiply by {@code gamma} every {@code every} steps (Krizhevsky et al.'s "divide by 10 when validation stalls", on a timetable). */
    static LearningRate step(double lr, long every, double gamma) {
        return of(s -> lr * Math.pow(gamma, (s - 1) / every), "step " + lr + " ×" + gamma + " every " + every + " steps");
    }

    /** Half a cosine from {@code lr} down to 0 over {@code total} steps (Loshchilov and Hutter 2017, without restarts). */
    static LearningRate cosine(double lr, long total) {
        return of(s -> 0.5 * lr * (1 + Math.cos(Math.PI * Math.min(s - 1, total) / total)), "cosine from " + lr + " over " + total + " steps");
    }

    /** Linear warm-up from lr/warmup to this rate over the first {@code warmup} steps (Goyal et al. 2017). */
    default LearningRate withWarmup(long warmup) {
        if (warmup <= 0) {
            return this;
        }
        LearningRate base = this;
        return of(s -> s <= warmup ? base.at(s) * s / warmup : base.at(s), base.describe() + ", linear warm-up over " + warmup + " steps");
    }

    private static LearningRate of(LongToDoubleFunction f, String description) {
        return new LearningRate() {
            @Override
            public double at(long step) {
                return f.applyAsDouble(step);
            }

            @Override
            public String describe() {
                return description;
            }
        };
    }
}
