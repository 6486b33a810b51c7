package dev.cnnzoo.api;

import java.io.IOException;
import java.io.InputStream;

/**
 * Weights a family ships for one of its models: a safetensors resource, a line saying what they
 * were trained on, how well they do and the command that reproduces them, and the names of the
 * classes they predict (by output index).
 */
public record PretrainedWeights(String description, java.util.List<String> labels, Opener opener) {
    public PretrainedWeights {
        labels = java.util.List.copyOf(labels);
    }

    /** Opens the safetensors bytes. */
    @FunctionalInterface
    public interface Opener {
        InputStream open() throws IOException;
    }

    /** A resource beside {@code anchor} in the plugin's jar. */
    public static PretrainedWeights resource(Class<?> anchor, String name, String description, java.util.List<String> labels) {
        return new PretrainedWeights(description, labels, () -> {
            InputStream in = anchor.getResourceAsStream(name);
            if (in == null) {
                throw new IOException("the resource " + name + " is missing from " + anchor.getName() + "'s jar");
            }
            return in;
        });
    }
}
