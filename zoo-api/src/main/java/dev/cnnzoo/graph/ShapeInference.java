package dev.cnnzoo.graph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * Output types and shapes of every {@link Op}, computed as each node is added so a mismatch fails
 * while the network is built. Rules follow the ONNX operator specification (the opset-13 forms the
 * graph language writes); pooling in ceil mode drops a last window that would start in the padding,
 * as PyTorch and ONNX Runtime do.
 */
final class ShapeInference {
    /** Type and shape of one output. */
    record Out(DType dtype, Shape shape) {
    }

    private final String layer;
    private final Op op;
    private final List<Value> in;
    private final Attributes at;
    private final Function<Value, Tensor> constants;
    private final Function<Value, Shape> shapeValues;

    private ShapeInference(String layer, Op op, List<Value> in, Attributes at, Function<Value, Tensor> constants,
            Function<Value, Shape> shapeValues) {
        this.layer = layer;
        this.op = op;
        this.in = in;
        this.at = at;
        this.constants = constants;
        this.shapeValues = shapeValues;
    }

    /**
     * Infers the outputs of {@code op} applied to {@code inputs}.
     *
     * @param constants   the data of constant inputs (reshape targets, axes), or null for non-constants
     * @param shapeValues for a value computed by {@code Shape(x)}, the shape of x (batch included), else null
     */
    static List<Out> infer(String layer, Op op, List<Value> inputs, Attributes attributes, int outputs,
            Function<Value, Tensor> constants, Function<Value, Shape> shapeValues) {
        return new ShapeInference(layer, op, inputs, attributes, constants, shapeValues).run(outputs);
    }

    private List<Out> run(int outputs) {
        List<Out> out = rule(outputs);
        if (out.size() != outputs) {
            fail(op + " gives " + out.size() + " output" + (out.size() == 1 ? "" : "s") + " here, not " + outputs);
        }
        return out;
    }

    private List<Out> rule(int outputs) {
        return switch (op) {
            case ABS, HARD_SIGMOID, EXP, LOG, NEG, RECIPROCAL, RELU, SIGMOID, SIGN, SQRT, TANH, IDENTITY, SOFTMAX, LOG_SOFTMAX, LRN, DROPOUT,
                    SCATTER_ND -> List.of(same(0));
            case CAST -> List.of(new Out(DType.fromOnnxCode((int) at.getInt("to", 1)), x(0).shape()));
            case ADD, SUB, MUL, DIV, POW, SUM -> {
                Shape s = x(0).shape();
                for (int i = 1; i < in.size(); i++) {
                    s = broadcast(s, x(i).shape());
                }
                yield List.of(new Out(x(0).dtype(), s));
            }
            case EQUAL -> List.of(new Out(DType.BOOL, broadcast(x(0).shape(), x(1).shape())));
            case IS_NAN -> List.of(new Out(DType.BOOL, x(0).shape()));
            case WHERE -> List.of(new Out(x(1).dtype(), broadcast(broadcast(x(0).shape(), x(1).shape()), x(2).shape())));
            case CONV -> List.of(conv());
            case CONV_TRANSPOSE -> List.of(convTranspose());
            case MAX_POOL -> {
                Out y = pool();
                // The optional second output: the flat index of each maximum (the max-pooling gradient's).
                yield outputs == 2 ? List.of(y, new Out(DType.INT64, y.shape())) : List.of(y);
            }
            case AVERAGE_POOL -> List.of(pool());
            case GLOBAL_AVERAGE_POOL, GLOBAL_MAX_POOL -> {
                int[] d = x(0).shape().dims();
                requireRank(0, 3);
                Arrays.fill(d, 2, d.length, 1);
                yield List.of(new Out(x(0).dtype(), Shape.of(d)));
            }
            case MAX_UNPOOL -> List.of(new Out(x(0).dtype(), shapeInput(2)));
            case BATCH_NORMALIZATION -> List.of(batchNorm());
            case GEMM -> List.of(gemm());
            case MAT_MUL -> List.of(matMul());
            case REDUCE_SUM, REDUCE_MEAN, REDUCE_SUM_SQUARE -> List.of(reduce());
            case CONCAT -> List.of(concat());
            case SPLIT -> split(outputs);
            case FLATTEN -> List.of(flatten());
            case RESHAPE -> List.of(reshape());
            case SQUEEZE -> List.of(squeeze());
            case UNSQUEEZE -> List.of(unsqueeze());
            case TRANSPOSE -> List.of(transpose());
            case PAD -> List.of(pad());
            case SLICE -> List.of(slice());
            case GATHER -> List.of(gather());
            case EXPAND -> List.of(new Out(x(0).dtype(), broadcast(x(0).shape(), shapeInput(1))));
            case SHAPE -> List.of(new Out(DType.INT64, Shape.of(x(0).shape().rank())));
            case CONSTANT_OF_SHAPE -> {
                Tensor v = at.getTensor("value");
                yield List.of(new Out(v == null ? DType.FLOAT : v.dtype(), shapeInput(0)));
            }
            case ONE_HOT -> {
                long depth = constInts(1)[0];
                int[] d = x(0).shape().dims();
                int[] o = Arrays.copyOf(d, d.length + 1);
                o[d.length] = (int) depth;
                yield List.of(new Out(x(2).dtype(), Shape.of(o)));
            }
        };
    }

