package dev.cnnzoo.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.ShapeException;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.graph.Value;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AdaptiveAvgPoolTest {
    /** The input positions each output cell averages, as PyTorch's adaptive_avg_pool1d picks them (checked with torch 1.13). */
    private static final int[][] WINDOWS_14_TO_4 = {{0, 1, 2, 3}, {3, 4, 5, 6}, {7, 8, 9, 10}, {10, 11, 12, 13}};
    private static final int[][] WINDOWS_15_TO_4 = {{0, 1, 2, 3}, {3, 4, 5, 6, 7}, {7, 8, 9, 10, 11}, {11, 12, 13, 14}};
    private static final int[][] WINDOWS_5_TO_3 = {{0, 1}, {1, 2, 3}, {3, 4}};

    @Test
    void averagingMatricesCoverPyTorchsWindows() {
        assertWindows(14, WINDOWS_14_TO_4);
        assertWindows(15, WINDOWS_15_TO_4);
        assertWindows(5, WINDOWS_5_TO_3);
    }

    private static void assertWindows(int n, int[][] windows) {
        int out = windows.length;
        float[] rows = Net.averaging(n, out, false).floats();
        float[] columns = Net.averaging(n, out, true).floats();
        for (int i = 0; i < out; i++) {
            for (int j = 0; j < n; j++) {
                int position = j;
                boolean inWindow = java.util.Arrays.stream(windows[i]).anyMatch(p -> p == position);
                float expected = inWindow ? 1f / windows[i].length : 0f;
                assertEquals(expected, rows[i * n + j], 1e-7, n + "→" + out + " row " + i + " position " + j);
                assertEquals(expected, columns[j * out + i], 1e-7, n + "→" + out + " column " + i + " position " + j);
            }
        }
    }

    @Test
    void unevenWindowsBecomeTwoMatrixProductsOfTheRightShape() {
        Net net = new Net("aux");
        Value x = net.input(512, 14, 14);
        Value y = net.adaptiveAvgPool(x, 4, 4);
        assertEquals("N×512×4×4", y.shape().toString());
        Graph g = build(net, y);
        assertEquals(List.of("MatMul", "MatMul"), ops(g));
        // Applied to a map holding its row index, the rows' averages are the windows' mean rows.
        Tensor rows = g.constants().get(g.nodes().get(1).input(0).name());
        float[] expectedMeans = {1.5f, 4.5f, 8.5f, 11.5f};
        for (int i = 0; i < 4; i++) {
            float mean = 0;
            for (int j = 0; j < 14; j++) {
                mean += rows.floats()[i * 14 + j] * j;
            }
            assertEquals(expectedMeans[i], mean, 1e-5);
        }
    }

    @Test
    void evenWindowsAreOneAveragePoolAndOneByOneIsGlobal() {
        Net net = new Net("even");
        Value x = net.input(8, 8, 6);
        Value y = net.adaptiveAvgPool(x, 4, 3);
        assertEquals("N×8×4×3", y.shape().toString());
        assertEquals(List.of("AveragePool"), ops(build(net, y)));

        Net global = new Net("global");
        Value z = global.adaptiveAvgPool(global.input(8, 7, 5), 1, 1);
        assertEquals("N×8×1×1", z.shape().toString());
        assertEquals(List.of("GlobalAveragePool"), ops(build(global, z)));
    }

    @Test
    void matchingSizeIsTheIdentity() {
        Net net = new Net("identity");
        Value x = net.input(4, 6, 6);
        org.junit.jupiter.api.Assertions.assertSame(x, net.adaptiveAvgPool(x, 6, 6));
    }

    @Test
    void windowsOverlapWhenShrinkingAndRepeatWhenGrowing() {
        // PyTorch's bins [floor(i·n/out), ceil((i+1)·n/out)): 7 → 6 overlap, 5 → 6 repeat cells.
        assertWindows(7, new int[][] {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 6}});
        assertWindows(5, new int[][] {{0}, {0, 1}, {1, 2}, {2, 3}, {3, 4}, {4}});
    }

    @Test
    void onlyTheAxisThatChangesIsMultiplied() {
        Net net = new Net("one-axis");
        Value y = net.adaptiveAvgPool(net.input(4, 6, 7), 6, 4);
        assertEquals(List.of("MatMul"), ops(build(net, y)));
    }

    @Test
    void refusesAFlatInput() {
        Net net = new Net("flat");
        Value x = net.flatten(net.input(3, 4, 4));
        assertThrows(ShapeException.class, () -> net.adaptiveAvgPool(x, 2, 2));
    }

    private static Graph build(Net net, Value y) {
        net.output("y", y);
        return net.build();
    }

    private static List<String> ops(Graph g) {
        List<String> ops = new ArrayList<>();
        for (Node n : g.nodes()) {
            ops.add(n.op());
        }
        return ops;
    }
}
