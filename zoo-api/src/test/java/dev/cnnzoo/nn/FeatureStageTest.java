package dev.cnnzoo.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cnnzoo.graph.FeatureStage;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Value;
import java.util.List;
import org.junit.jupiter.api.Test;

class FeatureStageTest {
    /**
     * A stem convolution at stride 2, a 3×3/2 max pool, then two branches (one stride-2 convolution,
     * one stride-2 pool) concatenated: reductions 2, 4 and 8 whatever the input size.
     */
    private static Graph network(int size, Head head) {
        Net net = new Net("staged");
        Value x = net.input(3, size, size);
        x = net.feature("stem", net.relu(net.conv("stem", x, Conv.of(8, 3).stride(2).pad(1))));
        x = net.maxPool("pool", x, Pool.of(3).stride(2).pad(1));
        x = net.feature("block", net.relu(net.conv("block", x, Conv.of(8, 3).pad(1))));
        Value a = net.conv("reduce", x, Conv.of(8, 3).stride(2).pad(1));
        Value b = net.maxPool("reduce_pool", x, Pool.of(2));
        x = net.feature("mixed", net.concat(a, b));
        net.top(x, head, f -> net.dense("fc", net.flatten(net.globalAvgPool(f)), 10));
        return net.build();
    }

    private static String describe(List<FeatureStage> stages) {
        return String.join(", ", stages.stream().map(s -> s.name() + " " + s.layer() + " " + s.channels() + " /" + s.reduction()
                + " " + s.value().shape()).toList());
    }

    @Test
    void reductionIsTheProductOfTheStridesOnTheWayNotTheRatioOfSizes() {
        assertEquals("stage1 stem 8 /2 N×8×32×32, stage2 block 8 /4 N×8×16×16, stage3 mixed 16 /8 N×16×8×8",
                describe(network(64, Head.logits()).featureStages()));
        // 37 → 19 → 10 → 5: the sizes no longer halve exactly, the reductions stay nominal.
        assertEquals("stage1 stem 8 /2 N×8×19×19, stage2 block 8 /4 N×8×10×10, stage3 mixed 16 /8 N×16×5×5",
                describe(network(37, Head.logits()).featureStages()));
    }

    @Test
    void stagesAreOutputsNamedAfterThemAndTheHeadIsNeverBuilt() {
        Net net = new Net("staged");
        Value x = net.input(3, 16, 16);
        x = net.feature("conv", net.relu(net.conv("conv", x, Conv.of(4, 3).stride(2).pad(1))));
        net.top(x, Head.stages(), f -> fail("the classifier of a feature extractor is built"));
        Graph g = net.build();
        assertEquals(List.of("stage1"), g.outputs().stream().map(Graph.Output::name).toList());
        assertEquals(List.of("conv.weight", "conv.bias"), List.copyOf(g.parameters().keySet()));

        Graph staged = network(64, Head.stages());
        assertEquals(List.of("stage1", "stage2", "stage3"), staged.outputs().stream().map(Graph.Output::name).toList());
        assertEquals(staged.featureStages().stream().map(FeatureStage::value).toList(),
                staged.outputs().stream().map(Graph.Output::value).toList());
        assertFalse(staged.parameters().containsKey("fc.weight"));
        assertEquals(true, staged.outputsFeatureStages());
        // A classifier network and a headless one record the same stages but do not output them.
        assertEquals(false, network(64, Head.logits()).outputsFeatureStages());
        assertEquals(false, network(64, Head.features(GlobalPool.NONE)).outputsFeatureStages());
    }

    @Test
    void selectingStagesKeepsTheirNamesAndPrunesWhatFollows() {
        Graph staged = network(64, Head.stages());
        Graph first = staged.selectFeatureStages(List.of(1));
        assertEquals(List.of("stage1"), first.outputs().stream().map(Graph.Output::name).toList());
        assertEquals(List.of("stem.weight", "stem.bias"), List.copyOf(first.parameters().keySet()));
        Graph ends = staged.selectFeatureStages(List.of(1, 3));
        assertEquals(List.of("stage1", "stage3"), ends.outputs().stream().map(Graph.Output::name).toList());
        assertEquals(List.of("stage1", "stage3"), ends.featureStages().stream().map(FeatureStage::name).toList());
    }

    @Test
    void aStageMustReduceTheInputMoreThanTheOneBefore() {
        Net net = new Net("twice");
        Value x = net.input(3, 16, 16);
        x = net.feature("conv1", net.conv("conv1", x, Conv.of(4, 3).stride(2).pad(1)));
        Value same = net.relu(net.conv("conv2", x, Conv.of(4, 3).pad(1)));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> net.feature("conv2", same));
        assertEquals("graph twice: feature stage conv2 (reduction 2) does not reduce the input more than conv1 (reduction 2); "
                + "mark only the last map at each reduction", e.getMessage());
        Value flat = net.flatten(net.globalAvgPool(same));
        assertThrows(IllegalArgumentException.class, () -> net.feature("flat", flat));
    }

    @Test
    void askingForStagesOfANetworkThatMarksNoneFails() {
        Net net = new Net("plain");
        Value x = net.relu(net.conv("conv", net.input(3, 8, 8), Conv.of(4, 3)));
        assertThrows(IllegalStateException.class, () -> net.top(x, Head.stages(), f -> f));
    }
}
