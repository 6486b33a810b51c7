package dev.cnnzoo.training;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Attributes;
import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.graph.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Operators that move values around: reshapes, transposes, concatenation, splitting, padding, gathering, slicing. */
final class ShapeRules {
    private ShapeRules() {
    }

    static void register(Map<Op, GradientRule> rules) {
        GradientRule reshapeBack = (d, node, in, out, grads, needed) -> {
            List<Value> r = new ArrayList<>();
            r.add(d.reshapeLike(grads.get(0), in.get(0)));
            for (int i = 1; i < in.size(); i++) {
                r.add(null);
            }
            return r;
        };
        for (Op op : List.of(Op.RESHAPE, Op.FLATTEN, Op.SQUEEZE, Op.UNSQUEEZE)) {
            rules.put(op, reshapeBack);
        }
        rules.put(Op.TRANSPOSE, ShapeRules::transpose);
        rules.put(Op.CONCAT, ShapeRules::concat);
        rules.put(Op.SPLIT, ShapeRules::split);
        rules.put(Op.PAD, ShapeRules::pad);
        rules.put(Op.GATHER, ShapeRules::gather);
        rules.put(Op.SLICE, ShapeRules::slice);
        rules.put(Op.EXPAND, (d, node, in, out, grads, needed) ->
                Arrays.asList(d.unbroadcast(grads.get(0), in.get(0).shape()), null));
    }

    private static List<Value> transpose(GradientEmitter d, Node node, List<Value> in, List<Value> out, List<Value> grads, boolean[] needed) {
        int rank = in.get(0).shape().rank();
        long[] perm = node.attributes().getInts("perm");
        int[] inverse = new int[rank];
        for (int i = 0; i < rank; i++) {
            inverse[perm == null ? rank - 1 - i : (int) perm[i]] = i;
        }
        return Arrays.asList(d.transpose(grads.get(0), inverse));
    }

    /** The gradient splits along the concatenation axis into each input's extent. */
    private static List<Value> concat(GradientEmitter d, Node node, List<Value> in, List<Value> out, List<Value> grads, boolean[] needed) {
        int rank = out.get(0).shape().rank();
        long axis = node.attributes().getInt("axis", 0);
        int a = (int) (axis < 0 ? axis + rank : axis);
        long[] sizes = in.stream().mapToLong(v -> v.shape().dim(a)).toArray();
        List<Value> parts = d.g.op(Op.SPLIT, in.size(), Attributes.of("axis", a), grads.get(0), d.int64s(sizes));
        List<Value> r = new ArrayList<>();
        for (int i = 0; i < in.size(); i++) {
            r.add(needed[i] ? parts.get(i) : null);
        }
        return r;
    }

    /** The output gradients concatenate back, zeros standing in for outputs nothing used. */
    private static List<Value> split(GradientEmitter d, Node node, List<Value> in, List<Value> out, List<Value> grads, boolean[] needed) {
        Value[] pieces = new Value[out.size()];
        for (int i = 0; i < out.size(); i++) {
            pieces[i] = grads.get(i) != null ? grads.get(i) : d.zerosLike(out.get(i));
        }
        List<Value> r = new ArrayList<>();
        r.add(d.op(Op.CONCAT, Attributes.of("axis", node.attributes().getInt("axis", 0)), pieces));
        for (int i = 1; i < in.size(); i++) {
            r.add(null);
        }
        return r;
    }

    /** Constant zero padding: the gradient is the slice of the padded gradient that covers the input. */
    private static List<Value> pad(GradientEmitter d, Node node, List<Value> in, List<Value> out, List<Value> grads, boolean[] needed) {
        if (!node.attributes().getString("mode", "constant").equals("constant")) {
            throw new ZooException("node " + node.name() + ": only constant padding can be differentiated");
        }
        Value x = in.get(0);
        long[] pads = d.g.constantData(in.get(1)).longs();
        int rank = x.shape().rank();
        List<Long> starts = new ArrayList<>();
        List<Long> ends = new ArrayList<>();
        List<Long> axes = new ArrayList<>();
        for (int i = 0; i < rank; i++) {
            if (pads[i] != 0 || pads[i + rank] != 0) {
                if (pads[i] < 0 || pads[i + rank] < 0) {
                    throw new ZooException("node " + node.name() + ": negative (cropping) pads are not differentiated");
                }
                starts.add(pads[i]);
                ends.add(pads[i] + x.shape().dim(i));
                axes.add((long) i);
            }
        }
        Value dx = axes.isEmpty() ? grads.get(0) : d.op(Op.SLICE, grads.get(0), d.int64s(unbox(starts)), d.int64s(unbox(ends)),
                d.int64s(unbox(axes)));
        List<Value> r = new ArrayList<>(Arrays.asList(dx));
        for (int i = 1; i < in.size(); i++) {
            r.add(null);
        }
        return r;
    }

