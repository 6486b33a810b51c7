package dev.cnnzoo.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.graph.Attributes;
import dev.cnnzoo.graph.DType;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.GraphBuilder;
import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.BatchNorm;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Lrn;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Padding;
import dev.cnnzoo.nn.Pool;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.OnnxExporter;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.testkit.Close;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * Every gradient rule against central finite differences (see {@link GradientCheck} for the step
 * and tolerance). Each case is a small network: the operator under test, then a dense probe to
 * three classes, so the loss is softmax cross-entropy as in training.
 */
class GradientRulesTest {
    /** input (N×channels×spatial) → layer → flatten → dense(3) logits. */
    private static Graph probe(String name, int[] input, BiFunction<Net, Value, Value> layer) {
        Net net = new Net(name);
        Value x = net.input(input[0], java.util.Arrays.copyOfRange(input, 1, input.length));
        Value y = layer.apply(net, x);
        Value flat = y.shape().rank() == 2 ? y : net.flatten(y);
        net.output(Net.LOGITS, net.dense("probe", flat, 3));
        return net.build();
    }

    private static void check(Graph g) {
        List<String> checked = GradientCheck.of(g).run();
        assertTrue(checked.contains("input"), "the input gradient was checked");
    }

    @Test
    void convolutionStridesSamePaddingAndBias() {
        check(probe("conv-same", new int[] {3, 7, 7}, (n, x) -> n.conv("c", x, Conv.of(4, 3).stride(2).same())));
        check(probe("conv-asym", new int[] {2, 8, 9}, (n, x) -> n.conv("c", x,
                Conv.of(3, 3, 2).stride(2, 3).padding(Padding.explicit(new int[] {0, 1}, new int[] {2, 0})))));
    }

    /**
     * ConvRules.gemmOverBatch: small maps with weights of 2^18 elements or more train as one GEMM over the batch,
     * unless the convolution runs on ONNX Runtime's blocked kernels (which the system property turns off here).
     */
    @Test
    void convolutionAsOneGemmOverTheBatch() {
        BiFunction<Net, Value, Value> wide = (n, x) -> n.conv("c", x, Conv.of(512, 3).same());       // 512×64×3×3 = 294,912
        boolean blocked = BlockedConvolutions.available();
        String was = System.setProperty(BlockedConvolutions.ENABLED_PROPERTY, "false");
        try {
            check(probe("gemm-same", new int[] {64, 4, 4}, wide));
            check(probe("gemm-valid-strided", new int[] {64, 7, 7}, (n, x) -> n.conv("c", x, Conv.of(512, 3).stride(2))));
            assertEquals(0, convNodes(probe("gemm", new int[] {64, 4, 4}, wide)), "a 4×4 map and 294,912 weights: no Conv nodes");
            assertEquals(2, convNodes(probe("large-map", new int[] {64, 11, 11}, wide)), "an 11×11 map keeps Conv forward and for dX");
            assertEquals(3, convNodes(probe("small-weights", new int[] {8, 4, 4}, (n, x) -> n.conv("c", x, Conv.of(16, 3).same()))),
                    "1,152 weights keep Conv forward and for dX (and, with 8 input maps, for dW)");
        } finally {
            if (was == null) {
                System.clearProperty(BlockedConvolutions.ENABLED_PROPERTY);
            } else {
                System.setProperty(BlockedConvolutions.ENABLED_PROPERTY, was);
            }
        }
        if (blocked) {
            assertEquals(2, convNodes(probe("gemm", new int[] {64, 4, 4}, wide)), "on the blocked kernels the Conv nodes stay");
            assertEquals(0, convNodes(probe("gemm-unblocked", new int[] {60, 4, 4}, (n, x) -> n.conv("c", x, Conv.of(500, 3).same()))),
                    "60 and 500 maps are no multiples of a block: one GEMM");
        }
    }

