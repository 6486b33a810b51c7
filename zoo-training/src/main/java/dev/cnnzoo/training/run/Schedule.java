package dev.cnnzoo.training.run;

import dev.cnnzoo.api.ZooException;
import java.util.Locale;

/**
 * A learning rate as a function of the step (1 for the first update), computed in Java and fed to
 * the graph as its {@code learning_rate} input.
 */
public interface Schedule {
    double at(long step);

    /** How the schedule was asked for, e.g. "cosine" or "step:10:0.1, warm-up 500". */
    String describe();

    static Schedule constant(double lr) {
        return of(s -> lr, "constant " + lr);
    }

    /** Multiply by {@code gamma} every {@code every} steps (Krizhevsky et al.'s "divide by 10 when validation stalls", on a timetable). */
    static Schedule step(double lr, long every, double gamma) {
        return of(s -> lr * Math.pow(gamma, (s - 1) / every), "step " + lr + " ×" + gamma + " every " + every + " steps");
    }

    /** Half a cosine from {@code lr} down to 0 over {@code total} steps (Loshchilov and Hutter 2017, without restarts). */
    static Schedule cosine(double lr, long total) {
        return of(s -> 0.5 * lr * (1 + Math.cos(Math.PI * Math.min(s - 1, total) / total)), "cosine from " + lr + " over " + total + " steps");
    }

    /** Linear warm-up from lr/warmup to the base schedule's rate over the first {@code warmup} steps (Goyal et al. 2017). */
    default Schedule withWarmup(long warmup) {
        if (warmup <= 0) {
            return this;
        }
        Schedule base = this;
        return of(s -> s <= warmup ? base.at(s) * s / warmup : base.at(s), base.describe() + ", linear warm-up over " + warmup + " steps");
    }

    /**
     * Parses {@code constant}, {@code step:EPOCHS:GAMMA} or {@code cosine}.
     *
     * @param stepsPerEpoch converts epochs to steps
     * @param totalSteps    the length of the run, for cosine
     */
    static Schedule parse(String text, double lr, long stepsPerEpoch, long totalSteps) {
        String[] parts = text.trim().toLowerCase(Locale.ROOT).split(":");
        try {
            return switch (parts[0]) {
                case "constant" -> constant(lr);
                case "cosine" -> cosine(lr, Math.max(1, totalSteps));
                case "step" -> {
                    if (parts.length != 3) {
                        throw new ZooException("a step schedule is step:EPOCHS:GAMMA, e.g. step:10:0.1; got '" + text + "'");
                    }
                    long epochs = Long.parseLong(parts[1]);
                    double gamma = Double.parseDouble(parts[2]);
                    if (epochs < 1) {
                        throw new ZooException("a step schedule's epochs between steps must be at least 1, got '" + text + "'");
                    }
                    if (!(gamma > 0) || Double.isInfinite(gamma)) {
                        throw new ZooException("a step schedule's factor GAMMA must be a positive number, got '" + text + "'");
                    }
                    yield step(lr, Math.max(1, Math.multiplyExact(epochs, Math.max(1, stepsPerEpoch))), gamma);
                }
                default -> throw new ZooException("unknown schedule '" + text + "'; use constant, step:EPOCHS:GAMMA or cosine");
            };
        } catch (ArithmeticException e) {
            throw new ZooException("the schedule '" + text + "' spans more steps than can be counted");
        } catch (NumberFormatException e) {
            throw new ZooException("cannot read the schedule '" + text + "': " + e.getMessage());
        }
    }

    private static Schedule of(java.util.function.LongToDoubleFunction f, String description) {
        return new Schedule() {
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