    /**
     * Gather with constant indices along an axis (LeNet-5's C3 reads chosen S2 maps): the gradient of
     * each source slice is the sum of the gradients of the positions that read it, a product with
     * the constant 0/1 selection matrix S[j, c] = [indices_j = c] on the gathered axis.
     */
    private static List<Value> gather(GradientEmitter d, Node node, List<Value> in, List<Value> out, List<Value> grads, boolean[] needed) {
        Value x = in.get(0);
        Tensor indices = d.g.constantData(in.get(1));
        if (indices == null || indices.shape().rank() != 1) {
            throw new ZooException("node " + node.name() + ": Gather is differentiated for constant 1-D indices only");
        }
        int rank = x.shape().rank();
        long axisAttr = node.attributes().getInt("axis", 0);
        int axis = (int) (axisAttr < 0 ? axisAttr + rank : axisAttr);
        int sources = x.shape().dim(axis);
        long[] idx = indices.longs();
        float[] select = new float[idx.length * sources];
        for (int j = 0; j < idx.length; j++) {
            select[j * sources + (int) ((idx[j] + sources) % sources)] = 1;
        }
        Value s = d.constant(Tensor.of(Shape.of(idx.length, sources), select));
        // Move the gathered axis last, multiply by S, move it back.
        int[] toLast = new int[rank];
        int[] back = new int[rank];
        for (int i = 0, k = 0; i < rank; i++) {
            if (i != axis) {
                toLast[k++] = i;
            }
        }
        toLast[rank - 1] = axis;
        for (int i = 0; i < rank; i++) {
            back[toLast[i]] = i;
        }
        Value moved = d.transpose(grads.get(0), toLast);
        Value summed = d.op(Op.MAT_MUL, moved, s);
        return Arrays.asList(d.transpose(summed, back), null);
    }

    /** A unit-step slice: the gradient is zero-padded back to the input's extent. */
    private static List<Value> slice(GradientEmitter d, Node node, List<Value> in, List<Value> out, List<Value> grads, boolean[] needed) {
        Value x = in.get(0);
        int rank = x.shape().rank();
        long[] starts = d.g.constantData(in.get(1)).longs();
        long[] ends = d.g.constantData(in.get(2)).longs();
        long[] axes = in.size() > 3 && in.get(3) != null ? d.g.constantData(in.get(3)).longs() : null;
        long[] steps = in.size() > 4 && in.get(4) != null ? d.g.constantData(in.get(4)).longs() : null;
        long[] pads = new long[2 * rank];
        for (int i = 0; i < starts.length; i++) {
            if (steps != null && steps[i] != 1) {
                throw new ZooException("node " + node.name() + ": only unit-step slices are differentiated");
            }
            int a = (int) (axes == null ? i : axes[i] < 0 ? axes[i] + rank : axes[i]);
            int dim = x.shape().dim(a);
            long st = Math.max(0, Math.min(starts[i] < 0 ? starts[i] + dim : starts[i], dim));
            long en = Math.max(0, Math.min(ends[i] < 0 ? ends[i] + dim : ends[i], dim));
            pads[a] = st;
            pads[a + rank] = dim - en;
        }
        List<Value> r = new ArrayList<>(Arrays.asList(d.op(Op.PAD, Attributes.of("mode", "constant"), grads.get(0), d.int64s(pads))));
        for (int i = 1; i < in.size(); i++) {
            r.add(null);
        }
        return r;
    }

    private static long[] unbox(List<Long> l) {
        return l.stream().mapToLong(Long::longValue).toArray();
    }
}
