package dev.cnnzoo.runtime.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * The process's resident memory from Linux's {@code /proc/self/status}: the JVM's heap and ONNX
 * Runtime's native allocations (weights, arena) together. Elsewhere the figures are absent.
 */
public final class ResidentMemory {
    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

    private ResidentMemory() {
    }

    /** Resident bytes now. */
    public static OptionalLong current() {
        return field("VmRSS:");
    }

    /** The most resident bytes since the process started or since {@link #resetPeak()}. */
    public static OptionalLong peak() {
        return field("VmHWM:");
    }

    /**
     * Starts a new peak at the current resident size (Linux ≥ 4.0: writing 5 to clear_refs), so
     * each benchmark reports its own peak; false where the kernel does not allow it.
     */
    public static boolean resetPeak() {
        try {
            Files.writeString(CLEAR_REFS, "5");
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    private static OptionalLong field(String name) {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith(name)) {
                    return OptionalLong.of(Long.parseLong(line.substring(name.length()).replaceAll("[^0-9]", "")) * 1024);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux, or an unexpected format: no figure rather than a wrong one
        }
        return OptionalLong.empty();
    }
}
