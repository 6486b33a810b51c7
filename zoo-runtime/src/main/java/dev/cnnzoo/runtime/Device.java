package dev.cnnzoo.runtime;

import dev.cnnzoo.api.ZooException;
import java.util.Locale;

/** Where ONNX Runtime runs a model. */
public enum Device {
    CPU,
    /** NVIDIA GPUs through ONNX Runtime's CUDA execution provider (the {@code -Pcuda} build). */
    CUDA;

    public static Device parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ZooException("unknown device '" + s + "'; use cpu or cuda");
        }
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
