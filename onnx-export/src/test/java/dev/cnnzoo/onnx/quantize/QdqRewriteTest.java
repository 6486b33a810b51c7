package dev.cnnzoo.onnx.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Lrn;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Pool;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.OnnxExporter;
import dev.cnnzoo.onnx.OnnxFiles;
import dev.cnnzoo.weights.Weights;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class QdqRewriteTest {
    /**
     * A small network with each quantized pattern: conv + batch norm + ReLU, max pooling, a
     * residual add followed by ReLU, a ReLU read twice, concat, average and global pooling, a
     * classifier.
     */
    static Graph residualNet() {
        Net net = new Net("small");
        Value x = net.input(3, 16, 16);
        Value stem = net.relu(net.batchNorm("stem_bn", net.conv("stem", x, Conv.of(8, 3).pad(1))));
        Value pooled = net.maxPool("pool", stem, Pool.of(2).stride(2));                         // 8×8×8
        Value branch = net.batchNorm("a_bn", net.conv("a", pooled, Conv.of(8, 3).pad(1)));
        Value sum = net.relu(net.add(branch, pooled));                                         // read twice below
        Value b = net.relu(net.conv("b", sum, Conv.of(4, 1)));
        Value merged = net.avgPool("avg", net.concat(sum, b), Pool.of(3).stride(1).pad(1).countIncludePad()); // 12×8×8
        Value features = net.flatten(net.globalAvgPool(merged));
        net.output(Net.LOGITS, net.dense("fc", features, 5));
        return net.build();
    }

    /** Seeded weights with batch-norm statistics far from the identity, so folding changes the weights. */
    static Weights weights(Graph g) {
        Weights w = Weights.initial(g, 3);
        SplittableRandom r = new SplittableRandom(5);
        for (String bn : List.of("stem_bn", "a_bn")) {
            int c = Math.toIntExact(w.get(bn + ".weight").elements());
            w = w.with(bn + ".weight", random(c, 0.5, 2, r)).with(bn + ".bias", random(c, -1, 1, r))
                    .with(bn + ".running_mean", random(c, -0.5, 0.5, r)).with(bn + ".running_var", random(c, 0.2, 3, r));
        }
        return w;
    }

    private static Tensor random(int n, double lo, double hi, SplittableRandom r) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return Tensor.of(Shape.of(n), a);
    }

    static ModelProto fp32() {
        Graph g = residualNet();
        return OnnxExporter.toProto(g, weights(g), ExportOptions.defaults());
    }

    /** Ranges as calibration would find them: from 0 for ReLU outputs, around 0 otherwise. */
    static Map<String, TensorRange> ranges(QdqRewrite plan) {
        Map<String, TensorRange> m = new LinkedHashMap<>();
        for (String t : plan.calibrationTensors()) {
            boolean relu = plan.fp32().getGraph().getNodeList().stream().anyMatch(n -> n.getOpType().equals("Relu") && n.getOutput(0).equals(t));
            m.put(t, relu ? new TensorRange(0, 6) : new TensorRange(-2.5f, 4));
        }
        return m;
    }

    private static Map<String, Long> ops(ModelProto m) {
        return m.getGraph().getNodeList().stream().collect(Collectors.groupingBy(NodeProto::getOpType, Collectors.counting()));
    }

    private static NodeProto producer(ModelProto m, String tensor) {
        return m.getGraph().getNodeList().stream().filter(n -> n.getOutputList().contains(tensor)).findFirst().orElse(null);
    }

    private static TensorProto initializer(ModelProto m, String name) {
        return m.getGraph().getInitializerList().stream().filter(t -> t.getName().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void batchNormsFoldIntoTheirConvolutionsExactly() {
        ModelProto source = fp32();
        QdqRewrite plan = QdqRewrite.plan(source, List.of());
        assertEquals(Map.of("batch norms folded into convolutions", 2, "average pools made depthwise convolutions", 1), plan.preparation());
        assertFalse(ops(plan.fp32()).containsKey("BatchNormalization"));
        // W' = W·γ/√(σ²+ε) per output channel, b' = (b − μ)·γ/√(σ²+ε) + β.
        Weights w = weights(residualNet());
        float[] gamma = w.get("stem_bn.weight").floats();
        float[] beta = w.get("stem_bn.bias").floats();
        float[] mean = w.get("stem_bn.running_mean").floats();
        float[] var = w.get("stem_bn.running_var").floats();
        float[] weight = w.get("stem.weight").floats();
        float[] bias = w.get("stem.bias").floats();
        NodeProto stem = plan.fp32().getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("Conv")).findFirst().orElseThrow();
        float[] folded = OnnxFiles.floats(initializer(plan.fp32(), stem.getInput(1)));
        float[] foldedBias = OnnxFiles.floats(initializer(plan.fp32(), stem.getInput(2)));
        int per = weight.length / 8;
        for (int c = 0; c < 8; c++) {
            double s = gamma[c] / Math.sqrt(var[c] + 1e-5);
            for (int i = 0; i < per; i++) {
                assertEquals(weight[c * per + i] * s, folded[c * per + i], 1e-6);
            }
            assertEquals((bias[c] - mean[c]) * s + beta[c], foldedBias[c], 1e-5);
        }
    }

    @Test
    void weightsAreSymmetricInt8PerOutputChannelAndBiasesInt32AtInputTimesWeightScale() {
        QdqRewrite plan = QdqRewrite.plan(fp32(), List.of());
        Map<String, TensorRange> ranges = ranges(plan);
        ModelProto q = plan.quantize(ranges, Map.of());
        int convs = 0;
        for (NodeProto n : q.getGraph().getNodeList()) {
            if (!n.getOpType().equals("Conv") && !n.getOpType().equals("Gemm")) {
                continue;
            }
            convs++;
            NodeProto x = producer(q, n.getInput(0));
            NodeProto w = producer(q, n.getInput(1));
            boolean hasBias = n.getInputCount() > 2;
            assertEquals(List.of("DequantizeLinear", "DequantizeLinear"), List.of(x.getOpType(), w.getOpType()),
                    n.getName() + " reads dequantized input and weight");
            TensorProto values = initializer(q, w.getInput(0));
            assertEquals(TensorProto.DataType.INT8_VALUE, values.getDataType());
            assertEquals(0, w.getAttribute(0).getI(), "per output channel: axis 0 (Conv, Gemm with transB)");
            float[] scales = OnnxFiles.floats(initializer(q, w.getInput(1)));
            long[] zeros = OnnxFiles.longs(initializer(q, w.getInput(2)));
            assertTrue(java.util.Arrays.stream(zeros).allMatch(z -> z == 0), "symmetric: zero point 0");
            // The float weight it stands for, from the folded float model.
            NodeProto floatNode = plan.fp32().getGraph().getNodeList().stream().filter(f -> f.getName().equals(n.getName())).findFirst().orElseThrow();
            float[] weight = OnnxFiles.floats(initializer(plan.fp32(), floatNode.getInput(1)));
            long[] q8 = OnnxFiles.longs(values);
            int per = weight.length / scales.length;
            for (int c = 0; c < scales.length; c++) {
                float max = 0;
                for (int i = 0; i < per; i++) {
                    max = Math.max(max, Math.abs(weight[c * per + i]));
                }
                assertEquals(max / 127, scales[c], 1e-7, "scale = max|w| / 127");
                for (int i = 0; i < per; i++) {
                    assertEquals((long) Math.rint(weight[c * per + i] / scales[c]), q8[c * per + i]);
                }
            }
            if (!hasBias) {
                // The average pool as a depthwise convolution: 1/9 everywhere, exactly 127 steps of 1/(9·127).
                assertTrue(java.util.Arrays.stream(q8).allMatch(v -> v == 127), n.getName());
                continue;
            }
            NodeProto b = producer(q, n.getInput(2));
            assertEquals("DequantizeLinear", b.getOpType(), n.getName() + " reads a dequantized bias");
            float[] bias = OnnxFiles.floats(initializer(plan.fp32(), floatNode.getInput(2)));
            TensorProto biasValues = initializer(q, b.getInput(0));
            assertEquals(TensorProto.DataType.INT32_VALUE, biasValues.getDataType());
            float inputScale = OnnxFiles.floats(initializer(q, x.getInput(1)))[0];
            float[] biasScales = OnnxFiles.floats(initializer(q, b.getInput(1)));
            long[] b32 = OnnxFiles.longs(biasValues);
            for (int c = 0; c < scales.length; c++) {
                assertEquals(inputScale * scales[c], biasScales[c], 1e-12);
                assertEquals(Math.rint(bias[c] / (inputScale * scales[c])), b32[c], 1.0);
            }
        }
        assertEquals(5, convs, "four convolutions (one the average pool) and the classifier");
    }

    @Test
    void reducedRangeWeightsStayWithinSevenBits() {
        QdqRewrite plan = QdqRewrite.plan(fp32(), List.of());
        ModelProto q = plan.quantize(ranges(plan), Map.of(), true);
        for (TensorProto t : q.getGraph().getInitializerList()) {
            if (t.getDataType() == TensorProto.DataType.INT8_VALUE && t.getName().endsWith("weight_quantized")) {
                long[] v = OnnxFiles.longs(t);
                assertEquals(63, java.util.Arrays.stream(v).map(Math::abs).max().orElseThrow(), t.getName() + " spans ±63");
            }
        }
    }

    @Test
    void reluFoldsIntoAZeroPointZeroQuantizationWhereNothingElseReadsItsInput() {
        QdqRewrite plan = QdqRewrite.plan(fp32(), List.of());
        ModelProto q = plan.quantize(ranges(plan), Map.of());
        // Every ReLU of this network follows a node that nothing else reads: all three fold.
        assertFalse(ops(q).containsKey("Relu"));
        for (NodeProto n : q.getGraph().getNodeList()) {
            if (n.getOpType().equals("QuantizeLinear") && !n.getInput(0).equals("input")) {
                NodeProto p = producer(q, n.getInput(0));
                boolean relu = plan.fp32().getGraph().getNodeList().stream()
                        .anyMatch(r -> r.getOpType().equals("Relu") && r.getOutput(0).equals(n.getInput(0)));
                if (relu) {
                    assertEquals(0, OnnxFiles.longs(initializer(q, n.getInput(2)))[0], "a folded ReLU's quantization starts at 0: " + n.getName());
                    assertTrue(List.of("Conv", "Add").contains(p.getOpType()));
                }
            }
        }
    }

    @Test
    void maxPoolAndFlattenRunOnUint8WithTheirInputsScale() {
        QdqRewrite plan = QdqRewrite.plan(fp32(), List.of());
        ModelProto q = plan.quantize(ranges(plan), Map.of());
        for (String op : List.of("MaxPool", "Flatten")) {
            NodeProto n = q.getGraph().getNodeList().stream().filter(x -> x.getOpType().equals(op)).findFirst().orElseThrow();
            NodeProto in = producer(q, n.getInput(0));
            assertEquals("QuantizeLinear", in.getOpType(), op + " reads the uint8 tensor itself");
            // Its readers dequantize with the same scale and zero point as its input.
            NodeProto reader = q.getGraph().getNodeList().stream().filter(x -> x.getInputCount() > 0 && x.getInput(0).equals(n.getOutput(0)))
                    .findFirst().orElseThrow();
            assertEquals("DequantizeLinear", reader.getOpType());
            assertEquals(in.getInput(1), reader.getInput(1));
            assertEquals(in.getInput(2), reader.getInput(2));
        }
        // The 3×3 average pool (padding counted) is a depthwise convolution by then: four Convs.
        assertEquals(Map.of("Add", 1, "Concat", 1, "Conv", 4, "Flatten", 1, "Gemm", 1, "GlobalAveragePool", 1, "MaxPool", 1),
                plan.quantizedOps());
        assertTrue(plan.fp32Nodes().isEmpty(), () -> "nothing of this network stays float: " + plan.fp32Nodes());
        // The classifier writes float logits (ONNX Runtime's QGemm with a float output): no QuantizeLinear after it.
        assertEquals("Gemm", producer(q, "logits").getOpType());
    }

    @Test
    void maxPoolsAfterAFloatLayerStayFloatAndReadTheFloatTensor() {
        // GoogLeNet's stem: conv, LRN (its formula's Pow and Div float), max pool, then two readers of the pool: a convolution and another pool.
        Net net = new Net("lrn-stem");
        Value x = net.input(3, 16, 16);
        Value c = net.relu(net.conv("conv", x, Conv.of(8, 3).pad(1)));
        Value pooled = net.maxPool("pool", net.lrn("norm", c, Lrn.ofRadius(2, 1e-4, 0.75, 1)), Pool.of(3).stride(2).pad(1));
        Value branch = net.maxPool("branch_pool", pooled, Pool.of(3).stride(1).pad(1));
        Value merged = net.concat(net.relu(net.conv("a", pooled, Conv.of(4, 1))), net.relu(net.conv("b", branch, Conv.of(4, 1))));
        net.output(Net.LOGITS, net.dense("fc", net.flatten(net.globalAvgPool(merged)), 3));
        Graph g = net.build();
        QdqRewrite plan = QdqRewrite.plan(OnnxExporter.toProto(g, Weights.initial(g, 1), ExportOptions.defaults()), List.of());
        assertEquals(List.of("norm/LRN/power", "norm/LRN/divide", "pool/MaxPool", "branch_pool/MaxPool"),
                plan.fp32Nodes().stream().map(QdqRewrite.Fp32Node::name).toList());
        assertTrue(plan.fp32Nodes().get(2).reason().startsWith("its input comes from a float layer"), plan.fp32Nodes().get(2).reason());
        ModelProto q = plan.quantize(ranges(plan), Map.of());
        NodeProto pool = q.getGraph().getNodeList().stream().filter(n -> n.getName().equals("pool/MaxPool")).findFirst().orElseThrow();
        NodeProto branchPool = q.getGraph().getNodeList().stream().filter(n -> n.getName().equals("branch_pool/MaxPool")).findFirst().orElseThrow();
        assertEquals("Div", producer(q, pool.getInput(0)).getOpType(), "the pool reads the LRN's float output");
        assertEquals("pool/MaxPool", producer(q, branchPool.getInput(0)).getName(), "the second pool reads the first's float output");
        // So the first pool's output has two readers, its QuantizeLinear and the second pool: ONNX Runtime's QDQ
        // propagation, which moves a QuantizeLinear up through a max pool whose output it alone reads, leaves it.
        long readers = q.getGraph().getNodeList().stream().filter(n -> n.getInputList().contains(pool.getOutput(0))).count();
        assertEquals(2, readers);
    }

    @Test
    void eachReaderOfAQuantizedTensorHasItsOwnDequantizeLinear() {
        QdqRewrite plan = QdqRewrite.plan(fp32(), List.of());
        ModelProto q = plan.quantize(ranges(plan), Map.of());
        Map<String, Integer> readers = new HashMap<>();
        q.getGraph().getNodeList().forEach(n -> n.getInputList().forEach(i -> readers.merge(i, 1, Integer::sum)));
        for (NodeProto n : q.getGraph().getNodeList()) {
            if (n.getOpType().equals("DequantizeLinear")) {
                assertEquals(1, readers.getOrDefault(n.getOutput(0), 0), "ONNX Runtime fuses a DequantizeLinear with its only reader: " + n.getName());
            }
        }
    }

    @Test
    void layersKeptInFloatStayFloatAndAnUnknownLayerIsNamed() {
        QdqRewrite plan = QdqRewrite.plan(fp32(), List.of("fc"));
        assertEquals(List.of("fc/Gemm"), plan.fp32Nodes().stream().map(QdqRewrite.Fp32Node::name).toList());
        ModelProto q = plan.quantize(ranges(plan), Map.of());
        NodeProto fc = producer(q, "logits");
        assertEquals("fc.weight", fc.getInput(1), "the kept layer keeps its float weight");
        ZooException e = assertThrows(ZooException.class, () -> QdqRewrite.plan(fp32(), List.of("fc9")));
        assertTrue(e.getMessage().contains("no layer of the model is named fc9"), e.getMessage());
    }

    @Test
    void unknownOperatorsStayFloatWithANote() {
        ModelProto source = fp32();
        ModelProto.Builder b = source.toBuilder();
        // HardSwish (opset 14) stands for an operator the quantizer has never heard of.
        b.setOpsetImport(0, OperatorSetIdProto.newBuilder().setDomain("").setVersion(17));
        for (NodeProto.Builder n : b.getGraphBuilder().getNodeBuilderList()) {
            if (n.getOpType().equals("Relu") && n.getName().startsWith("b/")) {
                n.setOpType("HardSwish");
            }
        }
        QdqRewrite plan = QdqRewrite.plan(b.build(), List.of());
        List<QdqRewrite.Fp32Node> unknown = plan.fp32Nodes().stream().filter(QdqRewrite.Fp32Node::unknown).toList();
        assertEquals(1, unknown.size());
        assertEquals("HardSwish", unknown.get(0).op());
        assertTrue(unknown.get(0).reason().contains("does not know HardSwish"), unknown.get(0).reason());
        ModelProto q = plan.quantize(ranges(plan), Map.of());
        NodeProto hs = q.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("HardSwish")).findFirst().orElseThrow();
        assertEquals("DequantizeLinear", producer(q, hs.getInput(0)).getOpType(), "it reads the float value of a quantized tensor");
        assertEquals(4, ops(q).get("Conv").intValue(), "everything around it is still quantized");
    }

    @Test
    void aQuantizedModelAnOldOpsetAndHalfPrecisionAreRefused() {
        QdqRewrite plan = QdqRewrite.plan(fp32(), List.of());
        ModelProto q = plan.quantize(ranges(plan), Map.of(QdqRewrite.METADATA_KEY, "{}"));
        ZooException again = assertThrows(ZooException.class, () -> QdqRewrite.plan(q, List.of()));
        assertTrue(again.getMessage().startsWith("the model is quantized already (it has "), again.getMessage());
        assertTrue(again.getMessage().contains("QuantizeLinear"), again.getMessage());

        ModelProto old = fp32().toBuilder().setOpsetImport(0, OperatorSetIdProto.newBuilder().setDomain("").setVersion(12)).build();
        ZooException opset = assertThrows(ZooException.class, () -> QdqRewrite.plan(old, List.of()));
        assertTrue(opset.getMessage().contains("opset 12") && opset.getMessage().contains("opset 13 or later"), opset.getMessage());

        ModelProto.Builder half = fp32().toBuilder();
        half.getGraphBuilder().getInitializerBuilder(0).setDataType(TensorProto.DataType.FLOAT16_VALUE);
        ZooException fp16 = assertThrows(ZooException.class, () -> QdqRewrite.plan(half.build(), List.of()));
        assertTrue(fp16.getMessage().contains("FLOAT16") && fp16.getMessage().contains("FP32 models"), fp16.getMessage());
    }

    @Test
    void uint8ParametersCoverTheRangeAndZero() {
        QuantParams p = new TensorRange(-1, 3).uint8();
        assertEquals(4f / 255, p.scale(), 1e-9);
        assertEquals(64, p.zeroPoint());
        assertEquals(0, p.dequantize(p.quantizeUint8(0)), 0, "zero is exact");
        QuantParams positive = new TensorRange(0.5f, 2).uint8();
        assertEquals(0, positive.zeroPoint(), "a range above 0 is widened down to it");
        assertEquals(255, positive.quantizeUint8(2));
        assertEquals(new QuantParams(1, 0), new TensorRange(0, 0).uint8(), "a constant zero tensor gets any valid scale");
        assertArrayEquals(new int[] {0, 255}, new int[] {p.quantizeUint8(-5), p.quantizeUint8(9)}, "saturates");
    }
}