    /** Conv nodes, but for those that write a weight gradient's im2col columns (with constant one-hot kernels). */
    private static long convNodes(Graph g) {
        return TrainingGraph.build(g, Loss.crossEntropy(), Set.of(), true).graph().nodes().stream()
                .filter(node -> node.is(Op.CONV) && node.inputs().get(1).kind() != Value.Kind.CONSTANT).count();
    }

    private static long columnConvolutions(Graph g) {
        return TrainingGraph.build(g, Loss.crossEntropy(), Set.of(), true).graph().nodes().stream()
                .filter(node -> node.is(Op.CONV) && node.inputs().get(1).kind() == Value.Kind.CONSTANT).count();
    }

    /**
     * ConvRules.weightGradient: from 32 input maps the weight gradient is one GEMM over im2col columns
     * that a grouped convolution writes (1-D and 2-D, up to ConvRules.LARGEST_COLUMNS an image; 2-D
     * beyond that, one a band of output rows), else one GEMM per kernel tap, a strided convolution's
     * taps reading phases of the padded input; any stride, padding, dilation, rank.
     */
    @Test
    void convolutionWeightGradientOverColumnsOrPerTap() {
        int maps = ConvRules.PRODUCT_MIN_MAPS;
        check(probe("tap-same", new int[] {maps, 5, 5}, (n, x) -> n.conv("c", x, Conv.of(3, 3).same())));
        check(probe("tap-strided", new int[] {maps, 7, 8}, (n, x) -> n.conv("c", x, Conv.of(3, 3).stride(2).pad(1))));
        check(probe("tap-dilated-strided", new int[] {maps, 9, 9}, (n, x) -> n.conv("c", x, Conv.of(2, 3).dilation(2).stride(2).pad(1))));
        check(probe("tap-asymmetric", new int[] {maps, 8, 9}, (n, x) -> n.conv("c", x,
                Conv.of(2, 3, 2).stride(2, 3).padding(Padding.explicit(new int[] {0, 1}, new int[] {2, 0})))));
        check(probe("tap-1x1-strided", new int[] {maps, 5, 5}, (n, x) -> n.conv("c", x, Conv.of(3, 1).stride(2))));
        check(probe("tap-1d", new int[] {maps, 11}, (n, x) -> n.conv("c", x, Conv.of(3, 3).stride(2).same())));
        check(probe("tap-3d", new int[] {maps, 4, 5, 5}, (n, x) -> n.conv("c", x, Conv.of(2, 3).pad(1).stride(2))));
        check(probe("tap-deconv", new int[] {3, 3, 3}, (n, x) -> n.convTranspose("t", x, Conv.of(maps, 3).stride(2).same())));
        check(probe("tap-wide", new int[] {maps + 8, 6, 5}, (n, x) -> n.conv("c", x, Conv.of(48, 3).same())));
        assertEquals(1, weightGradientProducts(probe("columns", new int[] {maps, 5, 5}, (n, x) -> n.conv("c", x, Conv.of(3, 3).same()))),
                "a 3×3 kernel over 32 maps of 5×5: one product over the columns");
        assertEquals(1, columnConvolutions(probe("columns", new int[] {maps, 5, 5}, (n, x) -> n.conv("c", x, Conv.of(3, 3).same()))),
                "the columns written by one convolution");
        BiFunction<Net, Value, Value> threeByThree = (n, x) -> n.conv("c", x, Conv.of(3, 3).same());
        // averaged before the probe's dense layer: its logits over 3·90·90 raw features would be far from
        // the softmax's linear range, where central differences lose the second digit
        check(probe("columns-in-parts", new int[] {maps, 90, 90}, (n, x) -> n.globalAvgPool(threeByThree.apply(n, x))));
        assertEquals(2, weightGradientProducts(probe("columns-in-parts", new int[] {maps, 90, 90}, threeByThree)),
                "32·9·90 column entries an output row an image: 80 rows under 2 M, so two bands of 45 rows");
        assertEquals(2, columnConvolutions(probe("columns-in-parts", new int[] {maps, 90, 90}, threeByThree)), "one a band");
        assertEquals(4, weightGradientProducts(probe("bands", new int[] {maps, 150, 150}, threeByThree)),
                "32·9·150 column entries an output row: 48 rows under 2 M, so four bands of 38 rows (the last 36)");
        // a band's rows reach into the layer's padding only at the ends, strided and dilated
        check(probe("bands-strided", new int[] {maps, 181, 180}, (n, x) -> n.globalAvgPool(n.conv("c", x, Conv.of(3, 3).stride(2).pad(1)))));
        check(probe("bands-dilated", new int[] {maps, 100, 100}, (n, x) -> n.globalAvgPool(n.conv("c", x, Conv.of(3, 3).dilation(2).pad(2)))));
        check(probe("bands-asymmetric", new int[] {maps, 184, 172}, (n, x) -> n.globalAvgPool(n.conv("c", x,
                Conv.of(3, 3, 2).stride(2, 1).padding(Padding.explicit(new int[] {0, 1}, new int[] {1, 0}))))));
        assertEquals(2, weightGradientProducts(probe("bands-strided", new int[] {maps, 181, 180},
                (n, x) -> n.conv("c", x, Conv.of(3, 3).stride(2).pad(1)))), "91 output rows of 90: two bands");
        check(probe("pointwise", new int[] {maps, 6, 6}, (n, x) -> n.conv("c", x, Conv.of(4, 1))));
        Graph pointwise = TrainingGraph.build(probe("pointwise", new int[] {maps, 6, 6}, (n, x) -> n.conv("c", x, Conv.of(4, 1))),
                Loss.crossEntropy(), Set.of(), true).graph();
        assertEquals(0, pointwise.nodes().stream().filter(node -> node.is(Op.TRANSPOSE) && node.layer().startsWith("c/grad")
                && node.inputs().get(0).shape().rank() == 4).count(), "a 1×1 layer on 6×6 maps: dW per image, X and dY not moved");
        assertEquals(27, weightGradientProducts(probe("taps-3d", new int[] {maps, 4, 5, 5}, (n, x) -> n.conv("c", x, Conv.of(2, 3).pad(1)))),
                "3-D: no 4-D convolution for the columns, so 27 products");
        assertEquals(0, weightGradientProducts(probe("few", new int[] {maps - 1, 5, 5}, (n, x) -> n.conv("c", x, Conv.of(3, 3).same()))),
                "31 maps: no products, the weight gradient is a convolution");
        assertEquals(0, weightGradientProducts(probe("grouped", new int[] {maps - 2, 5, 5}, (n, x) -> n.conv("c", x, Conv.of(6, 3).groups(2).same()))),
                "2 groups of 15 maps: no products, a grouped convolution");
        assertEquals(1, weightGradientProducts(probe("wide-groups", new int[] {2 * maps, 5, 5}, (n, x) -> n.conv("c", x,
                Conv.of(4, 3).groups(2).same()))), "2 groups of 32 maps: one product over im2col columns");
    }

