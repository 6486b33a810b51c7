package dev.cnnzoo.api;

import java.util.List;

/**
 * A family of networks, found with {@link java.util.ServiceLoader}: a plugin jar lists its
 * implementation in {@code META-INF/services/dev.cnnzoo.api.ModelProvider} (and {@code provides}
 * it in its module descriptor). Dropping the jar on the class path adds its models.
 *
 * <p>A provider is a list of entries, each id written once with its build function:
 *
 * <pre>{@code
 * public final class LeNetProvider implements ModelProvider {
 *     public List<ModelEntry> models() {
 *         return List.of(
 *                 ModelEntry.of(ModelInfo.builder("lenet5").family("lenet")...build(),
 *                         (info, config) -> LeNet5.build(info.id(), config)),
 *                 ...);
 *     }
 * }
 * }</pre>
 */
public interface ModelProvider {
    /** The ids this provider offers: each with its metadata, its build function and any shipped weights. */
    List<ModelEntry> models();
}
