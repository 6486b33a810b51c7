package dev.cnnzoo.training;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.DType;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.GraphBuilder;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Parameter;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.io.AtomicFile;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.ModelExporter;
import dev.cnnzoo.onnx.OnnxExporter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A network's training artifacts in ONNX Runtime's on-device layout, every operator a standard
 * one, so plain ONNX Runtime sessions (CPU or CUDA, any language) run them:
 * <ul>
 *   <li>{@value #TRAINING_MODEL}: see {@link TrainingGraph};</li>
 *   <li>{@value #EVAL_MODEL}: the inference form (dropout off, batch norm on running statistics)
 *       with inputs the network's inputs, {@code labels} and every weight; outputs {@code loss}, {@code logits};</li>
 *   <li>{@value #OPTIMIZER_MODEL}: see {@link OptimizerGraph};</li>
 *   <li>{@value #CHECKPOINT}: see {@link Checkpoint};</li>
 *   <li>{@value #STEP_MODEL}: the training and optimizer graphs fused, one run per step: inputs as the
 *       training model's plus {@code learning_rate}, {@code step} and the optimizer state; outputs
 *       {@code loss}, every {@code <param>_updated}, {@code <state>_updated}, optimizer state
 *       {@code _updated}, then the logits.</li>
 * </ul>
 * Each ONNX file records in {@code metadata_props["zoo.training"]} the dropout masks it takes
 * (name, rate), the trainable and frozen parameters, the state and the optimizer.
 */
public final class TrainingArtifacts {
    public static final String TRAINING_MODEL = "training_model.onnx";
    public static final String EVAL_MODEL = "eval_model.onnx";
    public static final String OPTIMIZER_MODEL = "optimizer_model.onnx";
    public static final String CHECKPOINT = "checkpoint";
    public static final String STEP_MODEL = "train_step_model.onnx";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Model model;
    private final TrainingSpec spec;
    private final TrainingGraph training;
    private final Graph eval;
    private final Graph optimizer;
    private final Graph step;

    private TrainingArtifacts(Model model, TrainingSpec spec, TrainingGraph training, Graph eval, Graph optimizer, Graph step) {
        this.model = model;
        this.spec = spec;
        this.training = training;
        this.eval = eval;
        this.optimizer = optimizer;
        this.step = step;
    }

    /** The artifacts of {@code model} (built in its training form: dropout and auxiliary heads present). */
    public static TrainingArtifacts generate(Model model, TrainingSpec spec) {
        Graph forward = requireLogits(model.graph());
        TrainingGraph training = TrainingGraph.build(forward, spec.loss(), spec.frozen(), false, spec.activations());
        Map<String, Shape> shapes = new LinkedHashMap<>();
        for (String p : training.trainable()) {
            shapes.put(p, forward.parameters().get(p).shape());
        }
        return new TrainingArtifacts(model, spec, training, evalGraph(forward, spec.loss()),
                OptimizerGraph.build(spec.optimizer(), shapes), stepGraph(training, spec.optimizer()));
    }

    /** The inference form with the main head's cross-entropy. */
    public static Graph evalGraph(Graph forward, Loss loss) {
        Graph inference = requireLogits(forward).inferenceForm(false);
        GraphBuilder g = GraphBuilder.extending(inference);
        g.clearOutputs();
        Value labels = g.input(TrainingGraph.LABELS, DType.INT64, Shape.batched());
        Value logits = inference.mainOutput();
        Value l;
        try (var s = g.scope("loss")) {
            l = Losses.crossEntropy(g, logits, labels, loss.labelSmoothing(), 1.0, false).loss();
        }
        g.output(TrainingGraph.LOSS, l);
        g.output(logits.name(), logits);
        return g.build();
    }

    /** {@code forward}, unless it outputs feature stages, which no loss applies to. */
    private static Graph requireLogits(Graph forward) {
        if (forward.outputsFeatureStages()) {
            throw new ZooException(forward.name() + " is built for its features only: it has no logits to train or evaluate");
        }
        return forward;
    }

    /** The training graph with the optimizer's update appended: one run per step. */
    static Graph stepGraph(TrainingGraph training, Optimizer opt) {
        Graph tg = training.graph();
        GraphBuilder g = GraphBuilder.extending(tg);
        g.clearOutputs();
        Value lr = g.input(OptimizerGraph.LEARNING_RATE, DType.FLOAT, Shape.scalar());
        Value stepIndex = g.input(OptimizerGraph.STEP, DType.INT64, Shape.scalar());
        Map<String, Value> params = new LinkedHashMap<>();
        Map<String, Value> grads = new LinkedHashMap<>();
        Map<String, Value> states = new LinkedHashMap<>();
        for (String p : training.trainable()) {
            Value pv = tg.parameters().get(p).value();
            params.put(p, pv);
            grads.put(p, output(tg, p + TrainingGraph.GRAD));
            for (String s : opt.stateNames()) {
                states.put(p + "." + s, g.input(p + "." + s, DType.FLOAT, pv.shape()));
            }
        }
        for (String s : opt.globalStateNames()) {
            states.put(s, g.input(s, DType.FLOAT, Shape.scalar()));
        }
        Map<String, Value> updated = OptimizerGraph.emit(g, opt, lr, stepIndex, params, grads, states, readersDone(g, tg, params));
        g.output(TrainingGraph.LOSS, output(tg, TrainingGraph.LOSS));
        updated.forEach((name, v) -> {
            if (params.containsKey(name)) {
                g.output(name + TrainingGraph.UPDATED, v);
            }
        });
        for (String s : training.state()) {
            g.output(s + TrainingGraph.UPDATED, output(tg, s + TrainingGraph.UPDATED));
        }
        updated.forEach((name, v) -> {
            if (!params.containsKey(name)) {
                g.output(name + TrainingGraph.UPDATED, v);
            }
        });
        for (Graph.Output o : tg.outputs()) {
            if (!o.name().equals(TrainingGraph.LOSS) && !o.name().endsWith(TrainingGraph.GRAD) && !o.name().endsWith(TrainingGraph.UPDATED)) {
                g.output(o.name(), o.value());
            }
        }
        return g.build();
    }

    /**
     * Operators that only move or select data: a parameter read through them is read again by
     * whatever consumes their output, and ONNX Runtime's layout optimiser reorders them freely
     * (it moved a Transpose of a convolution's weights past a node that read the Transpose's
     * output), so no ordering can hang on them.
     */
    private static final java.util.Set<Op> MOVES = java.util.EnumSet.of(Op.RESHAPE, Op.FLATTEN, Op.SQUEEZE, Op.UNSQUEEZE, Op.IDENTITY,
            Op.TRANSPOSE, Op.SLICE, Op.GATHER, Op.CONCAT, Op.SPLIT, Op.PAD, Op.EXPAND, Op.CAST);

    /**
     * Per trainable parameter, a BOOL value computed from one element of the output of each
     * backward node that computes with the parameter (reached through any data movement): once
     * they exist, nothing reads the parameter any more. The step engine writes each parameter's new
     * value into the parameter's own tensor (as PyTorch's optimizers do), and the update waits for
     * this (see {@link OptimizerGraph#emit}); the forward pass's readers precede it anyway, since
     * the gradient the update needs comes from the loss they lead to. Without the wait, ONNX Runtime
     * may run an update as soon as the parameter's gradient exists, before the input gradient of the
     * same layer has read the old weights.
     */
    private static Map<String, List<Value>> readersDone(GraphBuilder g, Graph tg, Map<String, Value> params) {
        Map<Value, List<dev.cnnzoo.graph.Node>> consumers = new java.util.IdentityHashMap<>();
        for (dev.cnnzoo.graph.Node n : tg.nodes()) {
            for (Value v : n.inputs()) {
                if (v != null) {
                    consumers.computeIfAbsent(v, k -> new java.util.ArrayList<>()).add(n);
                }
            }
        }
        Map<String, List<Value>> done = new LinkedHashMap<>();
        try (var scope = g.scope("optimizer.order")) {
            params.forEach((name, param) -> {
                List<Value> all = new java.util.ArrayList<>();
                java.util.Deque<Value> moved = new java.util.ArrayDeque<>(List.of(param));
                java.util.Set<dev.cnnzoo.graph.Node> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
                while (!moved.isEmpty()) {
                    for (dev.cnnzoo.graph.Node reader : consumers.getOrDefault(moved.pop(), List.of())) {
                        if (!reader.layer().contains("/grad") || !seen.add(reader)) {
                            continue;
                        }
                        if (MOVES.contains(reader.operator())) {
                            moved.addAll(reader.outputs());
                        } else if (reader.outputs().get(0).dtype() == DType.FLOAT) {
                            all.add(OptimizerGraph.computed(g, reader.outputs().get(0)));
                        }
                    }
                }
                if (!all.isEmpty()) {
                    done.put(name, all);
                }
            });
        }
        return done;
    }

    private static Value output(Graph g, String name) {
        return g.outputs().stream().filter(o -> o.name().equals(name)).findFirst().orElseThrow().value();
    }

    public TrainingGraph training() {
        return training;
    }

    public Graph evalGraph() {
        return eval;
    }

    public Graph optimizerGraph() {
        return optimizer;
    }

    public Graph stepGraph() {
        return step;
    }

    public TrainingSpec spec() {
        return spec;
    }

    public Model model() {
        return model;
    }

    public byte[] trainingModel() {
        return bytes(training.graph());
    }

    public byte[] evalModel() {
        return bytes(eval);
    }

    public byte[] optimizerModel() {
        return bytes(optimizer);
    }

    public byte[] stepModel() {
        return bytes(step);
    }

    private byte[] bytes(Graph g) {
        ExportOptions o = ModelExporter.withModelMetadata(model, ExportOptions.defaults().asBuilt().weightsAsInputs(true))
                .metadata(Map.of("zoo.training", describe()));
        return OnnxExporter.toBytes(g, null, o);
    }

    /** The JSON recorded in each file's {@code zoo.training} metadata. */
    public String describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("masks", training.masks().stream().map(k -> Map.of("input", k.input(), "rate", k.rate())).toList());
        m.put("trainable", training.trainable());
        m.put("frozen", training.frozen());
        m.put("state", training.state());
        m.put("optimizer", spec.optimizer().describe());
        m.put("optimizer_state", spec.optimizer().stateNames());
        m.put("label_smoothing", spec.loss().labelSmoothing());
        m.put("auxiliary_weight", spec.loss().auxiliaryWeight());
        try {
            return JSON.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes the four files of ORT's layout and the fused step model into {@code dir}, each atomically. */
    public void write(Path dir, Checkpoint checkpoint) throws IOException {
        AtomicFile.write(dir.resolve(TRAINING_MODEL), trainingModel());
        AtomicFile.write(dir.resolve(EVAL_MODEL), evalModel());
        AtomicFile.write(dir.resolve(OPTIMIZER_MODEL), optimizerModel());
        AtomicFile.write(dir.resolve(STEP_MODEL), stepModel());
        checkpoint.write(dir.resolve(CHECKPOINT));
    }

    /** Every weight of the network (parameters and state) in graph order. */
    public List<String> weightNames() {
        return model.graph().parameters().values().stream().map(Parameter::name).toList();
    }
}