    // ---- rules -----------------------------------------------------------------------------

    private Out conv() {
        Shape xs = x(0).shape();
        Shape ws = x(1).shape();
        requireRank(0, 3);
        if (ws.rank() != xs.rank()) {
            fail("weight " + ws + " does not match input " + xs + " in rank");
        }
        int group = (int) at.getInt("group", 1);
        int channels = xs.dim(1);
        if (channels != ws.dim(1) * group) {
            fail("input " + xs + " has " + channels + " channels but weight " + ws + " with group " + group
                    + " expects " + ws.dim(1) * group);
        }
        if (ws.dim(0) % group != 0) {
            fail("weight " + ws + ": " + ws.dim(0) + " filters do not divide into " + group + " groups");
        }
        if (in.size() > 2 && in.get(2) != null && !x(2).shape().equals(Shape.of(ws.dim(0)))) {
            fail("bias " + x(2).shape() + " does not match " + ws.dim(0) + " filters");
        }
        int spatial = xs.rank() - 2;
        int[] kernel = kernelShape(ws.tail(2));
        int[] strides = ints("strides", spatial, 1);
        int[] dilations = ints("dilations", spatial, 1);
        int[] pads = ints("pads", 2 * spatial, 0);
        int[] out = new int[xs.rank()];
        out[0] = xs.dim(0);
        out[1] = ws.dim(0);
        for (int i = 0; i < spatial; i++) {
            int window = (kernel[i] - 1) * dilations[i] + 1;
            if (Shape.isSymbolic(xs.dim(i + 2)) && window == 1 && strides[i] == 1 && pads[i] == 0 && pads[i + spatial] == 0) {
                out[i + 2] = xs.dim(i + 2);     // a symbolic axis the kernel does not slide along keeps its size
                continue;
            }
            int size = xs.dim(i + 2) + pads[i] + pads[i + spatial];
            if (size < window) {
                fail("input " + xs + " (padded to " + size + " on axis " + (i + 2) + ") is smaller than the "
                        + window + "-wide kernel window of weight " + ws);
            }
            out[i + 2] = (size - window) / strides[i] + 1;
        }
        return new Out(x(0).dtype(), Shape.of(out));
    }

    private Out convTranspose() {
        Shape xs = x(0).shape();
        Shape ws = x(1).shape();
        requireRank(0, 3);
        int group = (int) at.getInt("group", 1);
        if (xs.dim(1) != ws.dim(0)) {
            fail("input " + xs + " has " + xs.dim(1) + " channels but transposed-conv weight " + ws + " expects " + ws.dim(0));
        }
        int spatial = xs.rank() - 2;
        int[] kernel = kernelShape(ws.tail(2));
        int[] strides = ints("strides", spatial, 1);
        int[] dilations = ints("dilations", spatial, 1);
        int[] pads = ints("pads", 2 * spatial, 0);
        int[] outputPadding = ints("output_padding", spatial, 0);
        int[] out = new int[xs.rank()];
        out[0] = xs.dim(0);
        out[1] = ws.dim(1) * group;
        for (int i = 0; i < spatial; i++) {
            out[i + 2] = strides[i] * (xs.dim(i + 2) - 1) + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1
                    - pads[i] - pads[i + spatial];
            if (out[i + 2] <= 0) {
                fail("transposed convolution of " + xs + " gives an empty output on axis " + (i + 2));
            }
        }
        return new Out(x(0).dtype(), Shape.of(out));
    }

