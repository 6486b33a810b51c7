package dev.cnnzoo.training;

import java.util.Set;

/** What to train and how: the loss, the optimizer, and the parameters held fixed. */
public record TrainingSpec(Loss loss, Optimizer optimizer, Set<String> frozen) {
    public TrainingSpec {
        frozen = Set.copyOf(frozen);
    }

    public static TrainingSpec of(Loss loss, Optimizer optimizer) {
        return new TrainingSpec(loss, optimizer, Set.of());
    }

    public TrainingSpec freezing(Set<String> parameters) {
        return new TrainingSpec(loss, optimizer, parameters);
    }
}
