package dev.cnnzoo.runtime.bench;

import ai.onnxruntime.OrtEnvironment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * What a benchmark ran on, recorded beside its figures: a time means little without the CPU, the
 * cores and the runtime's version.
 *
 * @param cpu          the processor's model name (Linux's /proc/cpuinfo), or the architecture
 * @param logicalCores the cores the JVM may use
 * @param memoryBytes  physical memory (Linux's /proc/meminfo), 0 when unknown
 */
public record Machine(String cpu, int logicalCores, long memoryBytes, String os, String javaRuntime, String onnxRuntime) {
    public static Machine current() {
        return new Machine(cpuName(), Runtime.getRuntime().availableProcessors(), memory(),
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.version"),
                OrtEnvironment.getEnvironment().getVersion());
    }

    /** "AMD EPYC, 2 cores, 23.4 GiB, Linux 6.1 amd64, ONNX Runtime 1.24.1". */
    public String describe() {
        String mem = memoryBytes > 0 ? String.format(Locale.ROOT, ", %.1f GiB", memoryBytes / (double) (1L << 30)) : "";
        return cpu + ", " + logicalCores + " cores" + mem + ", " + os + ", " + javaRuntime + ", ONNX Runtime " + onnxRuntime;
    }

    private static String cpuName() {
        for (String line : lines(Path.of("/proc/cpuinfo"))) {
            if (line.startsWith("model name")) {
                return line.substring(line.indexOf(':') + 1).trim();
            }
        }
        return System.getProperty("os.arch");
    }

    private static long memory() {
        for (String line : lines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("MemTotal:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return 0;
    }

    private static List<String> lines(Path p) {
        try {
            return Files.readAllLines(p);
        } catch (IOException | SecurityException e) {
            return List.of();
        }
    }
}
