package dev.cnnzoo.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.OnnxFiles;
import dev.cnnzoo.onnx.ZooMetadata;
import dev.cnnzoo.onnx.quantize.QdqRewrite;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.OptimizedGraph;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.testkit.Conformance;
import dev.cnnzoo.testkit.Python;
import dev.cnnzoo.training.data.BatchLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Float ONNX files the zoo did not write: no metadata, PyTorch's graph idioms, operators the quantizer does not know. */
class ForeignModelTest {
    @TempDir
    Path dir;

    private static final RuntimeOptions CPU = RuntimeOptions.cpu(2);

    /** The int8 and float logits of {@code COMPARED} images like the calibration images. */
    private static double relativeError(FloatModel fp32, Path int8) {
        int n = EveryModelQuantizesTest.COMPARED;
        Tensor images;
        try (BatchLoader loader = CalibrationData.of(new SmoothImages(n, fp32.channels(), fp32.height(), fp32.width(), 2), fp32, n, 0)
                .loader(n)) {
            images = loader.evaluation().next().images();
        }
        try (InferenceSession f = InferenceSession.open(fp32.proto().toByteArray(), CPU); InferenceSession q = InferenceSession.open(int8, CPU)) {
            return EveryModelQuantizesTest.relativeError(f.run(images).floats(), q.run(images).floats(), n);
        }
    }

    private static QuantizedModel quantize(FloatModel fp32, int samples) {
        CalibrationData data = CalibrationData.of(new SmoothImages(samples, fp32.channels(), fp32.height(), fp32.width(), 1), fp32, samples, 0);
        return Quantizer.quantize(fp32, data, Quantizer.Options.defaults().runtime(CPU), Calibrator.Progress.NONE);
    }

    @Test
    void anUnknownOperatorStaysFloatAndTheRestIsQuantized() throws IOException {
        ModelZoo zoo = ModelZoo.load();
        Model model = zoo.build("fashion-cnn");
        ModelProto zooFile = FloatModel.of(model, zoo.pretrained("fashion-cnn").bind(model.graph()), ExportOptions.defaults()).proto();
        // As another tool might write it: no metadata, no node names, and an activation the quantizer has never heard of.
        ModelProto.Builder b = zooFile.toBuilder().clearMetadataProps();
        for (NodeProto.Builder n : b.getGraphBuilder().getNodeBuilderList()) {
            if (n.getName().equals("conv3/Relu")) {
                n.setOpType("HardSwish");
            }
            n.clearName();
        }
        FloatModel foreign = FloatModel.of(b.build(), model.info().preprocessing(), "foreign.onnx");
        QuantizedModel q = quantize(foreign, 64);
        List<QdqRewrite.Fp32Node> unknown = q.report().unknownOps();
        assertEquals(1, unknown.size(), q.report().fp32Nodes().toString());
        assertEquals("HardSwish", unknown.get(0).op());
        // The max pool after it reads its float output (a max pool after a float layer stays float); all else is integer.
        assertEquals(Map.of("Conv", 5, "Flatten", 1, "Gemm", 3, "MaxPool", 2), q.report().quantizedOps());
        assertEquals(List.of("HardSwish", "MaxPool"), q.report().fp32Nodes().stream().map(QdqRewrite.Fp32Node::op).toList());
        Path file = dir.resolve("foreign-int8.onnx");
        q.write(file);
        // What eval and predict need is recorded even though the source had none.
        ZooMetadata meta = ZooMetadata.of(OnnxFiles.read(file));
        assertEquals(model.info().preprocessing(), meta.preprocessing().orElseThrow());
        assertEquals(List.of(1, 28, 28), java.util.Arrays.stream(meta.input().orElseThrow()).boxed().toList());
        assertEquals(5, OptimizedGraph.of(file, CPU).count("QLinearConv"));
        double error = relativeError(foreign, file);
        assertTrue(error < 0.1, "relative error " + error);
    }

    @Test
    @Conformance
    void torchvisionExportsQuantizeAndFuse() {
        Python.runResource(ForeignModelTest.class, "torchvision_exports.py", dir.toString());
        for (String name : List.of("resnet18", "googlenet")) {
            Path source = dir.resolve(name + ".onnx");
            FloatModel fp32 = FloatModel.read(source, FloatModel.Recipe.IMAGENET);
            assertEquals(List.of(3, 224, 224), List.of(fp32.channels(), fp32.height(), fp32.width()));
            QuantizedModel q = quantize(fp32, EveryModelQuantizesTest.CALIBRATION);
            assertTrue(q.report().fp32Nodes().isEmpty(), name + ": " + q.report().fp32Nodes());
            assertTrue(q.report().preparation().containsKey("Identity copies of initializers read through"), q.report().preparation().toString());
            Path file = dir.resolve(name + "-int8.onnx");
            try {
                q.write(file);
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            Map<String, Integer> ops = OptimizedGraph.of(file, CPU).opCounts();
            assertEquals(q.report().quantizedOps().get("Conv"), ops.get("QLinearConv"), name + ": " + ops);
            assertEquals(1, ops.getOrDefault("QuantizeLinear", 0) + ops.getOrDefault("DequantizeLinear", 0),
                    name + ": only the input's QuantizeLinear runs alone: " + ops);
            double error = relativeError(fp32, file);
            assertTrue(error < 0.15, name + ": relative error " + error);
        }
        assertTrue(Files.exists(dir.resolve("googlenet-int8.onnx")));
    }
}
