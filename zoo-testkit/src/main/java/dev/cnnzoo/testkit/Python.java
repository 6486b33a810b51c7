package dev.cnnzoo.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs Debian's {@code /usr/bin/python3} (which has python3-onnx, python3-torch and
 * python3-torchvision; a python3 earlier on the PATH may not).
 */
public final class Python {
    public static final Path INTERPRETER = Path.of("/usr/bin/python3");

    private Python() {
    }

    /**
     * Runs a script held as a class-path resource next to {@code anchor}, after the test kit's
     * helpers ({@code zoo_helpers.py}: safetensors reading and writing); returns its standard output.
     */
    public static String runResource(Class<?> anchor, String resource, String... args) {
        return run(resource(Python.class, "zoo_helpers.py") + "\n" + resource(anchor, resource), args);
    }

    private static String resource(Class<?> anchor, String resource) {
        try (InputStream in = anchor.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no resource " + resource + " beside " + anchor.getName());
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs {@code script}; a non-zero exit fails with the script's standard error. */
    public static String run(String script, String... args) {
        try {
            Path file = Files.createTempFile("zoo-test-", ".py");
            try {
                Files.writeString(file, script);
                List<String> cmd = new ArrayList<>(List.of(INTERPRETER.toString(), file.toString()));
                cmd.addAll(List.of(args));
                Path err = Files.createTempFile("zoo-test-", ".err");
                Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(30, TimeUnit.MINUTES)) {
                    p.destroyForcibly();
                    throw new AssertionError("python timed out");
                }
                String stderr = Files.readString(err);
                Files.deleteIfExists(err);
                if (p.exitValue() != 0) {
                    throw new AssertionError("python3 exited with " + p.exitValue() + ":\n" + stderr + "\nstdout:\n" + out);
                }
                return out;
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + INTERPRETER + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
