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

/** Batch normalisation in training mode, local response normalisation, and dropout. */
final class NormRules {
    private NormRules() {
    }

    /**
     * A training-mode batch norm's output recomputed in the backward pass (activation
     * recomputation): see {@link TrainingGraph.Activations#RECOMPUTE}.
     */
    static Value recomputeBatchNorm(GradientEmitter d, Node node, List<Value> in) {
        return BatchNormRule.recompute(d, node, in);
    }

    /** Whether {@code node} is a batch norm trained on batch statistics (not frozen), whose output can be recomputed. */
    static boolean recomputable(GradientEmitter d, Node node) {
        return node.is(Op.BATCH_NORMALIZATION) && !d.isFrozen(node.inputs().get(1)) && d.savedIfAny(node, "mean") != null;
    }

    static void register(Map<Op, GradientRule> rules) {
        rules.put(Op.BATCH_NORMALIZATION, new BatchNormRule());
        rules.put(Op.LRN, NormRules::lrn);
        rules.put(Op.DROPOUT, new DropoutRule());
    }

    /**
     * Training-mode batch norm on the batch's statistics, μ = mean(x), σ² = mean((x − μ)²) over every
     * axis but the channels, y = γ·(x − μ)/√(σ² + ε) + β; the running statistics move by the
     * momentum, the variance unbiased by n/(n − 1) as PyTorch does. ONNX Runtime's own training mode
     * is no help (its CUDA kernel refuses it at opset 14+, its CPU kernel returns no saved
     * statistics), but once μ and σ² are known the normalisation is an inference-mode
     * {@code BatchNormalization} fed them as its statistics: one pass, where the primitives took three.
     * The backward pass is the closed form dx = (γ/√(σ² + ε))·(g − mean(g) − x̂·mean(g·x̂)),
     * dγ = Σ g·x̂, dβ = Σ g, from the saved input and statistics: the layer keeps its input, which
     * its convolution produced anyway, and not x̂, a second tensor of the same size; the backward
     * pass never forms x̂ either (the x̂ terms of dx are a batch norm of x, Σ g·x̂ comes from Σ g·x).
     *
     * <p>A frozen layer (γ and β frozen, as in fine-tuning) runs in inference mode on its running
     * statistics and leaves them alone, as Keras does for non-trainable batch norm.
     */
    private static final class BatchNormRule implements GradientRule {
        @Override
        public List<Value> forward(GradientEmitter d, Node node, List<Value> in) {
            Value x = in.get(0);
            Value gamma = in.get(1);
            Value beta = in.get(2);
            Value runningMean = in.get(3);
            Value runningVar = in.get(4);
            float eps = node.attributes().getFloat("epsilon", 1e-5f);
            float momentum = node.attributes().getFloat("momentum", 0.9f);
            int rank = x.shape().rank();
            long[] axes = GradientEmitter.allButChannels(rank);
            long[] channelShape = channelShape(x);
            int channels = x.shape().dim(1);
            try (var s = d.g.scope(node.layer())) {
                if (d.isFrozen(node.inputs().get(1))) {
                    Value invStd = d.reshape(d.op(Op.RECIPROCAL, d.op(Op.SQRT, d.add(runningVar, d.scalar(eps)))), channelShape);
                    d.save(node, "inv_std", invStd);
                    return List.of(d.g.op(Op.BATCH_NORMALIZATION, node.attributes(), in.toArray(Value[]::new)));
                }
                Value count = d.valuesPerChannel(x);
                Value mean = d.reduceMean(x, true, axes);
                Value centred = d.sub(x, mean);
                Value var = d.div(d.op(Op.REDUCE_SUM_SQUARE, Attributes.of("axes", axes, "keepdims", 1), centred), count);
                Value batchMean = d.reshape(mean, channels);
                Value batchVar = d.reshape(var, channels);
                Value y = d.op(Op.BATCH_NORMALIZATION, Attributes.of("epsilon", eps), x, gamma, beta, batchMean, batchVar);
                d.save(node, "mean", batchMean);
                d.save(node, "var", batchVar);
                d.save(node, "inv_std", d.op(Op.RECIPROCAL, d.op(Op.SQRT, d.add(var, d.scalar(eps)))));

                Value unbias = d.div(count, d.sub(count, d.scalar(1)));
                d.updateState(node.inputs().get(3).name(),
                        d.add(d.scale(runningMean, momentum), d.scale(batchMean, 1 - momentum)));
                d.updateState(node.inputs().get(4).name(),
                        d.add(d.scale(runningVar, momentum), d.scale(d.mul(batchVar, unbias), 1 - momentum)));
                return List.of(y);
            }
        }

