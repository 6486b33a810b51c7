package dev.cnnzoo.api;

import java.io.IOException;
import java.io.InputStream;

/**
 * Weights a family ships for one of its models: a safetensors resource and a line saying what they
 * were trained on, how well they do, and the command that reproduces them.
 */
public record PretrainedWeights(String description, Opener opener) {
    /** Opens the safetensors bytes. */
    @FunctionalInterface
    public interface Opener {
        InputStream open() throws IOException;
    }

    /** A resource beside {@code anchor} in the plugin's jar. */
    public static PretrainedWeights resource(Class<?> anchor, String name, String description) {
        return new PretrainedWeights(description, () -> {
            InputStream in = anchor.getResourceAsStream(name);
            if (in == null) {
                throw new IOException("the resource " + name + " is missing from " + anchor.getName() + "'s jar");
            }
            return in;
        });
    }
}
