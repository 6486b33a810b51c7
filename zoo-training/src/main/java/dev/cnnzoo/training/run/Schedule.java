package dev.cnnzoo.training.run;

import dev.cnnzoo.api.ZooException;
import java.util.Locale;

/**
 * How the learning rate moves over a run, independent of the run's length: constant, multiplied by
 * γ every few epochs, or a cosine down to zero. {@link #rates} lays it over a run of known length.
 * A checkpoint records it as {@link #text()}, which {@link #parse} reads back.
 */
public sealed interface Schedule permits Schedule.Constant, Schedule.StepDecay, Schedule.Cosine {
    /** The base rate throughout. */
    record Constant() implements Schedule {
        @Override
        public String text() {
            return "constant";
        }

        @Override
        public LearningRate rates(double base, long stepsPerEpoch, long totalSteps) {
            return LearningRate.constant(base);
        }
    }

    /** The base rate multiplied by {@code gamma} every {@code everyEpochs} epochs. */
    record StepDecay(int everyEpochs, double gamma) implements Schedule {
        public StepDecay {
            if (everyEpochs < 1) {
                throw new ZooException("a step schedule decays every 1 or more epochs, got " + everyEpochs);
            }
            if (!(gamma > 0) || Double.isInfinite(gamma)) {
                throw new ZooException("a step schedule's factor must be positive, got " + gamma);
            }
        }

        @Override
        public String text() {
            return "step:" + everyEpochs + ":" + gamma;
        }

        @Override
        public LearningRate rates(double base, long stepsPerEpoch, long totalSteps) {
            return LearningRate.step(base, Math.max(1, Math.multiplyExact((long) everyEpochs, Math.max(1, stepsPerEpoch))), gamma);
        }
    }

    /** Half a cosine from the base rate down to 0 over the whole run. */
    record Cosine() implements Schedule {
        @Override
        public String text() {
            return "cosine";
        }

        @Override
        public LearningRate rates(double base, long stepsPerEpoch, long totalSteps) {
            return LearningRate.cosine(base, Math.max(1, totalSteps));
        }
    }

    static Schedule constant() {
        return new Constant();
    }

    static Schedule step(int everyEpochs, double gamma) {
        return new StepDecay(everyEpochs, gamma);
    }

    static Schedule cosine() {
        return new Cosine();
    }

    /** {@code constant}, {@code step:EPOCHS:GAMMA} or {@code cosine}, the form {@link #text()} writes. */
    static Schedule parse(String text) {
        String[] parts = text.trim().toLowerCase(Locale.ROOT).split(":");
        try {
            return switch (parts[0]) {
                case "constant" -> constant();
                case "cosine" -> cosine();
                case "step" -> {
                    if (parts.length != 3) {
                        throw new ZooException("a step schedule is written step:EPOCHS:GAMMA, e.g. step:10:0.1; got '" + text + "'");
                    }
                    yield step(Integer.parseInt(parts[1]), Double.parseDouble(parts[2]));
                }
                default -> throw new ZooException("unknown schedule '" + text + "'; use constant, step:EPOCHS:GAMMA or cosine");
            };
        } catch (ArithmeticException e) {
            throw new ZooException("the schedule '" + text + "' spans more steps than can be counted");
        } catch (NumberFormatException e) {
            throw new ZooException("cannot read the schedule '" + text + "': " + e.getMessage());
        }
    }

    /**
     * {@link #parse} then {@link #rates}.
     *
     * @param stepsPerEpoch converts epochs to steps
     * @param totalSteps    the length of the run, for cosine
     */
    static LearningRate parse(String text, double lr, long stepsPerEpoch, long totalSteps) {
        return parse(text).rates(lr, stepsPerEpoch, totalSteps);
    }

    /** The form a checkpoint records, e.g. "step:30:0.1". */
    String text();

    /** The learning rate at every step of a run of {@code totalSteps} with {@code stepsPerEpoch} steps an epoch. */
    LearningRate rates(double base, long stepsPerEpoch, long totalSteps);
}
