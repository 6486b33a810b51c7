package dev.cnnzoo.training;

import dev.cnnzoo.graph.Attributes;
import dev.cnnzoo.graph.DType;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.GraphBuilder;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Value;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The optimizer's update as a graph of standard ONNX operators.
 *
 * <p>Inputs: {@value #LEARNING_RATE} (FLOAT scalar), {@value #STEP} (INT64 scalar, 1 for the first
 * update), then per trainable parameter {@code p}: {@code p}, {@code p_grad} and its state
 * {@code p.<state>}; then any global state. Outputs: {@code p_updated} and {@code p.<state>_updated}
 * per parameter, then the global state's {@code _updated}.
 */
public final class OptimizerGraph {
    public static final String LEARNING_RATE = "learning_rate";
    public static final String STEP = "step";
    public static final String MU_PRODUCT = "optimizer.mu_product";

    /**
     * Parameters from this many values on have their update's steps ordered so that it holds at most
     * two parameter-sized temporaries besides the gradient; below it (batch norms, small kernels: 256 KB
     * at most) the update runs in any order ONNX Runtime picks.
     */
    static final long ORDERED_MIN_ELEMENTS = 1L << 16;

    private OptimizerGraph() {
    }

    /** The standalone optimizer graph for parameters of the given shapes (in order). */
    public static Graph build(Optimizer opt, Map<String, Shape> parameters) {
        GraphBuilder g = new GraphBuilder("optimizer");
        Value lr = g.input(LEARNING_RATE, DType.FLOAT, Shape.scalar());
        Value step = g.input(STEP, DType.INT64, Shape.scalar());
        Map<String, Value> params = new LinkedHashMap<>();
        Map<String, Value> grads = new LinkedHashMap<>();
        Map<String, Value> states = new LinkedHashMap<>();
        parameters.forEach((name, shape) -> {
            params.put(name, g.input(name, DType.FLOAT, shape));
            grads.put(name, g.input(name + TrainingGraph.GRAD, DType.FLOAT, shape));
            for (String s : opt.stateNames()) {
                states.put(name + "." + s, g.input(name + "." + s, DType.FLOAT, shape));
            }
        });
        for (String s : opt.globalStateNames()) {
            states.put(s, g.input(s, DType.FLOAT, Shape.scalar()));
        }
        Map<String, Value> updated = emit(g, opt, lr, step, params, grads, states);
        updated.forEach((name, v) -> g.output(name + TrainingGraph.UPDATED, v));
        return g.build();
    }

    /**
     * Emits the update of every parameter into {@code g}.
     *
     * @return new values by name: each parameter, each state {@code p.<state>}, each global state
     */
    static Map<String, Value> emit(GraphBuilder g, Optimizer opt, Value lr, Value stepInt, Map<String, Value> params,
            Map<String, Value> grads, Map<String, Value> states) {
        return emit(g, opt, lr, stepInt, params, grads, states, Map.of());
    }

