package dev.cnnzoo.blocks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.ShapeException;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Net;
import java.util.List;
import org.junit.jupiter.api.Test;

class AdaptiveAvgPoolTest {
    private static Graph pooled(int h, int w, int outH, int outW) {
        Net net = new Net("adaptive");
        Value x = net.input(4, h, w);
        net.output("out", AdaptiveAvgPool.of(net, net.relu(x), outH, outW));
        return net.build();
    }

    private static List<String> ops(Graph g) {
        return g.nodes().stream().map(Node::op).toList();
    }

    @Test
    void matchingSizeIsTheIdentity() {
        Net net = new Net("identity");
        Value x = net.input(4, 6, 6);
        assertSame(x, AdaptiveAvgPool.of(net, x, 6, 6));
    }

    @Test
    void evenlyDividingSizesAreOneAveragePool() {
        Graph g = pooled(14, 21, 7, 7);
        assertEquals(List.of("Relu", "AveragePool"), ops(g));
        Node pool = g.nodes().get(1);
        assertArrayEquals(new long[] {2, 3}, pool.attributes().getInts("kernel_shape"));
        assertArrayEquals(new long[] {2, 3}, pool.attributes().getInts("strides"));
        assertEquals(Shape.of(Shape.BATCH, 4, 7, 7), g.mainOutput().shape());
    }

    @Test
    void otherSizesAreTwoMatMulsWithPytorchsBins() {
        Graph g = pooled(7, 5, 6, 6);
        assertEquals(List.of("Relu", "MatMul", "MatMul"), ops(g));
        assertEquals(Shape.of(Shape.BATCH, 4, 6, 6), g.mainOutput().shape());
    }

    @Test
    void binsOverlapWhenShrinkingByLessThanTwo() {
        // PyTorch's bins for 7 → 6: [floor(7i/6), ceil(7(i+1)/6)) = [0,2) [1,3) [2,4) [3,5) [4,6) [5,7).
        float h = 0.5f;
        float[] expected = {
            h, h, 0, 0, 0, 0, 0,
            0, h, h, 0, 0, 0, 0,
            0, 0, h, h, 0, 0, 0,
            0, 0, 0, h, h, 0, 0,
            0, 0, 0, 0, h, h, 0,
            0, 0, 0, 0, 0, h, h,
        };
        assertArrayEquals(expected, AdaptiveAvgPool.averaging(7, 6).floats());
    }

    @Test
    void binsRepeatCellsWhenGrowing() {
        // 5 → 6: [0,1) [0,2) [1,3) [2,4) [3,5) [4,5).
        float h = 0.5f;
        float[] expected = {
            1, 0, 0, 0, 0,
            h, h, 0, 0, 0,
            0, h, h, 0, 0,
            0, 0, h, h, 0,
            0, 0, 0, h, h,
            0, 0, 0, 0, 1,
        };
        assertArrayEquals(expected, AdaptiveAvgPool.averaging(5, 6).floats());
    }

    @Test
    void flatInputIsAShapeError() {
        Net net = new Net("flat");
        Value x = net.flatten(net.input(4, 3, 3));
        ShapeException e = assertThrows(ShapeException.class, () -> AdaptiveAvgPool.of(net, x, 6, 6));
        assertEquals("layer 'adaptive pooling': adaptive average pooling needs N×C×H×W maps, got N×36", e.getMessage());
    }
}
