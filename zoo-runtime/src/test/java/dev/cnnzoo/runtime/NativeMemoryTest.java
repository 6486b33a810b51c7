package dev.cnnzoo.runtime;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.OnnxExporter;
import dev.cnnzoo.testkit.TestTensors;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class NativeMemoryTest {
    /** Resident set size from /proc (Linux), in bytes. */
    private static long rss() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS");
    }

    private static long committedHeap() {
        return Runtime.getRuntime().totalMemory();
    }

    @Test
    void tenThousandRunsDoNotGrowNativeMemory() throws IOException {
        Net net = new Net("tiny");
        Value x = net.input(1, 64, 64);
        net.output("maps", net.relu(net.conv("conv", x, Conv.of(8, 3))));
        Graph g = net.build();
        // Each run returns 8×62×62 floats (123 KB) that ONNX Runtime allocates natively: a result
        // left unclosed would grow the process by over a gigabyte in 10,000 runs.
        Tensor input = TestTensors.uniform(Shape.of(1, 1, 64, 64), 1);
        try (InferenceSession s = InferenceSession.open(OnnxExporter.toBytes(g, Weights.initial(g, 1), ExportOptions.defaults()),
                RuntimeOptions.cpu(1))) {
            // Allocators and the heap settle at a high-water mark during the first runs; a leak keeps growing.
            for (int i = 0; i < 10_000; i++) {
                s.run(input);
            }
            System.gc();
            long before = rss() - committedHeap();
            for (int i = 0; i < 10_000; i++) {
                s.run(input);
            }
            System.gc();
            // The outputs are copied into Java arrays, so the heap grows with them; what is not heap is native.
            long growth = rss() - committedHeap() - before;
            System.out.println("native growth over 10,000 runs: " + (growth >> 10) + " KiB");
            assertTrue(growth < 32L << 20, "native memory grew by " + (growth >> 10) + " KiB over 10,000 runs");
        }
    }
}
