package dev.cnnzoo.api;

import dev.cnnzoo.graph.Graph;
import java.util.Optional;

/**
 * One id a provider offers: what the zoo knows about it, how to build it, and the weights the zoo
 * ships for it, if any. The zoo dispatches {@link ModelZoo#build} to the entry's build function, so
 * a provider writes each id once.
 *
 * @param pretrained the zoo's own trained weights for the default configuration, or null
 */
public record ModelEntry(ModelInfo info, BuildFunction builder, PretrainedWeights pretrained) {
    /** Builds the network of one entry. */
    @FunctionalInterface
    public interface BuildFunction {
        /**
         * The graph for {@code info} with {@code config} already resolved against the model's
         * defaults and validated, so every value is present.
         */
        Graph build(ModelInfo info, ModelConfig config);
    }

    public ModelEntry {
        java.util.Objects.requireNonNull(info, "info");
        java.util.Objects.requireNonNull(builder, "builder of " + info.id());
    }

    /** An id without shipped weights. */
    public static ModelEntry of(ModelInfo info, BuildFunction builder) {
        return new ModelEntry(info, builder, null);
    }

    /** This entry with the zoo's trained weights. */
    public ModelEntry withPretrained(PretrainedWeights weights) {
        return new ModelEntry(info, builder, weights);
    }

    public String id() {
        return info.id();
    }

    public Optional<PretrainedWeights> pretrainedWeights() {
        return Optional.ofNullable(pretrained);
    }
}