    /**
     * ConvRules.weightGradientAsConv: below 32 input maps the weight gradient is a convolution of the
     * input with the output gradient as kernels (dilated by the stride, strided by the dilation); where
     * the forward pass skipped more rows than it padded, the im2col columns instead.
     */
    @Test
    void convolutionWeightGradientAsAConvolution() {
        check(probe("few-same", new int[] {3, 6, 6}, (n, x) -> n.conv("c", x, Conv.of(4, 3).same())));
        check(probe("few-stem", new int[] {3, 15, 15}, (n, x) -> n.conv("c", x, Conv.of(4, 7).stride(2).pad(3))));
        check(probe("few-dilated-strided", new int[] {2, 11, 11}, (n, x) -> n.conv("c", x, Conv.of(3, 3).dilation(2).stride(2).pad(1))));
        check(probe("few-skipping", new int[] {2, 8, 8}, (n, x) -> n.conv("c", x, Conv.of(3, 3).stride(3))));
        check(probe("few-grouped", new int[] {6, 7, 7}, (n, x) -> n.conv("c", x, Conv.of(9, 3).groups(3).stride(2).pad(1))));
        check(probe("few-grouped-1d", new int[] {4, 9}, (n, x) -> n.conv("c", x, Conv.of(4, 3).groups(2).same())));
        assertEquals(2, convNodes(probe("stem", new int[] {3, 15, 15}, (n, x) -> n.conv("c", x, Conv.of(4, 7).stride(2).pad(3)))),
                "stride 2: Conv forward and for dW (the input gradient is a ConvTranspose)");
        assertEquals(1, convNodes(probe("skipping", new int[] {2, 8, 8}, (n, x) -> n.conv("c", x, Conv.of(3, 3).stride(3)))),
                "8 rows, kernel 3, stride 3: the last two rows skipped, so columns");
    }

