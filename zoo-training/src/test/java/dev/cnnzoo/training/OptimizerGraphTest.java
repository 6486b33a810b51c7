package dev.cnnzoo.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.OnnxExporter;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.testkit.Close;
import dev.cnnzoo.testkit.Conformance;
import dev.cnnzoo.testkit.OnnxChecker;
import dev.cnnzoo.testkit.Python;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OptimizerGraphTest {
    @TempDir
    Path dir;

    private static final Map<String, Shape> LAYOUT = new LinkedHashMap<>(Map.of("a", Shape.of(3, 4)));
    /** With a 1×1 kernel's shape: the update runs on a flattened view of it (GradientEmitter.withScalar). */
    private static final Map<String, Shape> SHAPES;

    static {
        LAYOUT.put("b", Shape.of(5));
        SHAPES = new LinkedHashMap<>(LAYOUT);
        SHAPES.put("c", Shape.of(4, 3, 1, 1));
    }

    @Test
    void inputsAndOutputsFollowTheLayout() {
        Graph g = OptimizerGraph.build(Optimizer.adam(), LAYOUT);
        assertEquals(List.of("learning_rate", "step", "a", "a_grad", "a.exp_avg", "a.exp_avg_sq", "b", "b_grad", "b.exp_avg", "b.exp_avg_sq"),
                g.inputs().stream().map(v -> v.name()).toList());
        assertEquals(List.of("a_updated", "a.exp_avg_updated", "a.exp_avg_sq_updated", "b_updated", "b.exp_avg_updated", "b.exp_avg_sq_updated"),
                g.outputs().stream().map(Graph.Output::name).toList());
        assertEquals(List.of("a_updated", "b_updated"),
                OptimizerGraph.build(Optimizer.sgd(0, false), LAYOUT).outputs().stream().map(Graph.Output::name).toList());
        assertEquals("optimizer.mu_product_updated",
                OptimizerGraph.build(Optimizer.nadam(), LAYOUT).outputs().get(6).name());
    }

    /**
     * ONNX Runtime broadcasts a scalar over a shape with an axis of 1 an element at a time (11 ns an
     * element against 0.3 over the same values flattened, docs/benchmarks.md): no update may
     * multiply or add a scalar to a 1×1 kernel's shape.
     */
    @Test
    void noScalarProductOverAShapeWithAnAxisOfOne() {
        for (Optimizer opt : List.of(Optimizer.sgd(0.9, true), Optimizer.adam(), Optimizer.adamw(0.01), Optimizer.nadam())) {
            Graph g = OptimizerGraph.build(opt, Map.of("c", Shape.of(4, 3, 1, 1)));
            int scalarOps = 0;
            for (Node n : g.nodes()) {
                if ((n.operator() == Op.MUL || n.operator() == Op.ADD) && n.inputs().stream().anyMatch(v -> v.shape().rank() == 0)) {
                    Value other = n.inputs().stream().filter(v -> v.shape().rank() > 0).findFirst().orElse(null);
                    if (other != null) {
                        scalarOps++;
                        assertEquals(1, other.shape().rank(), opt + ": " + n.name() + " broadcasts a scalar over " + other.shape());
                    }
                }
            }
            assertTrue(scalarOps >= 1, opt + " has no scalar product at all: the check checked nothing");
        }
    }

    @Conformance
    @Test
    void everyOptimizerMatchesPytorchOverThreeSteps() throws IOException {
        Path file = dir.resolve("optim.safetensors");
        Python.runResource(getClass(), "optimizers_torch.py", file.toString());
        Weights ref = Safetensors.read(file);
        Map<String, Optimizer> optimizers = Map.of(
                "sgd_nesterov", Optimizer.sgd(0.9, true).withWeightDecay(1e-2),
                "adam", Optimizer.adam().withWeightDecay(1e-2),
                "adamw", Optimizer.adamw(0.05),
                "nadam", Optimizer.nadam());
        float[] rates = {0.1f, 0.05f, 0.02f};
        for (Map.Entry<String, Optimizer> e : optimizers.entrySet()) {
            Optimizer opt = e.getValue();
            Graph g = OptimizerGraph.build(opt, SHAPES);
            Path onnx = dir.resolve(e.getKey() + ".onnx");
            OnnxExporter.write(g, null, onnx, ExportOptions.defaults().asBuilt().weightsAsInputs(true));
            OnnxChecker.fullCheck(onnx);
            Map<String, Tensor> state = new HashMap<>();
            for (String p : SHAPES.keySet()) {
                state.put(p, ref.get("p0." + p));
                for (String s : opt.stateNames()) {
                    state.put(p + "." + s, Tensor.zeros(SHAPES.get(p)));
                }
            }
            for (String s : opt.globalStateNames()) {
                state.put(s, Tensor.scalar(opt.initialGlobal(s)));
            }
            try (InferenceSession session = InferenceSession.open(onnx, RuntimeOptions.cpu(1))) {
                for (int t = 1; t <= 3; t++) {
                    Map<String, Tensor> feeds = new HashMap<>(state);
                    feeds.put(OptimizerGraph.LEARNING_RATE, Tensor.scalar(rates[t - 1]));
                    feeds.put(OptimizerGraph.STEP, Tensor.ofLongs(Shape.scalar(), new long[] {t}));
                    for (String p : SHAPES.keySet()) {
                        feeds.put(p + "_grad", ref.get("g" + t + "." + p));
                    }
                    Map<String, Tensor> out = session.run(feeds);
                    for (String name : List.copyOf(state.keySet())) {
                        state.put(name, out.get(name + TrainingGraph.UPDATED));
                    }
                    for (String p : SHAPES.keySet()) {
                        Close.assertRelative(e.getKey() + " step " + t + " " + p, ref.get(e.getKey() + ".p" + t + "." + p).floats(),
                                state.get(p).floats(), 1e-5);
                    }
                }
            }
        }
    }
}
