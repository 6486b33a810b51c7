package dev.cnnzoo.runtime.bench;

import dev.cnnzoo.api.ZooException;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Measurements in a process of their own. A process's peak resident memory only grows: after one
 * model is measured, the next one's peak includes what the first left resident (ONNX Runtime's
 * arenas, the JVM's heap). Measured each in a fresh JVM, every model's peak is its own.
 *
 * <p>The child is a JVM like this one: the same {@code java}, JVM options and class path, running
 * {@code mainClass} with the arguments given; it writes its results on stdout, which
 * {@link #run} returns, and its stderr passes through to this process's.
 */
public final class Isolation {
    private Isolation() {
    }

    /** The command line of a JVM like this one running {@code mainClass} with {@code args}. */
    public static List<String> javaCommand(String mainClass, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(args);
        return cmd;
    }

    /**
     * Runs {@code mainClass} with {@code args} in a fresh JVM and returns what it wrote on stdout.
     *
     * @param what names the measurement in errors, e.g. "resnet50"
     * @throws ZooException when the child cannot start or exits with a non-zero status
     */
    public static String run(String mainClass, List<String> args, String what) {
        try {
            Process p = new ProcessBuilder(javaCommand(mainClass, args)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int exit = p.waitFor();
            if (exit != 0) {
                throw new ZooException("measuring " + what + " in its own process failed (exit " + exit + ")");
            }
            return out;
        } catch (IOException e) {
            throw new ZooException("cannot start a process to measure " + what + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ZooException("interrupted while measuring " + what);
        }
    }
}
