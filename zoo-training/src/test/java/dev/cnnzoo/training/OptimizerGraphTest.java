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

    /**
     * However ONNX Runtime orders an update's nodes, a parameter's update holds at most its gradient
     * and two more parameter-sized temporaries at once (plain SGD one): the largest number live over
     * every order the graph's data dependencies allow, searched exhaustively over the nodes that read
     * or write such a temporary. Its outputs are written in place and ONNX Runtime's Reshape is a view,
     * so neither counts. Without the update's ordering conditions NAdam and AdamW reach 4 (NAdam's
     * gradient, read again by its step, alive through both moments' chains interleaved, or the
     * denominator computed before the numerator; AdamW's decayed weights computed first).
     */
    @Test
    void anUpdateHoldsAtMostTwoParameterSizedTemporariesBesidesItsGradient() {
        Shape shape = Shape.of(256, 256);                   // OptimizerGraph.ORDERED_MIN_ELEMENTS: ordered
        assertEquals(3, mostLiveTemporaries(Optimizer.adam(), shape));
        assertEquals(3, mostLiveTemporaries(Optimizer.adamw(0.01), shape));
        assertEquals(3, mostLiveTemporaries(Optimizer.nadam(), shape));
        assertEquals(3, mostLiveTemporaries(Optimizer.sgd(0.9, true), shape));
        assertEquals(2, mostLiveTemporaries(Optimizer.sgd(0, false), shape));
    }

    /**
     * The ordering conditions (IsNaN of one element, Where) are for parameters large enough that a
     * temporary matters; a batch norm's scale or a small kernel updates without them.
     */
    @Test
    void onlyLargeParametersHaveTheirUpdatesOrdered() {
        long side = (long) Math.sqrt(OptimizerGraph.ORDERED_MIN_ELEMENTS);
        for (Optimizer opt : List.of(Optimizer.adam(), Optimizer.adamw(0.01), Optimizer.nadam())) {
            long large = OptimizerGraph.build(opt, Map.of("w", Shape.of((int) side, (int) side))).nodes().stream().filter(n -> n.is(Op.IS_NAN)).count();
            long small = OptimizerGraph.build(opt, Map.of("w", Shape.of((int) side, (int) side - 1))).nodes().stream().filter(n -> n.is(Op.IS_NAN)).count();
            assertTrue(large >= 3, opt + ": " + large + " conditions on a parameter of " + side * side + " values");
            assertEquals(0, small, opt + ": conditions on a parameter of " + side * (side - 1) + " values");
        }
    }

    /** The most parameter-sized temporaries (the gradient included) live at once over every valid order. */
    private static int mostLiveTemporaries(Optimizer opt, Shape shape) {
        Graph g = OptimizerGraph.build(opt, Map.of("w", shape));
        java.util.Set<Value> outputs = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        g.outputs().forEach(o -> outputs.add(o.value()));
        // a Reshape's output is a view: its readers read its input
        Map<Value, Value> base = new java.util.IdentityHashMap<>();
        java.util.function.Function<Value, Value> root = v -> {
            Value r = v;
            while (base.containsKey(r)) {
                r = base.get(r);
            }
            return r;
        };
        for (Node n : g.nodes()) {
            if (n.is(Op.RESHAPE)) {
                base.put(n.outputs().get(0), n.inputs().get(0));
            }
        }
        java.util.function.Predicate<Value> temporary = v -> v != null && !outputs.contains(v) && v.shape().isStatic()
                && v.shape().elements() == shape.elements() && (g.producer(v) != null || v.name().equals("w" + TrainingGraph.GRAD));
        List<Node> nodes = g.nodes().stream().filter(n -> !n.is(Op.RESHAPE)
                && (n.outputs().stream().anyMatch(temporary) || n.inputs().stream().map(v -> v == null ? null : root.apply(v)).anyMatch(temporary)))
                .toList();
        int count = nodes.size();
        assertTrue(count < 24, "a search over 2^" + count + " sets");
        // ancestors among the searched nodes, through every node of the graph
        long[] before = new long[count];
        for (int i = 0; i < count; i++) {
            java.util.Deque<Node> todo = new java.util.ArrayDeque<>(List.of(nodes.get(i)));
            java.util.Set<Node> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            while (!todo.isEmpty()) {
                for (Value in : todo.pop().inputs()) {
                    Node p = in == null ? null : g.producer(in);
                    if (p != null && seen.add(p)) {
                        todo.push(p);
                        int j = nodes.indexOf(p);
                        if (j >= 0) {
                            before[i] |= 1L << j;
                        }
                    }
                }
            }
        }
        Map<Value, Long> readers = new java.util.IdentityHashMap<>();
        Map<Value, Integer> writer = new java.util.IdentityHashMap<>();
        for (int i = 0; i < count; i++) {
            for (Value in : nodes.get(i).inputs()) {
                Value r = in == null ? null : root.apply(in);
                if (temporary.test(r)) {
                    readers.merge(r, 1L << i, (a, b) -> a | b);
                }
            }
            for (Value out : nodes.get(i).outputs()) {
                if (temporary.test(out)) {
                    writer.put(out, i);
                }
            }
        }
        return most(0L, count, before, readers, writer, new HashMap<>());
    }

    private static int most(long done, int count, long[] before, Map<Value, Long> readers, Map<Value, Integer> writer, Map<Long, Integer> memo) {
        Integer known = memo.get(done);
        if (known != null) {
            return known;
        }
        int live = 0;
        for (Map.Entry<Value, Long> r : readers.entrySet()) {
            Integer w = writer.get(r.getKey());
            boolean written = w == null || (done & (1L << w)) != 0;       // the gradient exists from the start
            if (written && (r.getValue() & ~done) != 0) {
                live++;
            }
        }
        int most = live;
        for (int i = 0; i < count; i++) {
            if ((done & (1L << i)) == 0 && (before[i] & ~done) == 0) {
                int made = 0;
                for (Map.Entry<Value, Integer> w : writer.entrySet()) {
                    made += w.getValue() == i ? 1 : 0;
                }
                most = Math.max(most, Math.max(live + made, most(done | (1L << i), count, before, readers, writer, memo)));
            }
        }
        memo.put(done, most);
        return most;
    }
}