    /** Products of two computed tensors in the layer's gradient (the kernel flip's product with a constant is not one). */
    private static long weightGradientProducts(Graph g) {
        return TrainingGraph.build(g, Loss.crossEntropy(), Set.of(), true).graph().nodes().stream()
                .filter(node -> node.is(Op.MAT_MUL) && node.layer().startsWith("c/grad"))
                .filter(node -> node.inputs().stream().noneMatch(v -> v.kind() == Value.Kind.CONSTANT)).count();
    }

    /**
     * A kernel as large as its unpadded input (LeNet-5's C5, Inception-v3's auxiliary 5×5) has one
     * output position: the layer and its gradients are products, no convolution.
     */
    @Test
    void convolutionOverTheWholeInputAsADenseLayer() {
        check(probe("whole", new int[] {3, 5, 5}, (n, x) -> n.conv("c", x, Conv.of(4, 5))));
        check(probe("whole-strided-1d", new int[] {2, 4}, (n, x) -> n.conv("c", x, Conv.of(3, 4).stride(2))));
        check(probe("whole-rectangular", new int[] {ConvRules.PRODUCT_MIN_MAPS, 3, 2}, (n, x) -> n.conv("c", x, Conv.of(2, 3, 2))));
        assertEquals(0, convNodes(probe("dense", new int[] {3, 5, 5}, (n, x) -> n.conv("c", x, Conv.of(4, 5)))),
                "no Conv: the forward pass is a product too");
        assertEquals(2, weightGradientProducts(probe("dense", new int[] {3, 5, 5}, (n, x) -> n.conv("c", x, Conv.of(4, 5)))),
                "dX and dW each one product");
    }

    @Test
    void convolutionDilationGroupsDepthwise() {
        check(probe("conv-dilated", new int[] {2, 9, 9}, (n, x) -> n.conv("c", x, Conv.of(3, 3).dilation(2).pad(1))));
        check(probe("conv-groups", new int[] {4, 6, 6}, (n, x) -> n.conv("c", x, Conv.of(6, 3).groups(2).pad(1).stride(2))));
        check(probe("conv-depthwise", new int[] {3, 6, 6}, (n, x) -> n.conv("c", x, Conv.depthwise(3).multiplier(2).same())));
        check(probe("separable", new int[] {3, 6, 6}, (n, x) -> n.separableConv("s", x, Conv.of(4, 3).same())));
    }

    @Test
    void convolutionInOneAndThreeDimensions() {
        check(probe("conv1d", new int[] {2, 11}, (n, x) -> n.conv("c", x, Conv.of(3, 3).stride(2).same())));
        check(probe("conv3d", new int[] {2, 4, 5, 5}, (n, x) -> n.conv("c", x, Conv.of(2, 3).pad(1).stride(2))));
    }

    @Test
    void transposedConvolution() {
        check(probe("deconv", new int[] {3, 4, 4}, (n, x) -> n.convTranspose("t", x, Conv.of(2, 3).stride(2).same())));
        check(probe("deconv-valid", new int[] {4, 3, 3}, (n, x) -> n.convTranspose("t", x, Conv.of(4, 3).stride(2).groups(2))));
    }

