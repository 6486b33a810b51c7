package dev.cnnzoo.api;

import dev.cnnzoo.graph.Graph;
import java.util.List;

/**
 * A family of networks, found with {@link java.util.ServiceLoader}: a plugin jar lists its
 * implementation in {@code META-INF/services/dev.cnnzoo.api.ModelProvider} (and {@code provides}
 * it in its module descriptor). Dropping the jar on the class path adds its models.
 */
public interface ModelProvider {
    /** The ids this provider builds, with their metadata. */
    List<ModelInfo> models();

    /**
     * Builds the network for {@code info} (one of {@link #models()}) with {@code config} already
     * resolved against the model's defaults and validated, so every value is present.
     */
    Graph build(ModelInfo info, ModelConfig config);

    /** The weights this family ships for {@code id}, trained by the zoo, if any. */
    default java.util.Optional<PretrainedWeights> pretrained(String id) {
        return java.util.Optional.empty();
    }
}
