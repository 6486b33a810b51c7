package dev.cnnzoo.training;

import java.util.Objects;
import java.util.Set;

/**
 * What to train and how: the loss, the optimizer, the parameters held fixed, and whether the
 * backward pass recomputes activations rather than keeping them (memory for time; the same result).
 */
public record TrainingSpec(Loss loss, Optimizer optimizer, Set<String> frozen, TrainingGraph.Activations activations) {
    public TrainingSpec {
        frozen = Set.copyOf(frozen);
        Objects.requireNonNull(activations, "activations");
    }

    /** Activations kept or recomputed as {@link TrainingGraph.Activations#DEFAULT} says. */
    public TrainingSpec(Loss loss, Optimizer optimizer, Set<String> frozen) {
        this(loss, optimizer, frozen, TrainingGraph.Activations.DEFAULT);
    }

    public static TrainingSpec of(Loss loss, Optimizer optimizer) {
        return new TrainingSpec(loss, optimizer, Set.of());
    }

    public TrainingSpec freezing(Set<String> parameters) {
        return new TrainingSpec(loss, optimizer, parameters, activations);
    }

    public TrainingSpec activations(TrainingGraph.Activations a) {
        return new TrainingSpec(loss, optimizer, frozen, a);
    }
}
