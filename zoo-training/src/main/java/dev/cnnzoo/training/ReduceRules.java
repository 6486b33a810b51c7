package dev.cnnzoo.training;

import dev.cnnzoo.graph.Attributes;
import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Reductions and the softmax family. */
final class ReduceRules {
    private ReduceRules() {
    }

    static void register(Map<Op, GradientRule> rules) {
        rules.put(Op.REDUCE_SUM, (d, node, in, out, grads, needed) -> reduce(d, node, in, grads, false));
        rules.put(Op.REDUCE_MEAN, (d, node, in, out, grads, needed) -> reduce(d, node, in, grads, true));
        // y = softmax(x): dx = y·(g − Σ g·y) along the axis
        rules.put(Op.SOFTMAX, (d, node, in, out, grads, needed) -> {
            Value y = out.get(0);
            Value g = grads.get(0);
            long axis = node.attributes().getInt("axis", -1);
            Value dot = d.reduceSum(d.mul(g, y), true, axis);
            return Arrays.asList(d.mul(y, d.sub(g, dot)));
        });
        // y = log softmax(x): dx = g − softmax(x)·Σ g, with softmax(x) = exp(y)
        rules.put(Op.LOG_SOFTMAX, (d, node, in, out, grads, needed) -> {
            Value g = grads.get(0);
            long axis = node.attributes().getInt("axis", -1);
            Value total = d.reduceSum(g, true, axis);
            return Arrays.asList(d.sub(g, d.mul(d.op(Op.EXP, out.get(0)), total)));
        });
    }

    /** The gradient of a sum (or mean) is broadcast back over the reduced axes (and divided by their size). */
    private static List<Value> reduce(GradientEmitter d, Node node, List<Value> in, List<Value> grads, boolean mean) {
        Value x = in.get(0);
        int rank = x.shape().rank();
        long[] axes;
        if (node.is(Op.REDUCE_SUM)) {
            axes = in.size() > 1 && in.get(1) != null ? d.g.constantData(in.get(1)).longs() : null;
        } else {
            axes = node.attributes().getInts("axes");
        }
        boolean[] reduced = new boolean[rank];
        if (axes == null || axes.length == 0) {
            Arrays.fill(reduced, true);
        } else {
            for (long a : axes) {
                reduced[(int) (a < 0 ? a + rank : a)] = true;
            }
        }
        Value g = grads.get(0);
        if (node.attributes().getInt("keepdims", 1) == 0) {
            g = d.reshape(g, keptDims(x.shape(), reduced));
        }
        long count = 1;
        for (int i = 0; i < rank; i++) {
            if (reduced[i]) {
                count *= Math.abs(x.shape().dim(i));
            }
        }
        Value dx = d.expandLike(g, x);
        if (mean) {
            dx = reduced[0] && x.shape().dim(0) < 0 ? d.div(dx, d.mul(d.batchSize(x), d.scalar(count))) : d.scale(dx, 1.0 / count);
        }
        List<Value> r = new ArrayList<>(Arrays.asList(dx));
        for (int i = 1; i < in.size(); i++) {
            r.add(null);
        }
        return r;
    }

    /** The reduced shape with kept axes; the batch (always axis 0) as 0, which copies it, keeping it symbolic. */
    private static long[] keptDims(Shape s, boolean[] reduced) {
        long[] dims = new long[s.rank()];
        for (int i = 0; i < s.rank(); i++) {
            dims[i] = reduced[i] ? 1 : s.dim(i) < 0 ? 0 : s.dim(i);
        }
        return dims;
    }

}
