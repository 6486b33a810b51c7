package dev.cnnzoo.training;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Attributes;
import dev.cnnzoo.graph.DType;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.GraphBuilder;
import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Parameter;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Value;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A network's training step as one graph of standard ONNX operators: the forward pass in training
 * mode (batch statistics, dropout masks), the loss, and reverse-mode gradients of every trainable
 * parameter.
 *
 * <p>Inputs: the network's inputs, {@value #LABELS} (INT64 class indices, N), a mask per dropout
 * layer, and every parameter and piece of state by name (the exporter writes them as inputs).
 * Outputs, in order: {@value #LOSS}; {@code <parameter>_grad} for each trainable parameter;
 * {@code <state>_updated} for each running statistic; then the main logits and any auxiliary logits
 * (for accuracy).
 */
public final class TrainingGraph {
    public static final String LABELS = "labels";
    public static final String LOSS = "loss";
    public static final String GRAD = "_grad";
    public static final String UPDATED = "_updated";

    /**
     * What the forward pass keeps for the backward pass. {@link #KEEP}: every activation a gradient
     * needs. {@link #RECOMPUTE}: the output of each ReLU that follows a batch norm is not kept but
     * computed again in the backward pass, where the layers after it need it, from the batch norm's
     * input and statistics (kept anyway): two cheap passes per layer for one activation less, about
     * half of what a conv–batch-norm–ReLU network keeps. The gradients are the same, bit for bit.
     * {@link #DEFAULT} (what {@link TrainingSpec}, the trainer and the command line use unless told)
     * is to recompute: on a 2-core AMD EPYC at the
     * benchmark's batches, ResNet-50's step peaked at 1.37 against 1.51 GiB and Inception-v3's at
     * 1.12 against 1.18, each about 5 % slower; ResNet-18, GoogLeNet-BN and fashion-cnn the same in
     * both (docs/benchmarks.md). This graph's own {@link #build(Graph, Loss, Set, boolean)} keeps them.
     */
    public enum Activations {
        KEEP, RECOMPUTE;

        public static final Activations DEFAULT = RECOMPUTE;

        /** {@link #RECOMPUTE} or {@link #KEEP} as a user chose (a {@code --[no-]recompute} flag), {@link #DEFAULT} when they did not (null). */
        public static Activations recomputing(Boolean choice) {
            return choice == null ? DEFAULT : choice ? RECOMPUTE : KEEP;
        }
    }

    /** A dropout layer's mask input: zeros and 1/(1 − rate), shaped like the layer's input. */
    public record DropoutMask(String input, Shape shape, double rate) {
    }

    private final Graph graph;
    private final List<String> trainable;
    private final List<String> frozen;
    private final List<String> state;
    private final List<DropoutMask> masks;
    private final List<String> inputGradients;
    private final List<String> deferredGradients;

    private TrainingGraph(Graph graph, List<String> trainable, List<String> frozen, List<String> state, List<DropoutMask> masks,
            List<String> inputGradients, List<String> deferredGradients) {
        this.graph = graph;
        this.trainable = List.copyOf(trainable);
        this.frozen = List.copyOf(frozen);
        this.state = List.copyOf(state);
        this.masks = List.copyOf(masks);
        this.inputGradients = List.copyOf(inputGradients);
        this.deferredGradients = List.copyOf(deferredGradients);
    }

    public Graph graph() {
        return graph;
    }

    /** Trainable parameters, in the network's order; each has a {@code _grad} output. */
    public List<String> trainable() {
        return trainable;
    }

    public List<String> frozen() {
        return frozen;
    }

    /** Running statistics updated by a step; each has an {@code _updated} output. */
    public List<String> state() {
        return state;
    }

    public List<DropoutMask> masks() {
        return masks;
    }

    /** Network inputs whose gradient is an output too ({@code input_grad}), when asked for. */
    public List<String> inputGradients() {
        return inputGradients;
    }

    /**
     * Trainable parameters whose gradient waits for every other gradient: dense weights of
     * 2<sup>24</sup> values or more (VGG's and AlexNet's first two dense layers), whose gradient and
     * update would otherwise come on top of the convolutions' activations. Their late, large blocks
     * are what make the step engine turn ONNX Runtime's arena off.
     */
    public List<String> deferredGradients() {
        return deferredGradients;
    }

    /**
     * Differentiates {@code forward} (a network as built, with dropout and auxiliary outputs).
     *
     * @param frozen         parameters that get no gradient (their batch norms run in inference mode)
     * @param inputGradients also output the gradient of every network input (finite-difference tests,
     *                       adversarial examples)
     */
    public static TrainingGraph build(Graph forward, Loss loss, Set<String> frozen, boolean inputGradients) {
        return build(forward, loss, frozen, inputGradients, Activations.KEEP);
    }

    /** As {@link #build(Graph, Loss, Set, boolean)}, keeping or recomputing activations as {@code activations} says. */
    public static TrainingGraph build(Graph forward, Loss loss, Set<String> frozen, boolean inputGradients, Activations activations) {
        for (String f : frozen) {
            if (!forward.parameters().containsKey(f)) {
                throw new ZooException("cannot freeze '" + f + "': " + forward.name() + " has no such parameter");
            }
        }
        Set<String> unsupported = new TreeSet<>();
        for (Node n : forward.nodes()) {
            if (Rules.of(n.operator()) == null) {
                unsupported.add(n.op());
            }
        }
        if (!unsupported.isEmpty()) {
            throw new ZooException(forward.name() + " uses operators the zoo cannot differentiate: " + unsupported);
        }
        if (forward.outputs().stream().anyMatch(o -> o.value().shape().rank() != 2)) {
            throw new ZooException("training needs classifier outputs (N×classes); " + forward.name()
                    + " outputs " + forward.outputs().stream().map(o -> o.name() + " " + o.value().shape()).toList());
        }
        return new Builder(forward, loss, frozen, inputGradients, activations).build();
    }

    private static final class Builder {
        private final Graph forward;
        private final Loss loss;
        private final Set<String> frozen;
        private final boolean inputGradients;
        private final GraphBuilder g;
        private final GradientEmitter d;
        private final Map<Value, Value> mapped = new IdentityHashMap<>();
        private final Set<Value> requiresGrad = Collections.newSetFromMap(new IdentityHashMap<>());
        private final Map<Value, List<Value>> contributions = new IdentityHashMap<>();
        /** Dense weights of at least this many values (64 MiB: VGG's and AlexNet's first two) wait for the rest of the backward pass. */
        static final long DEFERRED_DENSE_WEIGHTS = 1L << 24;
        /** The forward graph's parameters that are trained (not frozen). */
        private final Set<Value> trainableParameters = Collections.newSetFromMap(new IdentityHashMap<>());
        /** Dense weight gradients, emitted after the rest of the backward pass ({@link #denseWeights}). */
        private final List<Runnable> deferred = new ArrayList<>();
        private final Set<Value> deferredWeights = Collections.newSetFromMap(new IdentityHashMap<>());
        /** A scalar 1 that exists once every gradient emitted before the deferred ones does. */
        private Value theRestDone;
        private final Activations activations;
        /** ReLU nodes after a batch norm, by output, whose outputs the backward pass recomputes; and the recomputed values. */
        private final Map<Value, Node> recomputable = new IdentityHashMap<>();
        private final Map<Value, Value> recomputed = new IdentityHashMap<>();

        Builder(Graph forward, Loss loss, Set<String> frozen, boolean inputGradients, Activations activations) {
            this.forward = forward;
            this.loss = loss;
            this.frozen = frozen;
            this.inputGradients = inputGradients;
            this.activations = activations;
            this.g = new GraphBuilder(forward.name() + "-training");
            this.d = new GradientEmitter(g, frozen);
        }

        TrainingGraph build() {
            for (Value v : forward.inputs()) {
                mapped.put(v, g.input(v.name(), v.dtype(), v.shape()));
                if (inputGradients) {
                    requiresGrad.add(v);
                }
            }
            Value labels = g.input(LABELS, DType.INT64, Shape.batched());
            d.batchSource(forward.inputs().stream().map(mapped::get).filter(v -> v.shape().rank() > 0 && v.shape().dim(0) < 0)
                    .findFirst().orElse(labels));
            List<String> trainable = new ArrayList<>();
            List<String> frozenList = new ArrayList<>();
            List<String> state = new ArrayList<>();
            for (Parameter p : forward.parameters().values()) {
                if (p.trainable()) {
                    mapped.put(p.value(), g.parameter(p.name(), p.shape(), p.init()));
                    if (frozen.contains(p.name())) {
                        frozenList.add(p.name());
                    } else {
                        trainable.add(p.name());
                        requiresGrad.add(p.value());
                        trainableParameters.add(p.value());
                    }
                } else {
                    mapped.put(p.value(), g.state(p.name(), p.shape(), p.init()));
                    state.add(p.name());
                }
            }
            forward.constants().forEach((name, data) -> mapped.put(forward.value(name), g.constant(name, data)));

            forwardPass();
            if (activations == Activations.RECOMPUTE) {
                findRecomputable();
            }
            Value total = lossAndSeeds(labels);
            backwardPass();

            g.output(LOSS, total);
            for (String p : trainable) {
                Value fv = forward.parameters().get(p).value();
                List<Value> terms = contributions.get(fv);
                Value grad = terms == null ? d.zerosLike(mapped.get(fv)) : d.sum(terms);
                g.output(p + GRAD, grad);
            }
            List<String> updatedState = new ArrayList<>();
            for (String s : state) {
                Value updated = d.stateUpdates().get(s);
                // State of frozen batch norms is not updated: it passes through unchanged.
                g.output(s + UPDATED, updated != null ? updated : g.op(Op.IDENTITY, Attributes.none(), mapped.get(forward.parameters().get(s).value())));
                updatedState.add(s);
            }
            List<String> inputGrads = new ArrayList<>();
            if (inputGradients) {
                for (Value v : forward.inputs()) {
                    List<Value> terms = contributions.get(v);
                    g.output(v.name() + GRAD, terms == null ? d.zerosLike(mapped.get(v)) : d.sum(terms));
                    inputGrads.add(v.name());
                }
            }
            for (Graph.Output o : forward.outputs()) {
                g.output(o.name(), mapped.get(o.value()));
            }
            List<String> deferredNames = forward.parameters().values().stream()
                    .filter(p -> deferredWeights.contains(p.value())).map(Parameter::name).toList();
            return new TrainingGraph(g.build(), trainable, frozenList, updatedState, d.masks(), inputGrads, deferredNames);
        }

        private void forwardPass() {
            for (Node n : forward.nodes()) {
                List<Value> ins = new ArrayList<>();
                for (Value v : n.inputs()) {
                    ins.add(v == null ? null : mapped.get(v));
                }
                List<Value> outs = Rules.of(n.operator()).forward(d, n, ins);
                for (int i = 0; i < n.outputs().size(); i++) {
                    mapped.put(n.outputs().get(i), outs.get(i));
                }
                if (n.inputs().stream().anyMatch(requiresGrad::contains)) {
                    requiresGrad.addAll(n.outputs());
                }
            }
        }

        /**
         * Cross-entropy of each head, the total weighted loss, and the gradient of the total with
         * respect to each head's logits, (softmax(z) − t)·w/N, emitted directly rather than through
         * the loss's own operators.
         */
        private Value lossAndSeeds(Value labels) {
            Value total = null;
            for (Graph.Output o : forward.outputs()) {
                double weight = o.auxiliary() ? loss.auxiliaryWeight() : 1.0;
                if (weight == 0) {
                    continue;
                }
                try (var s = g.scope("loss." + o.name())) {
                    Losses.Head head = Losses.crossEntropy(g, mapped.get(o.value()), labels, loss.labelSmoothing(), weight,
                            requiresGrad.contains(o.value()));
                    total = total == null ? head.loss() : d.add(total, head.loss());
                    if (head.logitsGradient() != null) {
                        contributions.computeIfAbsent(o.value(), k -> new ArrayList<>()).add(head.logitsGradient());
                    }
                }
            }
            if (total == null) {
                throw new ZooException(forward.name() + " has no output with a loss weight");
            }
            return total;
        }

        private void backwardPass() {
            List<Node> nodes = forward.nodes();
            for (int i = nodes.size() - 1; i >= 0; i--) {
                Node n = nodes.get(i);
                List<Value> outGrads = new ArrayList<>();
                boolean any = false;
                for (Value o : n.outputs()) {
                    List<Value> terms = contributions.get(o);
                    if (terms != null) {
                        try (var s = g.scope(n.layer() + "/grad")) {
                            outGrads.add(d.sum(terms));
                        }
                        any = true;
                    } else {
                        outGrads.add(null);
                    }
                }
                if (!any) {
                    continue;
                }
                boolean[] needed = new boolean[n.inputs().size()];
                boolean anyNeeded = false;
                for (int k = 0; k < needed.length; k++) {
                    Value v = n.inputs().get(k);
                    needed[k] = v != null && requiresGrad.contains(v);
                    anyNeeded |= needed[k];
                }
                if (!anyNeeded) {
                    continue;
                }
                List<Value> ins = new ArrayList<>();
                n.inputs().forEach(v -> ins.add(v == null ? null : forBackward(v)));
                List<Value> outs = new ArrayList<>();
                n.outputs().forEach(v -> outs.add(forBackward(v)));
                boolean[] later = denseWeights(n, needed);
                if (later != null) {
                    deferred.add(() -> {
                        List<Value> waited;
                        try (var s = g.scope(n.layer() + "/grad")) {
                            waited = afterTheRest(outGrads);
                        }
                        emitBackward(n, ins, outs, waited, later);
                    });
                }
                emitBackward(n, ins, outs, outGrads, needed);
            }
            deferred.forEach(Runnable::run);
        }

        private void emitBackward(Node n, List<Value> ins, List<Value> outs, List<Value> outGrads, boolean[] needed) {
            boolean anyNeeded = false;
            for (boolean b : needed) {
                anyNeeded |= b;
            }
            if (!anyNeeded) {
                return;
            }
            List<Value> inGrads;
            try (var s = g.scope(n.layer() + "/grad")) {
                inGrads = Rules.of(n.operator()).backward(d, n, ins, outs, outGrads, needed);
            }
            for (int k = 0; k < needed.length; k++) {
                if (needed[k] && k < inGrads.size() && inGrads.get(k) != null) {
                    contributions.computeIfAbsent(n.inputs().get(k), x -> new ArrayList<>()).add(inGrads.get(k));
                }
            }
        }

        /**
         * A dense layer's weight gradient waits for the rest of the backward pass. Computed where
         * the backward pass reaches the layer, that gradient and its update's temporaries (in the fused
         * step the update follows at once) come on top of every activation the convolutions' backward
         * pass still needs: VGG-16's first dense layer, 392 MiB of weights, held three such tensors
         * besides ~1 GB of activations at the step's peak (live 2,143 MiB there; deferred, 1,307 MiB at
         * most anywhere). Its inputs (the layer's input and output gradient) are small, so waiting
         * costs nothing but their memory; see StepEngine for the arena that the late blocks need off. Returns the needed
         * flags taken out of {@code needed} (the weights), or null when {@code n} is no dense layer.
         */
        private boolean[] denseWeights(Node n, boolean[] needed) {
            // Only large ones: moving a gradient changes the order ONNX Runtime picks for the whole
            // backward pass, and for networks whose dense layers are small that order held more
            // (ResNet-18's peak 617–625 → 740 MiB, googlenet-bn's 919 MiB → 1.06 GiB with every dense
            // layer deferred, measured in the benchmark).
            if (!n.is(Op.GEMM) && !n.is(Op.MAT_MUL)) {
                return null;
            }
            boolean[] later = new boolean[needed.length];
            boolean any = false;
            for (int k = 0; k < needed.length; k++) {
                Value v = n.inputs().get(k);
                if (needed[k] && v.shape().rank() == 2 && trainableParameters.contains(v) && v.shape().elements() >= DEFERRED_DENSE_WEIGHTS) {
                    later[k] = true;
                    needed[k] = false;
                    deferredWeights.add(v);
                    any = true;
                }
            }
            return any ? later : null;
        }

        /**
         * {@code grads} multiplied by a scalar 1 that exists once every other parameter's gradient
         * does (see {@link OptimizerGraph#computed}): a data dependency on the rest of the backward pass.
         */
        private List<Value> afterTheRest(List<Value> grads) {
            if (theRestDone == null) {
                try (var s = g.scope("dense.wait")) {
                    List<Value> done = new ArrayList<>();
                    for (Value p : trainableParameters) {
                        contributions.getOrDefault(p, List.of()).forEach(term -> done.add(OptimizerGraph.computed(g, term)));
                    }
                    theRestDone = OptimizerGraph.after(d, done, d.scalar(1));
                }
            }
            List<Value> out = new ArrayList<>();
            grads.forEach(v -> out.add(v == null ? null : d.mul(v, theRestDone)));
            return out;
        }

        /**
         * A ReLU output is recomputed when its input is a batch norm's output used by nothing else and
         * the network does not output it: then the backward pass can rebuild it from what the batch
         * norm keeps, and no rule of the forward pass reads it after the layers that consume it.
         */
        private void findRecomputable() {
            Map<Value, List<Node>> consumers = new IdentityHashMap<>();
            Map<Value, Node> producers = new IdentityHashMap<>();
            for (Node n : forward.nodes()) {
                n.inputs().forEach(v -> {
                    if (v != null) {
                        consumers.computeIfAbsent(v, k -> new ArrayList<>()).add(n);
                    }
                });
                n.outputs().forEach(v -> producers.put(v, n));
            }
            Set<Value> outputs = Collections.newSetFromMap(new IdentityHashMap<>());
            forward.outputs().forEach(o -> outputs.add(o.value()));
            for (Node relu : forward.nodes()) {
                if (!relu.is(Op.RELU)) {
                    continue;
                }
                Value normalised = relu.inputs().get(0);
                Node bn = producers.get(normalised);
                if (bn != null && NormRules.recomputable(d, bn) && consumers.get(normalised).size() == 1
                        && !outputs.contains(relu.outputs().get(0)) && !outputs.contains(normalised)) {
                    recomputable.put(relu.outputs().get(0), relu);
                }
            }
        }

        /**
         * The value a backward rule reads for forward value {@code v}: the forward pass's own, or, for a
         * recomputed activation, its recomputation, emitted where the backward pass first needs it (in
         * the layer that reads it), so that the forward value can be freed once the forward pass is done.
         */
        private Value forBackward(Value v) {
            Node relu = recomputable.get(v);
            if (relu == null) {
                return mapped.get(v);
            }
            return recomputed.computeIfAbsent(v, k -> {
                Value normalised = relu.inputs().get(0);
                Node bn = forward.nodes().stream().filter(n -> n.outputs().contains(normalised)).findFirst().orElseThrow();
                List<Value> bnIns = new ArrayList<>();
                bn.inputs().forEach(x -> bnIns.add(x == null ? null : mapped.get(x)));
                try (var s = g.scope(relu.layer() + "/recompute")) {
                    return d.op(Op.RELU, NormRules.recomputeBatchNorm(d, bn, bnIns));
                }
            });
        }
    }

    /** Names of every parameter in {@code forward} created before the parameters of {@code layer} (which are included). */
    public static Set<String> parametersUpTo(Graph forward, String layer) {
        Set<String> names = new LinkedHashSet<>();
        boolean found = false;
        for (Parameter p : forward.parameters().values()) {
            if (!p.trainable()) {
                continue;
            }
            boolean inLayer = p.name().equals(layer) || p.name().startsWith(layer + ".");
            if (found && !inLayer) {
                break;
            }
            names.add(p.name());
            found |= inLayer;
        }
        if (!found) {
            throw new ZooException("no layer '" + layer + "' in " + forward.name() + "; its layers include "
                    + forward.parameters().keySet().stream().map(n -> n.substring(0, Math.max(0, n.lastIndexOf('.')))).distinct().limit(12).toList());
        }
        return names;
    }
}
