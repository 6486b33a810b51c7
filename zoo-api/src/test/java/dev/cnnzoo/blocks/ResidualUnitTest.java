package dev.cnnzoo.blocks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.ShapeException;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Net;
import java.util.Set;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

class ResidualUnitTest {
    /** One unit on an N×maps×size×size input, scoped "unit". */
    private static Graph unit(int maps, int size, BiFunction<Net, Value, Value> body) {
        Net net = new Net("unit");
        Value x = net.input(maps, size, size);
        net.output("out", body.apply(net, x));
        return net.build();
    }

    private static int[] dims(Graph g, String parameter) {
        return g.parameters().get(parameter).shape().dims();
    }

    private static Node last(Graph g) {
        return g.producer(g.mainOutput());
    }

    @Test
    void basicUnitKeepingItsShapeHasAnIdentityShortcut() {
        Graph g = unit(64, 56, (net, x) -> ResidualUnit.basic().apply(net, "unit", x, 64, 1));
        // ResNet-34's conv2_x unit: two 3×3×64×64 convolutions and two batch norms (He et al. 2015, Table 1).
        assertEquals(2 * 9 * 64 * 64 + 4 * 64, g.trainableParameterCount());
        assertArrayEquals(new int[] {64, 64, 3, 3}, dims(g, "unit.conv2.weight"));
        assertTrue(g.parameters().keySet().stream().noneMatch(k -> k.contains("downsample")));
        // Post-activation: relu(F(x) + x), the sum taking the input itself.
        assertEquals("Relu", last(g).op());
        Node sum = g.producer(last(g).input(0));
        assertEquals("Add", sum.op());
        assertTrue(sum.inputs().contains(g.inputs().get(0)));
        assertEquals("N×64×56×56", g.mainOutput().shape().toString());
    }

    @Test
    void aUnitChangingShapeProjectsItsShortcut() {
        Graph g = unit(64, 56, (net, x) -> ResidualUnit.basic().apply(net, "unit", x, 128, 2));
        assertEquals("N×128×28×28", g.mainOutput().shape().toString());
        assertArrayEquals(new int[] {128, 64, 1, 1}, dims(g, "unit.downsample.0.weight"));
        assertArrayEquals(new int[] {128}, dims(g, "unit.downsample.1.running_var"));
        Node projection = g.nodes().stream().filter(n -> n.layer().equals("unit.downsample.0")).findFirst().orElseThrow();
        assertArrayEquals(new long[] {2, 2}, projection.attributes().getInts("strides"));
    }

    @Test
    void bottleneckReducesToItsWidthAndRestoresFourTimesIt() {
        Graph g = unit(256, 56, (net, x) -> ResidualUnit.bottleneck().apply(net, "unit", x, 64, 1));
        // torchvision resnet50 layer1.1: 1×1 256→64, 3×3 64→64, 1×1 64→256, three batch norms.
        assertEquals(256 * 64 + 9 * 64 * 64 + 64 * 256 + 2 * (64 + 64 + 256), g.trainableParameterCount());
        assertArrayEquals(new int[] {64, 256, 1, 1}, dims(g, "unit.conv1.weight"));
        assertArrayEquals(new int[] {256, 64, 1, 1}, dims(g, "unit.conv3.weight"));
        assertEquals("N×256×56×56", g.mainOutput().shape().toString());
        // 64 maps in, 256 out: the first unit of a stage projects even without a stride.
        Graph first = unit(64, 56, (net, x) -> ResidualUnit.bottleneck().apply(net, "unit", x, 64, 1));
        assertArrayEquals(new int[] {256, 64, 1, 1}, dims(first, "unit.downsample.0.weight"));
    }

    @Test
    void strideSitsInTheThreeByThreeUnlessAskedForTheFirstOneByOne() {
        Graph v15 = unit(256, 56, (net, x) -> ResidualUnit.bottleneck().apply(net, "unit", x, 128, 2));
        Graph paper = unit(256, 56, (net, x) -> ResidualUnit.bottleneck().strideInFirst(true).apply(net, "unit", x, 128, 2));
        assertEquals("N×128×56×56", outputOf(v15, "unit.conv1"));
        assertEquals("N×128×28×28", outputOf(paper, "unit.conv1"));
        assertEquals("N×512×28×28", v15.mainOutput().shape().toString());
        assertEquals("N×512×28×28", paper.mainOutput().shape().toString());
    }

    private static String outputOf(Graph g, String layer) {
        return g.nodes().stream().filter(n -> n.layer().equals(layer)).findFirst().orElseThrow().output().shape().toString();
    }

