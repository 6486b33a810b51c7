package dev.cnnzoo.training;

import dev.cnnzoo.graph.Attributes;
import dev.cnnzoo.graph.DType;
import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.graph.Value;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Max, average and global pooling. */
final class PoolRules {
    private PoolRules() {
    }

    static void register(Map<Op, GradientRule> rules) {
        rules.put(Op.MAX_POOL, new MaxPoolRule());
        rules.put(Op.AVERAGE_POOL, PoolRules::averagePool);
        rules.put(Op.GLOBAL_AVERAGE_POOL, PoolRules::globalAveragePool);
        rules.put(Op.GLOBAL_MAX_POOL, PoolRules::globalMaxPool);
    }

    /**
     * The forward pass also asks MaxPool for the flat index of each maximum (ONNX counts them over
     * the whole N×C×spatial input, padding excluded); the backward pass adds each output gradient at
     * its index with ScatterND(reduction = add), so overlapping windows that share a maximum
     * (AlexNet's 3×3/2 pooling) accumulate, and padded or ceil-mode windows need nothing special.
     */
    private static final class MaxPoolRule implements GradientRule {
        @Override
        public List<Value> forward(GradientEmitter d, Node node, List<Value> inputs) {
            List<Value> both;
            try (var s = d.g.scope(node.layer())) {
                both = d.g.op(Op.MAX_POOL, 2, node.attributes().with("storage_order", 0), inputs.toArray(Value[]::new));
            }
            d.save(node, "indices", both.get(1));
            return node.outputs().size() == 1 ? List.of(both.get(0)) : both;
        }

        @Override
        public List<Value> backward(GradientEmitter d, Node node, List<Value> in, List<Value> out, List<Value> grads, boolean[] needed) {
            Value x = in.get(0);
            if (!overlapping(node)) {
                // Windows that do not overlap send each input to at most one output: MaxUnpool puts each
                // gradient at its index and zeros elsewhere, in one pass.
                Attributes at = node.attributes();
                Attributes.Builder unpool = Attributes.builder().put("kernel_shape", at.getInts("kernel_shape"));
                if (at.has("strides")) {
                    unpool.put("strides", at.getInts("strides"));
                }
                if (at.has("pads")) {
                    unpool.put("pads", at.getInts("pads"));
                }
                return Arrays.asList(d.op(Op.MAX_UNPOOL, unpool.build(), grads.get(0), d.saved(node, "indices"), d.shapeOf(x)));
            }
            // ScatterND rather than ScatterElements: ONNX Runtime's took 9.4 against 13 ns an index
            // (GoogLeNet's stride-1 branch pools give one index per input element).
            Value indexRows = d.reshape(d.saved(node, "indices"), -1, 1);
            Value flatGrad = d.reshape(grads.get(0), -1);
            Value scattered = d.op(Op.SCATTER_ND, Attributes.of("reduction", "add"), d.reshape(d.zerosLike(x), -1), indexRows, flatGrad);
            return Arrays.asList(d.reshapeLike(scattered, x));
        }
    }

    /** Whether some input position falls in two pooling windows (a stride smaller than the window). */
    static boolean overlapping(Node node) {
        long[] kernel = node.attributes().getInts("kernel_shape");
        long[] strides = node.attributes().getInts("strides");
        long[] dilations = node.attributes().getInts("dilations");
        for (int i = 0; i < kernel.length; i++) {
            long window = (kernel[i] - 1) * (dilations == null ? 1 : dilations[i]) + 1;
            if ((strides == null ? 1 : strides[i]) < window) {
                return true;
            }
        }
        return false;
    }

