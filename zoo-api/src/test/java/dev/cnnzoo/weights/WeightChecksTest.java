package dev.cnnzoo.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.nn.Net;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WeightChecksTest {
    @TempDir
    Path dir;

    private static Graph dense(int in, int out) {
        Net net = new Net("dense");
        var x = net.input(in);
        net.output("out", net.dense("fc", x, out));
        return net.build();
    }

    @Test
    void integerTensorsAreRefusedNamingTheTensor() throws IOException {
        Graph g = dense(3, 2);
        Weights w = Weights.initial(g, 0);
        Weights ints = w.with("fc.bias", Tensor.int64s(1, 2));
        // Through a file, as `zoo export --weights` meets them: an I32 tensor reads as integers.
        Path file = dir.resolve("ints.safetensors");
        Safetensors.write(file, ints, Map.of());
        String msg = assertThrows(ZooException.class, () -> Safetensors.read(file).bind(g)).getMessage();
        assertEquals("tensor 'fc.bias' holds int64 values; a network's weights are floating point (F32, or F16, BF16 and F64, which are widened)",
                msg);
        assertThrows(ZooException.class, () -> ints.bind(g, WeightChecks.allowingNonFinite()), "allowing NaN does not allow integers");
        assertThrows(ZooException.class, () -> ints.transfer(g, 0));
    }

    @Test
    void nanAndInfinityAreRefusedNamingTheTensorUnlessAllowed() {
        Graph g = dense(3, 2);
        Weights w = Weights.initial(g, 0);
        float[] values = w.get("fc.weight").floats().clone();
        values[4] = Float.NaN;
        values[5] = Float.NEGATIVE_INFINITY;
        Weights bad = w.with("fc.weight", Tensor.of(w.get("fc.weight").shape(), values));
        WeightChecks.NonFiniteException e = assertThrows(WeightChecks.NonFiniteException.class, () -> bad.bind(g));
        assertEquals("fc.weight", e.tensor());
        assertEquals("tensor 'fc.weight' holds 1 NaN and 1 infinite value(s) of 6 (the first at index 4); non-finite weights are refused "
                + "unless explicitly allowed", e.getMessage());
        assertThrows(WeightChecks.NonFiniteException.class, () -> bad.transfer(g, 0), "fine-tuning's start is checked too");
        Weights allowed = bad.bind(g, WeightChecks.allowingNonFinite());
        assertSame(bad.get("fc.weight"), allowed.get("fc.weight"));
        assertTrue(Float.isNaN(allowed.get("fc.weight").floats()[4]));
    }

    @Test
    void weightsNoTensorOrHeapCouldHoldAreRefusedBeforeAllocation() {
        String msg = assertThrows(ZooException.class, () -> Weights.initial(dense(84, 2_000_000_000), 0)).getMessage();
        assertTrue(msg.startsWith("dense's tensor 'fc.weight' (2000000000×84) would hold 168,000,000,000 values, more than one tensor can"),
                msg);
        long heapFloats = Runtime.getRuntime().maxMemory() / 4;
        org.junit.jupiter.api.Assumptions.assumeTrue(heapFloats < Integer.MAX_VALUE, "a heap one tensor can outgrow (below 8 GiB)");
        int width = (int) (heapFloats / 4 + 1);         // 4 × width floats: just over the heap
        msg = assertThrows(ZooException.class, () -> Weights.initial(dense(4, width), 0)).getMessage();
        assertTrue(msg.contains("this Java process may use at most"), msg);
    }
}