    @Test
    void preActivationUnitsNormaliseFirstAndAddLast() {
        Graph g = unit(64, 32, (net, x) -> ResidualUnit.bottleneck().preActivation().apply(net, "unit", x, 32, 2));
        // bnK comes before convK, so bn1 normalises the 64 input maps; no batch norm on the projection.
        assertArrayEquals(new int[] {64}, dims(g, "unit.bn1.weight"));
        assertArrayEquals(new int[] {32}, dims(g, "unit.bn3.weight"));
        assertFalse(g.parameters().containsKey("unit.downsample.1.weight"));
        assertEquals("Add", last(g).op());
        // Both paths start from the shared pre-activation (the authors' code for a unit changing shape).
        Node projection = g.nodes().stream().filter(n -> n.layer().equals("unit.downsample.0")).findFirst().orElseThrow();
        Node conv1 = g.nodes().stream().filter(n -> n.layer().equals("unit.conv1")).findFirst().orElseThrow();
        assertEquals("Relu", g.producer(projection.input(0)).op());
        assertEquals(projection.input(0), conv1.input(0));
        // Keeping its shape, the shortcut is the raw input, not its activation.
        Graph same = unit(128, 16, (net, x) -> ResidualUnit.bottleneck().preActivation().apply(net, "unit", x, 32, 1));
        assertTrue(last(same).inputs().contains(same.inputs().get(0)));
        // A unit after an activating stem has no bn1 of its own.
        Graph afterStem = unit(16, 32, (net, x) -> ResidualUnit.bottleneck().preActivation().applyActivated(net, "unit", x, 16, 1));
        assertFalse(afterStem.parameters().containsKey("unit.bn1.weight"));
        assertArrayEquals(new int[] {64, 16, 1, 1}, dims(afterStem, "unit.downsample.0.weight"));
    }

    @Test
    void zeroPaddedShortcutsSubsampleAndAppendZeroMaps() {
        Graph g = unit(16, 32, (net, x) -> ResidualUnit.basic().preActivation().shortcut(Shortcut.Kind.ZERO_PADDED)
                .apply(net, "unit", x, 32, 2));
        assertTrue(g.parameters().keySet().stream().noneMatch(k -> k.contains("downsample")));
        Node pad = g.nodes().stream().filter(n -> n.op().equals("Pad")).findFirst().orElseThrow();
        assertEquals("N×32×16×16", pad.output().shape().toString());
        assertEquals("AveragePool", g.producer(pad.input(0)).op());
        assertThrows(ShapeException.class, () -> unit(64, 8, (net, x) -> Shortcut.zeroPadded(net, x, 32, 1)));
    }

    @Test
    void squeezeExcitationGatesTheBranchBeforeTheSum() {
        Graph g = unit(256, 14, (net, x) -> ResidualUnit.bottleneck().squeezeExcitation(16).apply(net, "unit", x, 64, 1));
        assertArrayEquals(new int[] {16, 256, 1, 1}, dims(g, "unit.se.fc1.weight"));
        assertArrayEquals(new int[] {16}, dims(g, "unit.se.fc1.bias"));
        assertArrayEquals(new int[] {256, 16, 1, 1}, dims(g, "unit.se.fc2.weight"));
        Node scale = g.nodes().stream().filter(n -> n.op().equals("Mul")).findFirst().orElseThrow();
        assertEquals("unit.bn3", g.producer(scale.input(0)).layer());
        assertEquals("Sigmoid", g.producer(scale.input(1)).op());
        assertEquals("Add", g.consumers(scale.output()).get(0).op());
        // Hu et al. 2017 §3.2: C/r hidden units (at least one).
        assertEquals(128, SqueezeExcitation.reducedMaps(2048, 16));
        assertEquals(1, SqueezeExcitation.reducedMaps(8, 16));
    }

    @Test
    void zeroInitLastZeroesTheLastScaleOrConvolution() {
        Graph post = unit(64, 8, (net, x) -> ResidualUnit.basic().zeroInitLast(true).apply(net, "unit", x, 64, 1));
        Graph pre = unit(64, 8, (net, x) -> ResidualUnit.basic().preActivation().zeroInitLast(true).apply(net, "unit", x, 64, 1));
        float[] gamma = post.parameters().get("unit.bn2.weight").init()
                .sample(post.parameters().get("unit.bn2.weight").shape(), new java.util.SplittableRandom(1));
        assertEquals(Set.of(0f), set(gamma));
        var w = pre.parameters().get("unit.conv2.weight");
        assertEquals(Set.of(0f), set(w.init().sample(w.shape(), new java.util.SplittableRandom(1))));
        var first = pre.parameters().get("unit.conv1.weight");
        assertTrue(set(first.init().sample(first.shape(), new java.util.SplittableRandom(1))).size() > 1);
    }

    private static Set<Float> set(float[] a) {
        java.util.Set<Float> s = new java.util.HashSet<>();
        for (float f : a) {
            s.add(f);
        }
        return s;
    }

    @Test
    void misuseIsRejected() {
        assertThrows(IllegalStateException.class, () -> ResidualUnit.basic().expansion(2));
        assertThrows(IllegalStateException.class,
                () -> unit(64, 8, (net, x) -> ResidualUnit.basic().applyActivated(net, "unit", x, 64, 1)));
        assertThrows(IllegalArgumentException.class, () -> ResidualUnit.bottleneck().squeezeExcitation(0));
    }
}