    @Test
    void maxPoolingOverlappingPaddedCeilAndDepthwise() {
        check(probe("maxpool-overlap", new int[] {2, 7, 7}, (n, x) -> n.maxPool(x, Pool.of(3).stride(2))));
        check(probe("maxpool-padded", new int[] {2, 6, 6}, (n, x) -> n.maxPool(x, Pool.of(3).stride(2).pad(1))));
        check(probe("maxpool-ceil", new int[] {2, 6, 6}, (n, x) -> n.maxPool(x, Pool.of(3).stride(2).ceil())));
        check(probe("maxpool-depth", new int[] {6, 3, 3}, (n, x) -> n.depthMaxPool("d", x, 3)));
    }

    @Test
    void averagePoolingWithAndWithoutCountingPadding() {
        check(probe("avgpool", new int[] {2, 6, 6}, (n, x) -> n.avgPool(x, Pool.of(2))));
        check(probe("avgpool-pad", new int[] {2, 7, 7}, (n, x) -> n.avgPool(x, Pool.of(3).stride(2).pad(1))));
        check(probe("avgpool-pad-counted", new int[] {2, 7, 7}, (n, x) -> n.avgPool(x, Pool.of(3).stride(2).pad(1).countIncludePad())));
        check(probe("avgpool-ceil", new int[] {2, 6, 6}, (n, x) -> n.avgPool(x, Pool.of(3).stride(2).ceil())));
        check(probe("avgpool-5x5/3", new int[] {2, 14, 14}, (n, x) -> n.avgPool(x, Pool.of(5).stride(3))));
    }

    /**
     * At stride 1 (Inception's pool branches) the backward pass is an AveragePool of the scaled
     * shares, no transposed convolution: same padding counted or not, asymmetric, valid, 1-D.
     */
    @Test
    void averagePoolingAtStrideOneAsAnAveragePool() {
        check(probe("avgpool-s1", new int[] {2, 6, 6}, (n, x) -> n.avgPool(x, Pool.of(3).stride(1).pad(1))));
        check(probe("avgpool-s1-counted", new int[] {2, 6, 6}, (n, x) -> n.avgPool(x, Pool.of(3).stride(1).pad(1).countIncludePad())));
        check(probe("avgpool-s1-asym", new int[] {2, 5, 6}, (n, x) -> n.avgPool(x,
                Pool.of(3, 2).stride(1).padding(Padding.explicit(new int[] {2, 0}, new int[] {0, 1})))));
        check(probe("avgpool-s1-valid", new int[] {2, 5, 5}, (n, x) -> n.avgPool(x, Pool.of(2).stride(1))));
        check(probe("avgpool-s1-1d", new int[] {2, 7}, (n, x) -> n.avgPool(x, Pool.of(3).stride(1).pad(1))));
        Graph branch = probe("branch", new int[] {2, 6, 6}, (n, x) -> n.avgPool(x, Pool.of(3).stride(1).pad(1).countIncludePad()));
        List<Node> nodes = TrainingGraph.build(branch, Loss.crossEntropy(), Set.of(), true).graph().nodes();
        assertEquals(0, nodes.stream().filter(node -> node.is(Op.CONV_TRANSPOSE)).count(), "no ConvTranspose");
        assertEquals(2, nodes.stream().filter(node -> node.is(Op.AVERAGE_POOL)).count(), "AveragePool forward and backward");
    }

    @Test
    void globalPooling() {
        check(probe("gap", new int[] {3, 4, 5}, (n, x) -> n.flatten(n.globalAvgPool(x))));
        check(probe("gmp", new int[] {3, 4, 5}, (n, x) -> n.flatten(n.globalMaxPool(x))));
    }

    @Test
    void localResponseNormalisation() {
        // AlexNet's parameters as Géron's Hands-On Machine Learning gives them, on enough maps for the window to matter.
        check(probe("lrn", new int[] {7, 3, 3}, (n, x) -> n.lrn(n.scale(x, 3), Lrn.ofRadius(2, 2e-5 * 1000, 0.75, 1))));
        check(probe("lrn-googlenet", new int[] {6, 2, 2}, (n, x) -> n.lrn(x, Lrn.ofSize(5, 1e-2, 0.75, 2))));
    }

