package dev.cnnzoo.blocks;

import static dev.cnnzoo.blocks.Inception.conv;
import static dev.cnnzoo.blocks.Inception.fork;
import static dev.cnnzoo.blocks.Inception.maxPool;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.BatchNorm;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Pool;
import java.util.List;
import org.junit.jupiter.api.Test;

class InceptionTest {
    @Test
    void googLeNetModuleConcatenatesItsFourBranchesUnderSequentialNames() {
        Net net = new Net("module");
        Value x = net.input(192, 28, 28);
        // GoogLeNet's 3a (Szegedy et al. 2014, Table 1): 64, 96→128, 16→32, pool→32.
        Value y = Inception.module(net, "inception3a", x, Inception.convRelu(),
                Inception.sequential("branch1", conv(Conv.of(64, 1))),
                Inception.sequential("branch2", conv(Conv.of(96, 1)), conv(Conv.of(128, 3).same())),
                Inception.sequential("branch3", conv(Conv.of(16, 1)), conv(Conv.of(32, 5).same())),
                Inception.sequential("branch4", maxPool(Pool.of(3).stride(1).same()), conv(Conv.of(32, 1))));
        assertEquals("N×256×28×28", y.shape().toString());
        net.output("y", y);
        Graph g = net.build();
        assertEquals(List.of(
                "inception3a.branch1.weight", "inception3a.branch1.bias",
                "inception3a.branch2.0.weight", "inception3a.branch2.0.bias",
                "inception3a.branch2.1.weight", "inception3a.branch2.1.bias",
                "inception3a.branch3.0.weight", "inception3a.branch3.0.bias",
                "inception3a.branch3.1.weight", "inception3a.branch3.1.bias",
                "inception3a.branch4.1.weight", "inception3a.branch4.1.bias"), List.copyOf(g.parameters().keySet()));
        assertEquals("[32, 16, 5, 5]", java.util.Arrays.toString(g.parameters().get("inception3a.branch3.1.weight").shape().dims()));
        // 1×1: 192·64+64; 3×3: 192·96+96 + 96·9·128+128; 5×5: 192·16+16 + 16·25·32+32; pool: 192·32+32.
        assertEquals(12_352 + 18_528 + 110_720 + 3_088 + 12_832 + 6_176, g.trainableParameterCount());
    }

    @Test
    void forkedConvolutionsShareTheirInputAndConcatenate() {
        Net net = new Net("fork");
        Value x = net.input(16, 8, 8);
        // Inception v3's expanded filter bank: 1×1, then a 1×3 and a 3×1 side by side.
        Value y = Inception.module(net, "mixed", x, Inception.convBnRelu(BatchNorm.defaults().epsilon(1e-3)),
                Inception.branch(conv("b_1", Conv.of(6, 1)),
                        fork(conv("b_2a", Conv.of(4, 1, 3).pad(0, 1)), conv("b_2b", Conv.of(5, 3, 1).pad(1, 0)))),
                Inception.branch(maxPool(Pool.of(3).stride(1).pad(1))));
        assertEquals("N×25×8×8", y.shape().toString());
        net.output("y", y);
        Graph g = net.build();
        assertEquals("[4, 6, 1, 3]", java.util.Arrays.toString(g.parameters().get("mixed.b_2a.conv.weight").shape().dims()));
        assertEquals("[5, 6, 3, 1]", java.util.Arrays.toString(g.parameters().get("mixed.b_2b.conv.weight").shape().dims()));
        assertTrue(g.parameters().containsKey("mixed.b_2b.bn.running_var"));
        // The fork's two heads join the module's concatenation directly: one Concat of three inputs, in branch order.
        assertEquals(1, g.nodes().stream().filter(n -> n.op().equals("Concat")).count());
        assertEquals(java.util.List.of(4, 5, 16), g.producer(g.outputs().get(0).value()).inputs().stream().map(v -> v.shape().dim(1)).toList());
    }

    @Test
    void misuseIsRefusedWithAReason() {
        IllegalArgumentException unnamed = assertThrows(IllegalArgumentException.class,
                () -> Inception.branch(conv(Conv.of(8, 1))));
        assertTrue(unnamed.getMessage().contains("no name"), unnamed.getMessage());
        assertThrows(IllegalArgumentException.class, () -> fork(conv("only", Conv.of(8, 1))));
        Net net = new Net("empty");
        Value x = net.input(3, 8, 8);
        assertThrows(IllegalArgumentException.class, () -> Inception.module(net, "m", x, Inception.convRelu()));
    }
}
