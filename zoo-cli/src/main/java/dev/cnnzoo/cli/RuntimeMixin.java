package dev.cnnzoo.cli;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.runtime.Device;
import dev.cnnzoo.runtime.Devices;
import dev.cnnzoo.runtime.RuntimeOptions;
import java.util.List;
import picocli.CommandLine.Option;

/** {@code --device} and {@code --threads}, shared by every command that runs an ONNX Runtime session. */
final class RuntimeMixin {
    @Option(names = "--device", paramLabel = "cpu|cuda", defaultValue = "cpu", description = "Where to run (default ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "Intra-op threads; 0 lets ONNX Runtime choose (one per physical core).")
    int threads;

    /**
     * The session options, once the device is known to run here: commands call this before any
     * work, so a missing GPU is one line, not a failure halfway through.
     */
    RuntimeOptions options() {
        if (threads < 0) {
            throw new ZooException("--threads must be 0 (ONNX Runtime's choice) or more, got " + threads);
        }
        return RuntimeOptions.cpu(threads).device(Devices.usable(Device.parse(device)));
    }

    /** These options as command-line arguments again (for a child process), with {@code threadCount} threads. */
    List<String> arguments(int threadCount) {
        return List.of("--device", device, "--threads", Integer.toString(threadCount));
    }
}
