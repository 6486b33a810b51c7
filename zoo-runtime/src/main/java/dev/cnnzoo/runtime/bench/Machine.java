package dev.cnnzoo.runtime.bench;

import ai.onnxruntime.OrtEnvironment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What a benchmark ran on, recorded beside its figures: a time means little without the CPU, the
 * cores and the runtime's version.
 *
 * @param cpu          the processor's model name (Linux's /proc/cpuinfo), or the architecture
 * @param logicalCores the cores the JVM may use
 * @param memoryBytes  physical memory (Linux's /proc/meminfo), 0 when unknown
 * @param cpuFeatures  the vector and matrix extensions ONNX Runtime's kernels choose by (AVX2, AVX-512, the
 *                     VNNI dot products its int8 GEMMs use, AMX tiles), from /proc/cpuinfo's flags
 */
public record Machine(String cpu, int logicalCores, long memoryBytes, String os, String javaRuntime, String onnxRuntime,
        List<String> cpuFeatures) {
    /** /proc/cpuinfo flag → the name printed, in the order printed. */
    private static final Map<String, String> FEATURES = new LinkedHashMap<>();

    static {
        FEATURES.put("avx2", "AVX2");
        FEATURES.put("avx512f", "AVX-512");
        FEATURES.put("avx512_vnni", "AVX-512 VNNI");
        FEATURES.put("avx_vnni", "AVX-VNNI");
        FEATURES.put("avx512_bf16", "AVX-512 BF16");
        FEATURES.put("amx_int8", "AMX-INT8");
        FEATURES.put("amx_bf16", "AMX-BF16");
    }

    public Machine {
        cpuFeatures = List.copyOf(cpuFeatures);
    }

    public static Machine current() {
        return new Machine(cpuName(), Runtime.getRuntime().availableProcessors(), memory(),
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.version"),
                OrtEnvironment.getEnvironment().getVersion(), features());
    }

    /** "AMD EPYC, 2 cores, 23.4 GiB, Linux 6.1 amd64, ONNX Runtime 1.24.1, CPU features: AVX2, AVX-512, AVX-512 VNNI". */
    public String describe() {
        String mem = memoryBytes > 0 ? String.format(Locale.ROOT, ", %.1f GiB", memoryBytes / (double) (1L << 30)) : "";
        String features = cpuFeatures.isEmpty() ? "" : ", CPU features: " + String.join(", ", cpuFeatures);
        return cpu + ", " + logicalCores + " cores" + mem + ", " + os + ", " + javaRuntime + ", ONNX Runtime " + onnxRuntime + features;
    }

    /**
     * Whether this CPU's int8 kernels can saturate with full-range weights: on x86 without VNNI,
     * ONNX Runtime's uint8×int8 products go through {@code vpmaddubsw}, which adds each pair of
     * products in 16 bits and saturates (255·127·2 exceeds 32,767), so int8 weights should keep to 7 bits
     * there (ONNX Runtime's own quantizer calls that reduce_range). With VNNI the pairs are added in 32
     * bits; other architectures have no such kernel.
     */
    public static boolean int8PairsSaturate() {
        String arch = System.getProperty("os.arch", "");
        if (!arch.equals("amd64") && !arch.equals("x86_64")) {
            return false;
        }
        List<String> found = features();
        return !found.contains("AVX-512 VNNI") && !found.contains("AVX-VNNI");
    }

    private static List<String> features() {
        for (String line : lines(Path.of("/proc/cpuinfo"))) {
            if (line.startsWith("flags")) {
                Set<String> flags = new HashSet<>(Arrays.asList(line.substring(line.indexOf(':') + 1).trim().split("\\s+")));
                List<String> out = new ArrayList<>();
                FEATURES.forEach((flag, name) -> {
                    if (flags.contains(flag)) {
                        out.add(name);
                    }
                });
                return out;
            }
        }
        return List.of();
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