    @Test
    void batchNormalisationInTrainingMode() {
        check(probe("bn", new int[] {3, 4, 4}, (n, x) -> n.batchNorm("bn", x)));
        check(probe("bn-dense", new int[] {5, 1, 1}, (n, x) -> n.batchNorm("bn", n.flatten(x), BatchNorm.defaults().epsilon(1e-3))));
    }

    /**
     * Batch norm forgets a constant added to its input, and so must its gradients. The backward pass
     * takes Σ g·x̂ as (Σ g·x − μ·Σ g)/σ, which cancels where the mean is far from zero: at 100 (about
     * 170 standard deviations of these inputs) the gradients stay within 1e-4 of the unshifted ones
     * (1.3e-5 seen, as with x̂ itself; a sign slip in the difference gives 450).
     */
    @Test
    void batchNormGradientsIgnoreAnOffsetOfTheInput() {
        Map<String, Tensor> plain = GradientCheck.of(shiftedBatchNorm(0f)).gradients();
        Map<String, Tensor> shifted = GradientCheck.of(shiftedBatchNorm(100f)).gradients();
        assertEquals(plain.keySet(), shifted.keySet());
        for (String name : plain.keySet()) {
            Close.assertRelative(name, plain.get(name).floats(), shifted.get(name).floats(), 1e-4);
        }
    }

    private static Graph shiftedBatchNorm(float offset) {
        return probe("bn-shifted", new int[] {3, 4, 4}, (n, x) -> n.batchNorm("bn", n.add(x, n.graph().constant(Tensor.filled(Shape.of(1), offset)))));
    }

    @Test
    void frozenBatchNormRunsOnItsRunningStatistics() {
        Graph g = probe("bn-frozen", new int[] {3, 4, 4}, (n, x) -> n.batchNorm("bn", n.conv("c", x, Conv.of(3, 3).pad(1))));
        List<String> checked = GradientCheck.of(g).frozen(Set.of("c.weight", "c.bias", "bn.weight", "bn.bias")).run();
        assertEquals(List.of("probe.weight", "probe.bias", "input"), checked);
    }

    @Test
    void dropoutThroughItsMask() {
        check(probe("dropout", new int[] {6, 1, 1}, (n, x) -> n.dropout(n.flatten(x), 0.5)));
    }

    @Test
    void denseAndMatMul() {
        check(probe("dense", new int[] {4, 1, 1}, (n, x) -> n.relu(n.dense("fc", n.flatten(x), 5))));
        check(probe("matmul", new int[] {4, 2, 3}, (n, x) -> {
            GraphBuilder g = n.graph();
            Value w = g.parameter("w", Shape.of(3, 2), dev.cnnzoo.graph.Init.normal(1));
            return g.op(Op.MAT_MUL, Attributes.none(), x, w);
        }));
        check(probe("gemm-transposed", new int[] {3, 1, 1}, (n, x) -> {
            GraphBuilder g = n.graph();
            Value w = g.parameter("w", Shape.of(3, 4), dev.cnnzoo.graph.Init.normal(1));
            Value c = g.parameter("c", Shape.of(4), dev.cnnzoo.graph.Init.normal(1));
            return g.op(Op.GEMM, Attributes.of("alpha", 0.5f, "beta", 2f), n.flatten(x), w, c);
        }));
    }

    @Test
    void broadcastingArithmetic() {
        check(probe("arith", new int[] {3, 2, 2}, (n, x) -> {
            GraphBuilder g = n.graph();
            Value scale = g.parameter("scale", Shape.of(3, 1, 1), dev.cnnzoo.graph.Init.normal(1));
            Value shift = g.parameter("shift", Shape.of(2), dev.cnnzoo.graph.Init.normal(1));
            Value divisor = g.parameter("divisor", Shape.of(1, 2, 1), dev.cnnzoo.graph.Init.constant(2f));
            Value y = n.add(n.mul(x, scale), shift);
            y = n.sub(y, n.graph().op(Op.DIV, Attributes.none(), x, divisor));
            return n.sub(shift, y);
        }));
    }