    private Out pool() {
        Shape xs = x(0).shape();
        requireRank(0, 3);
        int spatial = xs.rank() - 2;
        long[] k = at.getInts("kernel_shape");
        if (k == null || k.length != spatial) {
            fail(op + " needs a kernel_shape of " + spatial + " values for input " + xs);
        }
        int[] strides = ints("strides", spatial, 1);
        int[] dilations = ints("dilations", spatial, 1);
        int[] pads = ints("pads", 2 * spatial, 0);
        boolean ceil = at.getInt("ceil_mode", 0) == 1;
        int[] out = xs.dims();
        for (int i = 0; i < spatial; i++) {
            int size = xs.dim(i + 2) + pads[i] + pads[i + spatial];
            int window = ((int) k[i] - 1) * dilations[i] + 1;
            if (size < window) {
                fail("input " + xs + " (padded to " + size + " on axis " + (i + 2) + ") is smaller than the "
                        + window + "-wide pooling window");
            }
            int n = ceil ? Math.floorDiv(size - window + strides[i] - 1, strides[i]) + 1 : (size - window) / strides[i] + 1;
            if (ceil && (n - 1) * strides[i] >= xs.dim(i + 2) + pads[i]) {
                n--; // the last window would start in the end padding
            }
            out[i + 2] = n;
        }
        return new Out(x(0).dtype(), Shape.of(out));
    }

    private Out batchNorm() {
        Shape xs = x(0).shape();
        requireRank(0, 2);
        Shape c = Shape.of(xs.dim(1));
        for (int i = 1; i <= 4; i++) {
            if (!x(i).shape().equals(c)) {
                fail("batch-norm input " + i + " has shape " + x(i).shape() + " but input " + xs + " needs " + c);
            }
        }
        return same(0);
    }

    private Out gemm() {
        Shape a = x(0).shape();
        Shape b = x(1).shape();
        if (a.rank() != 2 || b.rank() != 2) {
            fail("Gemm needs matrices, got " + a + " and " + b);
        }
        boolean ta = at.getInt("transA", 0) == 1;
        boolean tb = at.getInt("transB", 0) == 1;
        int m = ta ? a.dim(1) : a.dim(0);
        int ka = ta ? a.dim(0) : a.dim(1);
        int kb = tb ? b.dim(1) : b.dim(0);
        int n = tb ? b.dim(0) : b.dim(1);
        if (ka != kb) {
            fail("input " + a + " has " + ka + " features but weight " + b + " expects " + kb);
        }
        Shape y = Shape.of(m, n);
        if (in.size() > 2 && in.get(2) != null) {
            broadcast(y, x(2).shape());
        }
        return new Out(x(0).dtype(), y);
    }

    private Out matMul() {
        int[] a = x(0).shape().dims();
        int[] b = x(1).shape().dims();
        if (a.length == 0 || b.length == 0) {
            fail("MatMul of a scalar");
        }
        boolean av = a.length == 1;
        boolean bv = b.length == 1;
        if (av) {
            a = new int[] {1, a[0]};
        }
        if (bv) {
            b = new int[] {b[0], 1};
        }
        if (a[a.length - 1] != b[b.length - 2]) {
            fail("MatMul of " + x(0).shape() + " and " + x(1).shape() + ": inner dimensions differ");
        }
        Shape batchA = Shape.of(Arrays.copyOf(a, a.length - 2));
        Shape batchB = Shape.of(Arrays.copyOf(b, b.length - 2));
        int[] batch = broadcast(batchA, batchB).dims();
        List<Integer> out = new ArrayList<>();
        for (int d : batch) {
            out.add(d);
        }
        if (!av) {
            out.add(a[a.length - 2]);
        }
        if (!bv) {
            out.add(b[b.length - 1]);
        }
        return new Out(x(0).dtype(), Shape.of(out.stream().mapToInt(Integer::intValue).toArray()));
    }