    /**
     * Each output's gradient spreads evenly over its window: divide by the window's element count
     * (a constant map, since shapes are static), then a depthwise transposed convolution with a kernel
     * of ones and the pooling's strides and padding sums the shares back onto the input; at stride 1
     * an AveragePool does that sum.
     */
    private static List<Value> averagePool(GradientEmitter d, Node node, List<Value> in, List<Value> out, List<Value> grads,
            boolean[] needed) {
        Value x = in.get(0);
        Value g = grads.get(0);
        Attributes at = node.attributes();
        int n = x.shape().rank() - 2;
        int[] kernel = GradientEmitter.ints(at.getInts("kernel_shape"));
        int[] strides = orDefault(at.getInts("strides"), n, 1);
        int[] pads = orDefault(at.getInts("pads"), 2 * n, 0);
        boolean includePad = at.getInt("count_include_pad", 0) == 1;
        int[] inSize = x.shape().tail(2);
        int[] outSize = g.shape().tail(2);

        Tensor divisors = divisors(inSize, outSize, kernel, strides, pads, includePad);
        int[] undilated = new int[n];
        Arrays.fill(undilated, 1);
        int[] backPads = Arrays.stream(strides).allMatch(v -> v == 1) && !at.has("dilations")
                ? new ConvRules.Geometry(n, kernel, strides, pads, undilated, 1).complementaryPads() : null;
        if (backPads != null) {
            // Stride 1: each input receives the shares of the k outputs whose windows hold it, the
            // outputs it would meet in a window of its own, padded by k − 1 − pad. So the backward
            // pass is an AveragePool counting padding, of the shares scaled by the window's size: a
            // memory-speed pass where the depthwise ConvTranspose took 13 to 22 ms for each of
            // Inception-v3's 35×35 and 17×17 pool branches at batch 4.
            long window = 1;
            for (int k : kernel) {
                window *= k;
            }
            float[] scale = divisors.floats().clone();
            for (int i = 0; i < scale.length; i++) {
                scale[i] = window / scale[i];
            }
            Value shares = d.mul(g, d.constant(Tensor.of(divisors.shape(), scale)));
            return Arrays.asList(d.op(Op.AVERAGE_POOL, Attributes.builder().put("kernel_shape", kernel).put("pads", backPads)
                    .put("count_include_pad", 1).build(), shares));
        }
        Value shares = d.div(g, d.constant(divisors));
        int channels = x.shape().dim(1);
        int[] w = new int[n + 2];
        w[0] = channels;
        w[1] = 1;
        System.arraycopy(kernel, 0, w, 2, n);
        Value ones = d.constant(Tensor.filled(Shape.of(w), 1f));
        // Transposed convolution geometry that lands exactly on the input size: the end padding
        // absorbs any window the forward pass let run past the input (ceil mode), and
        // output_padding restores rows no window reached.
        int[] tPads = pads.clone();
        int[] outputPadding = new int[n];
        for (int i = 0; i < n; i++) {
            int produced = strides[i] * (outSize[i] - 1) + kernel[i] - pads[i] - pads[i + n];
            int missing = inSize[i] - produced;
            if (missing >= 0) {
                outputPadding[i] = missing;
            } else {
                tPads[i + n] -= missing;
            }
        }
        Value dx = d.op(Op.CONV_TRANSPOSE, Attributes.builder().put("kernel_shape", kernel).put("strides", strides).put("pads", tPads)
                .put("output_padding", outputPadding).put("group", channels).build(), shares, ones);
        return Arrays.asList(dx);
    }

    /**
     * The divisor ONNX Runtime uses for each output position (its pool_attributes): the window
     * clipped to the padded input when padding counts, else clipped to the input itself.
     */
    static Tensor divisors(int[] in, int[] out, int[] kernel, int[] strides, int[] pads, boolean includePad) {
        int n = in.length;
        int total = 1;
        for (int o : out) {
            total *= o;
        }
        float[] div = new float[total];
        int[] pos = new int[n];
        for (int flat = 0; flat < total; flat++) {
            int rem = flat;
            for (int i = n - 1; i >= 0; i--) {
                pos[i] = rem % out[i];
                rem /= out[i];
            }
            long count = 1;
            for (int i = 0; i < n; i++) {
                int start = pos[i] * strides[i] - pads[i];
                int end = Math.min(start + kernel[i], in[i] + pads[i + n]);
                int size = end - start;
                if (!includePad) {
                    size = Math.min(end, in[i]) - Math.max(start, 0);
                }
                count *= size;
            }
            div[flat] = count;
        }
        return Tensor.of(Shape.of(out), div);
    }

    /** Every input position of a map receives 1/(H·W) of the map's output gradient. */
    private static List<Value> globalAveragePool(GradientEmitter d, Node node, List<Value> in, List<Value> out, List<Value> grads,
            boolean[] needed) {
        Value x = in.get(0);
        long area = Shape.of(x.shape().tail(2)).elements();
        return Arrays.asList(d.expandLike(d.scale(grads.get(0), 1.0 / area), x));
    }

    /** The gradient goes to the positions holding the maximum (all of them on a tie). */
    private static List<Value> globalMaxPool(GradientEmitter d, Node node, List<Value> in, List<Value> out, List<Value> grads,
            boolean[] needed) {
        Value x = in.get(0);
        Value isMax = d.op(Op.CAST, Attributes.of("to", DType.FLOAT.onnxCode()), d.op(Op.EQUAL, x, out.get(0)));
        return Arrays.asList(d.mul(d.expandLike(grads.get(0), x), isMax));
    }

    private static int[] orDefault(long[] v, int n, int fallback) {
        int[] out = new int[n];
        Arrays.fill(out, fallback);
        if (v != null) {
            for (int i = 0; i < n; i++) {
                out[i] = (int) v[i];
            }
        }
        return out;
    }
}