    @Test
    void concatSplitReshapeTranspose() {
        check(probe("concat", new int[] {2, 3, 3}, (n, x) -> n.concat(n.conv("a", x, Conv.of(1, 1)), x, n.tanh(x))));
        check(probe("split", new int[] {4, 2, 2}, (n, x) -> {
            GraphBuilder g = n.graph();
            List<Value> parts = g.op(Op.SPLIT, 2, Attributes.of("axis", 1), x, g.int64s(1, 3));
            return n.mul(n.concat(parts.get(1), parts.get(0)), n.sigmoid(x));
        }));
        check(probe("transpose", new int[] {2, 3, 4}, (n, x) -> {
            Value t = n.graph().op(Op.TRANSPOSE, Attributes.of("perm", new int[] {0, 3, 1, 2}), x);
            return n.reshape(t, 0, 4, 6);
        }));
    }

    /**
     * ReLU's mask is exactly 0 or 1: the output gradient passes unchanged wherever the output is
     * positive, down to the smallest normal float, and stops where it is 0. (Finite differences cannot
     * see this: a mask of 0.5 at an output of 1e-30 changes no loss they resolve.)
     */
    @Test
    void reluPassesTheGradientExactlyAtTinyPositiveOutputs() {
        float[] x = {Float.MIN_NORMAL, 3e-38f, 1e-30f, 1e-7f, 0f, -1e-30f, -2f, 5f};
        float[] upstream = {0.3f, -1.7f, 2.5f, 1e-3f, 4f, 4f, -4f, -0.25f};
        GraphBuilder g = new GraphBuilder("relu-mask");
        Value in = g.input("x", DType.FLOAT, Shape.of(x.length));
        Value grad = g.input("g", DType.FLOAT, Shape.of(x.length));
        Value y = g.op(Op.RELU, Attributes.none(), in);
        GradientEmitter d = new GradientEmitter(g, Set.of());
        Value dx = Rules.of(Op.RELU).backward(d, null, List.of(in), List.of(y), List.of(grad), new boolean[] {true}).get(0);
        g.output("dx", dx);
        byte[] model = OnnxExporter.toBytes(g.build(), null, ExportOptions.defaults().asBuilt());
        try (InferenceSession s = InferenceSession.open(model, RuntimeOptions.cpu(1))) {
            float[] got = s.run(Map.of("x", Tensor.of(Shape.of(x.length), x), "g", Tensor.of(Shape.of(x.length), upstream)))
                    .get("dx").floats();
            for (int i = 0; i < x.length; i++) {
                assertEquals(x[i] > 0 ? upstream[i] : 0f, got[i], 0f, "d relu at x = " + x[i]);
            }
        }
    }

    @Test
    void activationsAndSoftmax() {
        check(probe("relu-tanh-sigmoid", new int[] {6, 1, 1}, (n, x) -> n.sigmoid(n.tanh(n.relu(n.flatten(x))))));
        check(probe("softmax", new int[] {5, 1, 1}, (n, x) -> n.softmax(n.scale(n.flatten(x), 3))));
        check(probe("unary", new int[] {4, 1, 1}, (n, x) -> {
            GraphBuilder g = n.graph();
            Value positive = g.op(Op.ADD, Attributes.none(), g.op(Op.ABS, Attributes.none(), n.flatten(x)), g.scalar(0.5f));
            Value a = g.op(Op.SQRT, Attributes.none(), positive);
            Value b = g.op(Op.LOG, Attributes.none(), positive);
            Value c = g.op(Op.RECIPROCAL, Attributes.none(), positive);
            Value e = g.op(Op.EXP, Attributes.none(), g.op(Op.NEG, Attributes.none(), positive));
            Value p = g.op(Op.POW, Attributes.none(), positive, g.scalar(1.5f));
            Value s = g.op(Op.MUL, Attributes.none(), g.op(Op.SIGN, Attributes.none(), n.flatten(x)), positive);   // sign's gradient is 0
            return n.add(n.add(n.add(n.add(a, b), n.add(c, e)), p), s);
        }));
    }