        @Override
        public List<Value> backward(GradientEmitter d, Node node, List<Value> in, List<Value> out, List<Value> grads, boolean[] needed) {
            Value g = grads.get(0);
            Value x = in.get(0);
            long[] channelShape = channelShape(x);
            long[] axes = GradientEmitter.allButChannels(x.shape().rank());
            int channels = x.shape().dim(1);
            Value gamma = d.reshape(in.get(1), channelShape);
            Value invStd = d.saved(node, "inv_std");
            if (d.isFrozen(node.inputs().get(1))) {
                return Arrays.asList(needed[0] ? d.mul(g, d.mul(gamma, invStd)) : null, null, null, null, null);
            }
            float eps = node.attributes().getFloat("epsilon", 1e-5f);
            // Σ g·x̂ = (Σ g·x − μ·Σ g)/√(σ² + ε), without x̂ itself: that pass read x and wrote a tensor
            // its size, 43 ms of ResNet-50's 1.7 s step at batch 8 (53 layers, profiled). The difference
            // cancels where the mean is many standard deviations from zero; at 170 the gradients still
            // agree with the unshifted input's to 1.3e-5 of their scale (GradientRulesTest), as x̂'s did.
            Value sumG = d.reduceSum(g, true, axes);
            Value mean = d.reshape(d.saved(node, "mean"), channelShape);
            Value sumGx = d.mul(invStd, d.sub(d.reduceSum(d.mul(g, x), true, axes), d.mul(mean, sumG)));
            Value dx = null;
            if (needed[0]) {
                // dx = a·g − (a/n)·x̂·Σg·x̂ − (a/n)·Σg with a = γ/√(σ² + ε). The last two terms are a
                // batch norm of x on the saved statistics, scaled by −(a/n)·Σg·x̂ and shifted by
                // −(a/n)·Σg: one pass of ONNX Runtime's vectorised kernel, where a three-term Sum
                // broadcasting the shift took 1.9 ns an element (154 ms of ResNet-50's step at batch 8).
                Value a = d.mul(gamma, invStd);
                Value aOverN = d.div(a, d.valuesPerChannel(x));
                Value scale = d.reshape(d.neg(d.mul(aOverN, sumGx)), channels);
                Value shift = d.reshape(d.neg(d.mul(aOverN, sumG)), channels);
                Value centredTerms = d.op(Op.BATCH_NORMALIZATION, Attributes.of("epsilon", eps), x, scale, shift, d.saved(node, "mean"),
                        d.saved(node, "var"));
                dx = d.add(d.mul(g, a), centredTerms);
            }
            Value dGamma = needed[1] ? d.reshape(sumGx, channels) : null;
            Value dBeta = needed[2] ? d.reshape(sumG, channels) : null;
            return Arrays.asList(dx, dGamma, dBeta, null, null);
        }

        /**
         * The layer's output again, from its saved input and batch statistics. The node must differ
         * from the forward pass's, or ONNX Runtime's common-subexpression elimination merges the two
         * and the forward output is kept after all: ε moves from the attribute into the variance
         * input, σ² + ε then + 0, which the kernel evaluates to the same float, so the values are
         * the forward pass's bit for bit.
         */
        static Value recompute(GradientEmitter d, Node node, List<Value> in) {
            float eps = node.attributes().getFloat("epsilon", 1e-5f);
            return d.op(Op.BATCH_NORMALIZATION, Attributes.of("epsilon", 0f), in.get(0), in.get(1), in.get(2), d.saved(node, "mean"),
                    d.add(d.saved(node, "var"), d.scalar(eps)));
        }

