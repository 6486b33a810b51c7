package dev.cnnzoo.runtime.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cnnzoo.graph.DType;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.OnnxExporter;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.weights.Weights;
import org.junit.jupiter.api.Test;

class ResidentMemoryTest {
    @Test
    void peakSeesNativeMemoryAndResetsToTheCurrentSize() {
        assumeTrue(ResidentMemory.current().isPresent(), "Linux's /proc/self/status");
        assumeTrue(ResidentMemory.resetPeak(), "a kernel that resets the peak");
        // A 4096×4096 dense layer: 64 MiB of weights that ONNX Runtime copies natively and frees on close.
        Net net = new Net("wide");
        net.output("y", net.dense("fc", net.graph().input("x", DType.FLOAT, Shape.batched(4096)), 4096));
        Graph g = net.build();
        byte[] model = OnnxExporter.toBytes(g, Weights.initial(g, 1), ExportOptions.defaults());
        // The export leaves garbage on the Java heap; a collection during the session's opening could give
        // pages back and hide part of the session (CI once saw 59 MiB), so collect before the baseline.
        System.gc();
        ResidentMemory.resetPeak();
        long before = ResidentMemory.peak().getAsLong();
        try (InferenceSession s = InferenceSession.open(model, RuntimeOptions.cpu(1))) {
            long open = ResidentMemory.current().getAsLong();
            assertTrue(open - before >= 48L << 20, "the session's weights are resident: grew by " + ((open - before) >> 20) + " MiB");
        }
        long peak = ResidentMemory.peak().getAsLong();
        long closed = ResidentMemory.current().getAsLong();
        assertTrue(peak - before >= 48L << 20, "the peak remembers the session: " + ((peak - before) >> 20) + " MiB above the start");
        assertTrue(peak - closed >= 48L << 20, "closing freed the weights: peak " + (peak >> 20) + " MiB, now " + (closed >> 20) + " MiB");
        ResidentMemory.resetPeak();
        long reset = ResidentMemory.peak().getAsLong();
        assertTrue(reset < peak - (32L << 20), "after a reset the peak starts again from the current size: " + (reset >> 20) + " MiB");
    }
}