    /**
     * As {@link #emit(GraphBuilder, Optimizer, Value, Value, Map, Map, Map)}, with conditions per
     * parameter ({@code ready}, BOOL) that the parameter's update waits for: its step size passes
     * through {@code Where(ready, s, s)} for each, the same value whatever the condition, a data
     * dependency and nothing more. The fused step uses it to write each parameter in place only after every
     * other node that reads it has run.
     */
    static Map<String, Value> emit(GraphBuilder g, Optimizer opt, Value lr, Value stepInt, Map<String, Value> params,
            Map<String, Value> grads, Map<String, Value> states, Map<String, List<Value>> ready) {
        Map<String, Value> out = new LinkedHashMap<>();
        try (var scope = g.scope("optimizer")) {
            GradientEmitter o = new GradientEmitter(g, java.util.Set.of());
            Value step = o.op(Op.CAST, Attributes.of("to", DType.FLOAT.onnxCode()), stepInt);
            Scalars k = new Scalars(o, opt, step, states.get(MU_PRODUCT));
            // per-step step sizes, once for every parameter: lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ) for Adam, s₁ and s₂ for NAdam
            Value lrRoot = opt.kind() == Optimizer.Kind.SGD ? null : o.mul(lr, k.rootBias2);
            Value adamStepShared = opt.kind() == Optimizer.Kind.ADAM || opt.kind() == Optimizer.Kind.ADAMW ? o.div(lrRoot, k.bias1) : null;
            Value nadamGradShared = opt.kind() == Optimizer.Kind.NADAM ? o.mul(lrRoot, k.gradCoefficient) : null;
            Value nadamMomentumShared = opt.kind() == Optimizer.Kind.NADAM ? o.mul(lrRoot, k.momentumCoefficient) : null;
            for (Map.Entry<String, Value> e : params.entrySet()) {
                String name = e.getKey();
                Value p = e.getValue();
                Value grad = grads.get(name);
                List<Value> when = ready.getOrDefault(name, List.of());
                Value lrFor = after(o, when, lr);
                Value adamStep = after(o, when, adamStepShared);
                Value nadamGrad = after(o, when, nadamGradShared);
                Value nadamMomentum = after(o, when, nadamMomentumShared);
                if (opt.weightDecay() > 0 && opt.kind() != Optimizer.Kind.ADAMW) {
                    grad = o.add(grad, o.scale(p, opt.weightDecay()));                    // L2 penalty: g ← g + λp
                }
                switch (opt.kind()) {
                    case SGD -> {
                        if (opt.momentum() > 0) {
                            Value buf = o.add(o.scale(states.get(name + ".momentum_buffer"), opt.momentum()), grad);
                            Value direction = opt.nesterov() ? o.add(grad, o.scale(buf, opt.momentum())) : buf;
                            out.put(name, o.sub(p, o.times(direction, lrFor)));
                            out.put(name + ".momentum_buffer", buf);
                        } else {
                            out.put(name, o.sub(p, o.times(grad, lrFor)));
                        }
                    }
                    case ADAM, ADAMW, NADAM -> {
                        // One moment after the other, then the step from both, then its denominator: each waits
                        // for the last through a condition that costs one element (computed, after, viewAfter).
                        // In any order ONNX Runtime may choose, the update then holds at most two parameter-sized
                        // temporaries besides the gradient, where the free order held three (VGG-16's first dense
                        // layer: 392 MiB each, at the step's peak; OptimizerGraphTest).
                        // A small parameter's update has no conditions (orderingConditions).
                        Value m = movingAverage(o, states.get(name + ".exp_avg"), grad, opt.beta1());
                        Value gradAfterM = viewAfter(o, orderingConditions(g, p, m), grad);
                        Value v = movingAverage(o, states.get(name + ".exp_avg_sq"), o.mul(gradAfterM, gradAfterM), opt.beta2());
                        List<Value> moments = orderingConditions(g, p, m, v);
                        Value update;
                        if (opt.kind() == Optimizer.Kind.NADAM) {
                            // p ← p − lr·(1 − μ_t)/(1 − Πμ) · g/denom − lr·μ_{t+1}/(1 − Πμ·μ_{t+1}) · m/denom with
                            // denom = √(v/(1 − β₂ᵗ)) + ε, written (s₁·g + s₂·m)/(√v + ε') with the scalars scaled by √(1 − β₂ᵗ)
                            update = o.add(o.times(grad, after(o, moments, nadamGrad)), o.times(m, after(o, moments, nadamMomentum)));
                        } else {
                            // p ← p − lr/(1 − β₁ᵗ) · m / (√(v/(1 − β₂ᵗ)) + ε) = p − s·m/(√v + ε'), s and ε' scaled by √(1 − β₂ᵗ)
                            update = o.times(m, after(o, moments, adamStep));
                        }
                        Value change = o.div(update, o.plus(o.op(Op.SQRT, viewAfter(o, orderingConditions(g, p, update), v)), k.epsilon));
                        Value pd = p;
                        if (opt.kind() == Optimizer.Kind.ADAMW && opt.weightDecay() > 0) {
                            // p ← p(1 − lr·λ), computed last so that it is not held through the moments
                            pd = o.times(p, after(o, orderingConditions(g, p, change), o.sub(o.scalar(1), o.scale(lr, opt.weightDecay()))));
                        }
                        out.put(name, o.sub(pd, change));
                        out.put(name + ".exp_avg", m);
                        out.put(name + ".exp_avg_sq", v);
                    }
                }
            }
            if (opt.kind() == Optimizer.Kind.NADAM) {
                out.put(MU_PRODUCT, k.muProduct);
            }
        }
        return out;
    }

    /**
     * A BOOL scalar computed once {@code v} is (whether its first element is NaN): a condition for
     * {@link #after} that costs one element, not a pass over {@code v}.
     */
    static Value computed(GraphBuilder g, Value v) {
        Value flat = v.shape().rank() == 1 ? v : g.op(Op.RESHAPE, Attributes.none(), v, g.int64s(-1));
        return g.op(Op.IS_NAN, Attributes.none(), g.op(Op.GATHER, Attributes.of("axis", 0), flat,
                g.constant(dev.cnnzoo.graph.Tensor.ofLongs(Shape.scalar(), new long[] {0}))));
    }