        /** [C, 1, 1, ...]: a per-channel vector shaped to broadcast over N×C×spatial. */
        private static long[] channelShape(Value x) {
            long[] s = new long[x.shape().rank() - 1];
            Arrays.fill(s, 1);
            s[0] = x.shape().dim(1);
            return s;
        }
    }

    /**
     * LRN: b_c = a_c·d_c^(−β), d_c = k + (α/n)·Σ_{j∈W(c)} a_j² over the n = size maps around c.
     * Then ∂L/∂a_i = g_i·d_i^(−β) − (2αβ/n)·a_i·Σ_{c: i∈W(c)} g_c·a_c·d_c^(−β−1). Both window sums
     * are a 1×1 convolution with a banded 0/1 matrix over the channels (the second with its transpose).
     */
    private static List<Value> lrn(GradientEmitter d, Node node, List<Value> in, List<Value> out, List<Value> grads, boolean[] needed) {
        Attributes at = node.attributes();
        int size = (int) at.getInt("size", 5);
        double alpha = at.getFloat("alpha", 1e-4f);
        double beta = at.getFloat("beta", 0.75f);
        double bias = at.getFloat("bias", 1f);
        Value a = in.get(0);
        Value g = grads.get(0);
        int channels = a.shape().dim(1);
        int spatial = a.shape().rank() - 2;
        Value windowSum = d.op(Op.CONV, Attributes.of("kernel_shape", ones(spatial)), d.mul(a, a),
                d.constant(band(channels, size, spatial, false)));
        Value denom = d.add(d.scalar(bias), d.scale(windowSum, alpha / size));
        Value direct = d.mul(g, d.op(Op.POW, denom, d.scalar(-beta)));
        Value t = d.mul(d.mul(g, a), d.op(Op.POW, denom, d.scalar(-beta - 1)));
        Value spread = d.op(Op.CONV, Attributes.of("kernel_shape", ones(spatial)), t, d.constant(band(channels, size, spatial, true)));
        Value dx = d.sub(direct, d.scale(d.mul(a, spread), 2 * alpha * beta / size));
        return Arrays.asList(dx);
    }

    /**
     * [C, C, 1...]: entry (c, j) is 1 when map j is within the LRN window of map c (ONNX's floor/ceil
     * split of the window), or its transpose.
     */
    static Tensor band(int channels, int size, int spatial, boolean transposed) {
        int before = (size - 1) / 2;
        int after = size - 1 - before;
        float[] w = new float[channels * channels];
        for (int c = 0; c < channels; c++) {
            for (int j = Math.max(0, c - before); j <= Math.min(channels - 1, c + after); j++) {
                w[transposed ? j * channels + c : c * channels + j] = 1;
            }
        }
        int[] shape = new int[spatial + 2];
        Arrays.fill(shape, 1);
        shape[0] = channels;
        shape[1] = channels;
        return Tensor.of(Shape.of(shape), w);
    }

    /**
     * Dropout through a mask the trainer feeds (zeros and 1/(1 − rate), drawn from the run's seed and
     * step), so a step is reproducible and a resumed run repeats the same masks.
     */
    private static final class DropoutRule implements GradientRule {
        @Override
        public List<Value> forward(GradientEmitter d, Node node, List<Value> in) {
            Value x = in.get(0);
            float rate = d.g.constantData(in.get(1)).floats()[0];
            Value mask = d.dropoutMask(node, x.shape(), rate);
            d.save(node, "mask", mask);
            try (var s = d.g.scope(node.layer())) {
                return List.of(d.mul(x, mask));
            }
        }

        @Override
        public List<Value> backward(GradientEmitter d, Node node, List<Value> in, List<Value> out, List<Value> grads, boolean[] needed) {
            return Arrays.asList(d.mul(grads.get(0), d.saved(node, "mask")), null, null);
        }
    }

    private static int[] ones(int n) {
        int[] a = new int[n];
        Arrays.fill(a, 1);
        return a;
    }
}
