package dev.cnnzoo.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Pool;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.OnnxExporter;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.testkit.TestTensors;
import dev.cnnzoo.weights.Weights;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** TrainingGraph.Activations.RECOMPUTE: ReLU outputs after batch norms are rebuilt in the backward pass. */
class ActivationRecomputationTest {
    /** conv–bn–relu twice, a max pool between, a dense head: the shape of the zoo's batch-norm networks. */
    private static Graph network() {
        Net net = new Net("conv-bn-relu");
        Value x = net.input(3, 8, 8);
        Value h = net.relu(net.batchNorm("bn1", net.conv("conv1", x, Conv.of(4, 3).pad(1))));
        h = net.maxPool(h, Pool.of(2));
        h = net.relu(net.batchNorm("bn2", net.conv("conv2", h, Conv.of(5, 3).pad(1))));
        net.output(Net.LOGITS, net.dense("fc", net.flatten(h), 3));
        return net.build();
    }

    @Test
    void recomputedActivationsGiveTheSameGradientsBitForBit() {
        Graph g = network();
        Map<String, Tensor> keep = gradients(TrainingGraph.build(g, Loss.crossEntropy(), Set.of(), true, TrainingGraph.Activations.KEEP), g);
        Map<String, Tensor> recompute = gradients(TrainingGraph.build(g, Loss.crossEntropy(), Set.of(), true,
                TrainingGraph.Activations.RECOMPUTE), g);
        assertEquals(keep.keySet(), recompute.keySet());
        for (String name : keep.keySet()) {
            assertTrue(keep.get(name).bitEquals(recompute.get(name)), name + " differs when activations are recomputed");
        }
    }

    /** The forward ReLUs' outputs feed forward nodes only; the backward pass reads their recomputations. */
    @Test
    void theBackwardPassReadsNoForwardReluOutput() {
        Graph tg = TrainingGraph.build(network(), Loss.crossEntropy(), Set.of(), false, TrainingGraph.Activations.RECOMPUTE).graph();
        List<Node> forwardRelus = tg.nodes().stream().filter(n -> n.is(Op.RELU) && !n.layer().contains("/")).toList();
        assertEquals(2, forwardRelus.size());
        for (Node relu : forwardRelus) {
            Value y = relu.outputs().get(0);
            List<String> readers = tg.nodes().stream().filter(n -> n.inputs().contains(y)).map(Node::layer).toList();
            assertTrue(readers.stream().noneMatch(l -> l.contains("/grad")), relu.name() + " is read by " + readers);
        }
        assertEquals(2, tg.nodes().stream().filter(n -> n.is(Op.RELU) && n.layer().endsWith("/recompute")).count());
        // without recomputation the backward pass reads them
        Graph kept = TrainingGraph.build(network(), Loss.crossEntropy(), Set.of(), false).graph();
        Node relu = kept.nodes().stream().filter(n -> n.is(Op.RELU)).findFirst().orElseThrow();
        assertTrue(kept.nodes().stream().anyMatch(n -> n.inputs().contains(relu.outputs().get(0)) && n.layer().contains("/grad")));
    }

    @Test
    void recomputedGradientsMatchFiniteDifferences() {
        List<String> checked = GradientCheck.of(network()).activations(TrainingGraph.Activations.RECOMPUTE).run();
        assertTrue(checked.containsAll(List.of("conv1.weight", "bn1.weight", "conv2.weight", "input")), checked.toString());
    }

    private static Map<String, Tensor> gradients(TrainingGraph tg, Graph forward) {
        byte[] model = OnnxExporter.toBytes(tg.graph(), null, ExportOptions.defaults().asBuilt().weightsAsInputs(true));
        Map<String, Tensor> feeds = new HashMap<>(Weights.initial(forward, 3).asMap());
        feeds.put("input", TestTensors.images(2, 3, 8, 8, 4));
        feeds.put(TrainingGraph.LABELS, Tensor.ofLongs(dev.cnnzoo.graph.Shape.of(2), new long[] {0, 2}));
        try (InferenceSession s = InferenceSession.open(model, RuntimeOptions.cpu(1))) {
            Map<String, Tensor> out = s.run(feeds);
            Map<String, Tensor> grads = new HashMap<>();
            out.forEach((k, v) -> {
                if (k.endsWith(TrainingGraph.GRAD) || k.endsWith(TrainingGraph.UPDATED)) {
                    grads.put(k, v);
                }
            });
            return grads;
        }
    }
}