    /**
     * The conditions that order {@code parameter}'s update after each of {@code values}, or none for a
     * parameter under {@link #ORDERED_MIN_ELEMENTS}: its temporaries cost nothing worth ordering, and
     * the conditions' tiny nodes cost time (without them for small parameters Inception-v3's update ran
     * 7,077 nodes instead of 10,136, its kernels 116 ms instead of 138; profiled, batch 4).
     */
    private static List<Value> orderingConditions(GraphBuilder g, Value parameter, Value... values) {
        if (parameter.shape().elements() < ORDERED_MIN_ELEMENTS) {
            return List.of();
        }
        return java.util.Arrays.stream(values).map(v -> computed(g, v)).toList();
    }

    /**
     * {@code v} (a tensor of static shape) as a view that exists only once every condition of
     * {@code when} is computed: a Reshape to its own shape, the shape passed through
     * {@code Where(when, s, s)}; {@code v} itself when there is none. ONNX Runtime's Reshape copies
     * nothing, so this orders the readers of {@code v} after {@code when} for free.
     */
    private static Value viewAfter(GradientEmitter o, List<Value> when, Value v) {
        if (when.isEmpty()) {
            return v;
        }
        Value shape = o.int64s(v.shape().longDims());
        return o.op(Op.RESHAPE, v, o.g.holdingShape(after(o, when, shape), v.shape()));
    }

    /** {@code v} once every condition of {@code when} is computed (the same value; {@code v} itself when there is none). */
    static Value after(GradientEmitter o, List<Value> when, Value v) {
        Value out = v;
        for (Value w : v == null ? List.<Value>of() : when) {
            out = o.op(Op.WHERE, w, out, out);
        }
        return out;
    }

    /**
     * β·average + (1 − β)·x, the exponential moving average of the optimizers' moments, written
     * average + (1 − β)·(x − average) as PyTorch's {@code lerp_}. The average is read from a graph
     * input and written in place ({@link dev.cnnzoo.training.run.StepEngine}). Either form holds two
     * parameter-sized temporaries at once: ONNX Runtime's element-wise CPU kernels never write over
     * an input (docs/benchmarks.md, VGG-16's memory).
     */
    private static Value movingAverage(GradientEmitter o, Value average, Value x, double beta) {
        return o.add(average, o.scale(o.sub(x, average), 1 - beta));
    }

    /** Per-step scalars shared by every parameter: bias corrections and NAdam's momentum schedule. */
    private static final class Scalars {
        final Value bias1;
        final Value bias2;
        /** √(1 − β₂ᵗ), and ε scaled by it: the optimizers divide by √v + ε' and fold 1/√(1 − β₂ᵗ) into a scalar. */
        final Value rootBias2;
        final Value epsilon;
        Value muProduct;
        Value gradCoefficient;
        Value momentumCoefficient;

        Scalars(GradientEmitter o, Optimizer opt, Value step, Value muProductIn) {
            bias1 = o.sub(o.scalar(1), o.op(Op.POW, o.scalar(opt.beta1()), step));
            bias2 = o.sub(o.scalar(1), o.op(Op.POW, o.scalar(opt.beta2()), step));
            rootBias2 = o.op(Op.SQRT, bias2);
            epsilon = o.mul(rootBias2, o.scalar(opt.epsilon()));
            if (opt.kind() == Optimizer.Kind.NADAM) {
                // μ_t = β₁(1 − ½·0.96^(tψ)), μ_{t+1} likewise; Πμ accumulates μ_t across steps.
                Value mu = mu(o, opt, step);
                Value muNext = mu(o, opt, o.add(step, o.scalar(1)));
                muProduct = o.mul(muProductIn, mu);
                gradCoefficient = o.div(o.sub(o.scalar(1), mu), o.sub(o.scalar(1), muProduct));
                momentumCoefficient = o.div(muNext, o.sub(o.scalar(1), o.mul(muProduct, muNext)));
            }
        }

        private static Value mu(GradientEmitter o, Optimizer opt, Value step) {
            Value decay = o.op(Op.POW, o.scalar(0.96), o.scale(step, opt.momentumDecay()));
            return o.scale(o.sub(o.scalar(1), o.scale(decay, 0.5)), opt.beta1());
        }
    }


    /** Names of the optimizer state tensors for these parameters, in input order. */
    public static List<String> stateTensorNames(Optimizer opt, List<String> parameters) {
        List<String> names = new ArrayList<>();
        for (String p : parameters) {
            for (String s : opt.stateNames()) {
                names.add(p + "." + s);
            }
        }
        names.addAll(opt.globalStateNames());
        return names;
    }
}