    private Out concat() {
        Shape first = x(0).shape();
        int axis = axis(at.getInt("axis", 1), first.rank());
        int[] out = first.dims();
        for (int i = 1; i < in.size(); i++) {
            Shape s = x(i).shape();
            if (s.rank() != first.rank()) {
                fail("cannot concatenate " + first + " and " + s + ": ranks differ");
            }
            for (int d = 0; d < s.rank(); d++) {
                if (d != axis && s.dim(d) != first.dim(d)) {
                    fail("cannot concatenate " + first + " and " + s + " on axis " + axis);
                }
            }
            if (out[axis] < 0 || s.dim(axis) < 0) {
                fail("cannot concatenate along the batch dimension");
            }
            out[axis] += s.dim(axis);
        }
        return new Out(x(0).dtype(), Shape.of(out));
    }

    private List<Out> split(int outputs) {
        Shape s = x(0).shape();
        int axis = axis(at.getInt("axis", 0), s.rank());
        long[] sizes;
        if (in.size() > 1 && in.get(1) != null) {
            sizes = constInts(1);
        } else {
            if (s.dim(axis) % outputs != 0) {
                fail("cannot split " + s + " into " + outputs + " equal parts on axis " + axis);
            }
            sizes = new long[outputs];
            Arrays.fill(sizes, s.dim(axis) / outputs);
        }
        if (Arrays.stream(sizes).sum() != s.dim(axis) || sizes.length != outputs) {
            fail("split sizes " + Arrays.toString(sizes) + " do not cover " + s + " on axis " + axis);
        }
        List<Out> out = new ArrayList<>();
        for (long size : sizes) {
            out.add(new Out(x(0).dtype(), s.withDim(axis, (int) size)));
        }
        return out;
    }

    private Out flatten() {
        Shape s = x(0).shape();
        int axis = axis(at.getInt("axis", 1), s.rank() + 1);
        return new Out(x(0).dtype(), Shape.of(product(s, 0, axis), product(s, axis, s.rank())));
    }

    /** Product of dimensions from..to; a symbolic dimension makes the product a multiple of N. */
    private int product(Shape s, int from, int to) {
        int p = 1;
        boolean symbolic = false;
        for (int i = from; i < to; i++) {
            symbolic |= s.dim(i) < 0;
            p *= Math.abs(s.dim(i));
        }
        return symbolic ? -p : p;
    }

    private Out reshape() {
        Shape s = x(0).shape();
        Shape like = shapeValues.apply(x(1));
        if (like != null) {
            if (like.hasBatch() != s.hasBatch() || like.withBatch(1).elements() != s.withBatch(1).elements()) {
                fail("cannot reshape " + s + " to the shape of " + like);
            }
            return new Out(x(0).dtype(), like);
        }
        long[] target = constInts(1);
        // Element counts as coefficient × N^symbolic; a shape holds at most one symbolic dimension.
        long inputCount = s.withBatch(1).elements();
        int[] out = new int[target.length];
        int inferAt = -1;
        long known = 1;
        boolean symbolicPlaced = false;
        for (int i = 0; i < target.length; i++) {
            if (target[i] == -1) {
                if (inferAt >= 0) {
                    fail("reshape target " + Arrays.toString(target) + " has two -1 entries");
                }
                inferAt = i;
                continue;
            }
            out[i] = target[i] == 0 ? s.dim(i) : (int) target[i];
            symbolicPlaced |= out[i] < 0;
            known *= Math.abs((long) out[i]);
        }
        if (inferAt >= 0) {
            if (known == 0 || inputCount % known != 0) {
                fail("cannot reshape " + s + " to " + Arrays.toString(target));
            }
            long rest = inputCount / known;
            // The inferred dimension carries the batch when no other target dimension does.
            out[inferAt] = (int) (s.hasBatch() && !symbolicPlaced ? -rest : rest);
            if (!s.hasBatch() && symbolicPlaced) {
                fail("reshape of static " + s + " to " + Arrays.toString(target) + " would introduce the batch");
            }
        } else if (known != inputCount || s.hasBatch() != symbolicPlaced) {
            fail("cannot reshape " + s + " to " + Arrays.toString(target));
        }
        return new Out(x(0).dtype(), Shape.of(out));
    }

