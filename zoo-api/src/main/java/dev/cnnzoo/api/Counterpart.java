package dev.cnnzoo.api;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The same network in another library: the constructor's name there and the keyword arguments that
 * make it the zoo's network (parameter for parameter, at the zoo model's default input), e.g.
 * torchvision's {@code googlenet(aux_logits=True, transform_input=False, init_weights=True)}. The
 * Python tools and the conformance tests build counterparts from this, through
 * {@code zoo info ID --json} or an argument the Java side passes; none keeps a table of its own.
 *
 * @param arguments keyword arguments, in order; values are booleans, numbers or strings
 */
public record Counterpart(Library library, String name, Map<String, Object> arguments) {
    /** Where a counterpart lives, and how it is called there. */
    public enum Library {
        /** {@code getattr(torchvision.models, name)(**kwargs)}. */
        TORCHVISION("torchvision"),
        /** {@code timm.create_model(name, **kwargs)}. */
        TIMM("timm"),
        /** {@code getattr(keras.applications, name)(**kwargs)}. */
        KERAS("keras");

        private final String key;

        Library(String key) {
            this.key = key;
        }

        /** The lower-case name the JSON and the Python side use. */
        public String key() {
            return key;
        }
    }

    public Counterpart {
        arguments = Collections.unmodifiableMap(new LinkedHashMap<>(arguments));
    }

    public static Counterpart torchvision(String name) {
        return new Counterpart(Library.TORCHVISION, name, Map.of());
    }

    public static Counterpart timm(String name) {
        return new Counterpart(Library.TIMM, name, Map.of());
    }

    public static Counterpart keras(String name) {
        return new Counterpart(Library.KERAS, name, Map.of());
    }

    /** This counterpart with one more keyword argument (a boolean, a number or a string). */
    public Counterpart with(String keyword, Object value) {
        if (!(value instanceof Boolean || value instanceof Number || value instanceof String)) {
            throw new IllegalArgumentException("keyword argument " + keyword + " of " + name + " must be a boolean, a number or a "
                    + "string, not " + value);
        }
        Map<String, Object> m = new LinkedHashMap<>(arguments);
        m.put(keyword, value);
        return new Counterpart(library, name, m);
    }

    /**
     * {@code {"library": "torchvision", "name": "googlenet", "kwargs": {...}, "input": [3, 224, 224]}}:
     * what a Python script needs to build it and feed it ({@code input} is the zoo model's default,
     * channels first).
     */
    public Map<String, Object> describe(int[] input) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("library", library.key());
        m.put("name", name);
        m.put("kwargs", arguments);
        m.put("input", List.of(input[0], input[1], input[2]));
        return m;
    }
}
