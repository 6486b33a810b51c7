package dev.cnnzoo.training;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Attributes;
import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.graph.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Activations and element-wise arithmetic (with NumPy broadcasting). */
final class ElementwiseRules {
    private ElementwiseRules() {
    }

    static void register(Map<Op, GradientRule> rules) {
        // y = relu(x): dx = g·[y > 0], the mask HardSigmoid(y) = max(0, min(1, α·y)) with α the largest float: 0 stays
        // 0 and every positive y down to 2.9e-39 (all normal floats) becomes exactly 1. One vectorised pass: mask and
        // product took 0.51–0.71 of Ceil(Clip(y, ·, 1))·g's time, which took 0.4 of Sign·g's (docs/benchmarks.md).
        rules.put(Op.RELU, unary((d, x, y, g) -> d.mul(g, d.op(Op.HARD_SIGMOID, Attributes.of("alpha", Float.MAX_VALUE, "beta", 0f), y))));
        // y = tanh(x): dx = g·(1 − y²)
        rules.put(Op.TANH, unary((d, x, y, g) -> d.mul(g, d.sub(d.scalar(1), d.mul(y, y)))));
        // y = σ(x): dx = g·y·(1 − y)
        rules.put(Op.SIGMOID, unary((d, x, y, g) -> d.mul(g, d.mul(y, d.sub(d.scalar(1), y)))));
        rules.put(Op.NEG, unary((d, x, y, g) -> d.neg(g)));
        rules.put(Op.IDENTITY, unary((d, x, y, g) -> g));
        rules.put(Op.EXP, unary((d, x, y, g) -> d.mul(g, y)));
        rules.put(Op.LOG, unary((d, x, y, g) -> d.div(g, x)));
        // y = √x: dx = g / (2y)
        rules.put(Op.SQRT, unary((d, x, y, g) -> d.div(g, d.scale(y, 2))));
        // y = 1/x: dx = −g·y²
        rules.put(Op.RECIPROCAL, unary((d, x, y, g) -> d.neg(d.mul(g, d.mul(y, y)))));
        rules.put(Op.ABS, unary((d, x, y, g) -> d.mul(g, d.op(Op.SIGN, x))));
        // sign(x) is constant but at 0: a zero gradient, as PyTorch's
        rules.put(Op.SIGN, unary((d, x, y, g) -> d.scale(g, 0)));

        rules.put(Op.ADD, binary((d, a, b, y, g) -> new Value[] {g, g}));
        rules.put(Op.SUB, binary((d, a, b, y, g) -> new Value[] {g, d.neg(g)}));
        rules.put(Op.MUL, binary((d, a, b, y, g) -> new Value[] {d.mul(g, b), d.mul(g, a)}));
        // y = a/b: da = g/b, db = −g·y/b
        rules.put(Op.DIV, binary((d, a, b, y, g) -> new Value[] {d.div(g, b), d.neg(d.div(d.mul(g, y), b))}));
        rules.put(Op.POW, new PowRule());
        rules.put(Op.SUM, (d, node, inputs, outputs, grads, needed) -> {
            List<Value> out = new ArrayList<>();
            for (int i = 0; i < inputs.size(); i++) {
                out.add(needed[i] ? d.unbroadcast(grads.get(0), inputs.get(i).shape()) : null);
            }
            return out;
        });
    }

    interface Unary {
        Value grad(GradientEmitter d, Value x, Value y, Value g);
    }

    interface Binary {
        Value[] grads(GradientEmitter d, Value a, Value b, Value y, Value g);
    }

    static GradientRule unary(Unary f) {
        return (d, node, inputs, outputs, grads, needed) ->
                Arrays.asList(needed[0] ? f.grad(d, inputs.get(0), outputs.get(0), grads.get(0)) : null);
    }

    /** A binary rule whose gradients are reduced back over the broadcast axes. */
    static GradientRule binary(Binary f) {
        return (d, node, inputs, outputs, grads, needed) -> {
            Value a = inputs.get(0);
            Value b = inputs.get(1);
            Value[] raw = f.grads(d, a, b, outputs.get(0), grads.get(0));
            return Arrays.asList(needed[0] ? d.unbroadcast(raw[0], a.shape()) : null,
                    needed[1] ? d.unbroadcast(raw[1], b.shape()) : null);
        };
    }

    /** y = x^p for a constant exponent p: dx = g·p·x^(p−1). */
    private static final class PowRule implements GradientRule {
        @Override
        public List<Value> backward(GradientEmitter d, Node node, List<Value> inputs, List<Value> outputs, List<Value> grads,
                boolean[] needed) {
            if (needed[1]) {
                throw new ZooException("node " + node.name() + ": gradients through a Pow exponent are not supported");
            }
            Tensor p = d.g.constantData(inputs.get(1));
            if (p == null || p.elements() != 1) {
                throw new ZooException("node " + node.name() + ": Pow needs a constant scalar exponent to be differentiated");
            }
            float e = p.floats()[0];
            Value x = inputs.get(0);
            Value dx = d.mul(grads.get(0), d.scale(d.op(Op.POW, x, d.scalar(e - 1)), e));
            return Arrays.asList(d.unbroadcast(dx, x.shape()), null);
        }
    }
}