    @Test
    void padSliceGatherReductions() {
        check(probe("pad", new int[] {2, 3, 3}, (n, x) -> n.zeroPad(n.tanh(x), 1)));
        check(probe("slice", new int[] {3, 5, 5}, (n, x) -> {
            GraphBuilder g = n.graph();
            return g.op(Op.SLICE, Attributes.none(), x, g.int64s(1, 1), g.int64s(3, -1), g.int64s(1, 3));
        }));
        check(probe("gather", new int[] {4, 2, 2}, (n, x) -> {
            GraphBuilder g = n.graph();
            return g.op(Op.GATHER, Attributes.of("axis", 1), x, g.constant(Tensor.int64s(3, 0, 3, 1, 2)));
        }));
        check(probe("reductions", new int[] {3, 2, 4}, (n, x) -> {
            GraphBuilder g = n.graph();
            Value s = g.op(Op.REDUCE_SUM, Attributes.of("keepdims", 0), x, g.int64s(3));
            Value m = g.op(Op.REDUCE_MEAN, Attributes.of("axes", new long[] {2}, "keepdims", 1), x);
            return g.op(Op.CONCAT, Attributes.of("axis", 1), n.flatten(m), n.flatten(s));
        }));
    }

    @Test
    void crossEntropyWithLabelSmoothingAndAuxiliaryHeads() {
        Net net = new Net("aux");
        Value x = net.input(4, 3, 3);
        Value f = net.flatten(net.relu(net.conv("trunk", x, Conv.of(4, 3).pad(1))));
        net.output(Net.LOGITS, net.dense("main", f, 5));
        net.auxiliaryOutput("aux1", net.dense("aux1", f, 5));
        net.auxiliaryOutput("aux2", net.dense("aux2", f, 5));
        List<String> checked = GradientCheck.of(net.build()).loss(Loss.crossEntropy().labelSmoothing(0.1)).batch(3).run();
        assertTrue(checked.containsAll(List.of("aux1.weight", "aux2.bias", "trunk.weight")), checked.toString());
    }

    @Test
    void lenet5TrainableSubsamplingPartialConnectionsAndRbfOutput() {
        // The whole published LeNet-5: S2/S4's coefficient and bias per map, C3's gathered maps, the RBF distances.
        Graph lenet5 = dev.cnnzoo.api.ModelZoo.load().build("lenet5").graph();
        // Its loss (squared RBF distances) is about 51, so differences need h = 1e-2 to resolve gradients
        // of 1e-3 in float32 (at h = 1e-3 the two losses of one element differed by 4 ulps where its gradient 0.0015 predicts 0.8).
        List<String> checked = GradientCheck.of(lenet5).samples(6).step(1e-2).run();
        assertTrue(checked.containsAll(List.of("s2.weight", "s2.bias", "c3.from4.weight", "s4.weight", "f6.weight", "input")), checked.toString());
    }

    @Test
    void seedsAreFiniteAndStatesUpdate() {
        // A graph with no trainable input dependency still yields zeros, not missing outputs.
        GraphBuilder g = new GraphBuilder("constant-head");
        Value x = g.input("input", DType.FLOAT, Shape.batched(2));
        Value w = g.parameter("w", Shape.of(3, 2), dev.cnnzoo.graph.Init.normal(1));
        g.output("logits", g.op(Op.GEMM, Attributes.of("transB", 1), x, w));
        TrainingGraph tg = TrainingGraph.build(g.build(), Loss.crossEntropy(), Set.of(), false);
        assertEquals(List.of("w"), tg.trainable());
        assertEquals("loss", tg.graph().outputs().get(0).name());
        assertEquals("w_grad", tg.graph().outputs().get(1).name());
    }
}