    private Out transpose() {
        Shape s = x(0).shape();
        long[] perm = at.getInts("perm");
        int[] out = new int[s.rank()];
        for (int i = 0; i < out.length; i++) {
            out[i] = perm == null ? s.dim(s.rank() - 1 - i) : s.dim((int) perm[i]);
        }
        return new Out(x(0).dtype(), Shape.of(out));
    }

    private Out squeeze() {
        Shape s = x(0).shape();
        long[] axes = in.size() > 1 && in.get(1) != null ? constInts(1) : null;
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < s.rank(); i++) {
            boolean drop;
            if (axes == null) {
                drop = s.dim(i) == 1;
            } else {
                final int d = i;
                drop = Arrays.stream(axes).anyMatch(a -> axis(a, s.rank()) == d);
                if (drop && s.dim(i) != 1) {
                    fail("cannot squeeze axis " + i + " of " + s);
                }
            }
            if (!drop) {
                out.add(s.dim(i));
            }
        }
        return new Out(x(0).dtype(), Shape.of(out.stream().mapToInt(Integer::intValue).toArray()));
    }

    private Out unsqueeze() {
        Shape s = x(0).shape();
        long[] axes = constInts(1);
        int rank = s.rank() + axes.length;
        int[] out = new int[rank];
        boolean[] inserted = new boolean[rank];
        for (long a : axes) {
            inserted[axis(a, rank)] = true;
        }
        for (int i = 0, j = 0; i < rank; i++) {
            out[i] = inserted[i] ? 1 : s.dim(j++);
        }
        return new Out(x(0).dtype(), Shape.of(out));
    }

    private Out pad() {
        Shape s = x(0).shape();
        long[] pads = constInts(1);
        if (pads.length != 2 * s.rank()) {
            fail("pads " + Arrays.toString(pads) + " do not fit input " + s);
        }
        int[] out = s.dims();
        for (int i = 0; i < out.length; i++) {
            if (out[i] < 0) {
                if (pads[i] != 0 || pads[i + out.length] != 0) {
                    fail("cannot pad the batch dimension");
                }
                continue;
            }
            out[i] += (int) (pads[i] + pads[i + out.length]);
        }
        return new Out(x(0).dtype(), Shape.of(out));
    }

    private Out slice() {
        Shape s = x(0).shape();
        long[] starts = constInts(1);
        long[] ends = constInts(2);
        long[] axes = in.size() > 3 && in.get(3) != null ? constInts(3) : null;
        long[] steps = in.size() > 4 && in.get(4) != null ? constInts(4) : null;
        int[] out = s.dims();
        for (int i = 0; i < starts.length; i++) {
            int a = axes == null ? i : axis(axes[i], s.rank());
            long step = steps == null ? 1 : steps[i];
            int dim = s.dim(a);
            if (dim < 0) {
                if (starts[i] != 0 || ends[i] < Integer.MAX_VALUE || step != 1) {
                    fail("cannot slice the batch dimension");
                }
                continue;
            }
            long st = clampIndex(starts[i], dim, step > 0);
            long en = clampIndex(ends[i], dim, step > 0);
            long n = step > 0 ? Math.max(0, (en - st + step - 1) / step) : Math.max(0, (st - en - step - 1) / -step);
            out[a] = (int) n;
        }
        return new Out(x(0).dtype(), Shape.of(out));
    }

    private static long clampIndex(long i, int dim, boolean forward) {
        if (i < 0) {
            i += dim;
        }
        return forward ? Math.max(0, Math.min(i, dim)) : Math.max(-1, Math.min(i, dim - 1));
    }

    private Out gather() {
        Shape data = x(0).shape();
        Shape idx = x(1).shape();
        int axis = axis(at.getInt("axis", 0), data.rank());
        int[] out = new int[data.rank() - 1 + idx.rank()];
        int j = 0;
        for (int i = 0; i < axis; i++) {
            out[j++] = data.dim(i);
        }
        for (int i = 0; i < idx.rank(); i++) {
            out[j++] = idx.dim(i);
        }
        for (int i = axis + 1; i < data.rank(); i++) {
            out[j++] = data.dim(i);
        }
        return new Out(x(0).dtype(), Shape.of(out));
    }

    private Out reduce() {
        Shape s = x(0).shape();
        long[] axes;
        if (op == Op.REDUCE_SUM) {
            axes = in.size() > 1 && in.get(1) != null ? constInts(1) : null;
        } else {
            axes = at.getInts("axes");
        }
        boolean keep = at.getInt("keepdims", 1) == 1;
        boolean[] reduced = new boolean[s.rank()];
        if (axes == null || axes.length == 0) {
            Arrays.fill(reduced, true);
        } else {
            for (long a : axes) {
                reduced[axis(a, s.rank())] = true;
            }
        }
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < s.rank(); i++) {
            if (!reduced[i]) {
                out.add(s.dim(i));
            } else if (keep) {
                out.add(1);
            }
        }
        return new Out(x(0).dtype(), Shape.of(out.stream().mapToInt(Integer::intValue).toArray()));
    }

    // ---- helpers ---------------------------------------------------------------------------

    private Value x(int i) {
        if (i >= in.size() || in.get(i) == null) {
            fail(op + " is missing input " + i);
        }
        return in.get(i);
    }

    private Out same(int i) {
        return new Out(x(i).dtype(), x(i).shape());
    }

    private void requireRank(int i, int atLeast) {
        if (x(i).shape().rank() < atLeast) {
            fail(op + " needs an input of rank " + atLeast + " or more, got " + x(i).shape());
        }
    }

    private int[] kernelShape(int[] fromWeight) {
        long[] k = at.getInts("kernel_shape");
        if (k != null && !Arrays.equals(Arrays.stream(k).mapToInt(v -> (int) v).toArray(), fromWeight)) {
            fail("kernel_shape " + Arrays.toString(k) + " disagrees with weight kernel " + Arrays.toString(fromWeight));
        }
        return fromWeight;
    }

    private int[] ints(String name, int length, int fallback) {
        long[] v = at.getInts(name);
        int[] out = new int[length];
        if (v == null) {
            Arrays.fill(out, fallback);
            return out;
        }
        if (v.length != length) {
            fail(name + " " + Arrays.toString(v) + " should have " + length + " values for input " + x(0).shape());
        }
        for (int i = 0; i < length; i++) {
            out[i] = (int) v[i];
        }
        return out;
    }

    /** A shape given as an input: an INT64 constant, or the output of {@code Shape(x)}. */
    private Shape shapeInput(int i) {
        Shape like = shapeValues.apply(x(i));
        return like != null ? like : Shape.of(constInts(i));
    }

    private long[] constInts(int i) {
        Tensor t = constants.apply(x(i));
        if (t == null) {
            fail(op + " needs input " + i + " (" + x(i).name() + ") to be a constant");
        }
        return t.longs();
    }

    private int axis(long a, int rank) {
        int r = (int) (a < 0 ? a + rank : a);
        if (r < 0 || r >= rank) {
            fail("axis " + a + " is out of range for rank " + rank);
        }
        return r;
    }

    private Shape broadcast(Shape a, Shape b) {
        int rank = Math.max(a.rank(), b.rank());
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i < rank - a.rank() ? 1 : a.dim(i - (rank - a.rank()));
            int db = i < rank - b.rank() ? 1 : b.dim(i - (rank - b.rank()));
            if (da == db || db == 1) {
                out[i] = da;
            } else if (da == 1) {
                out[i] = db;
            } else {
                fail("shapes " + a + " and " + b + " do not broadcast");
            }
        }
        return Shape.of(out);
    }

    private int fail(String message) {
        throw new ShapeException(layer, message);
    }
}
