package dev.cnnzoo.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Attributes;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.testkit.Conformance;
import dev.cnnzoo.testkit.EveryLayer;
import dev.cnnzoo.testkit.OnnxChecker;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxExporterTest {
    @TempDir
    Path dir;

    private final Graph graph = EveryLayer.build();
    private final Weights weights = Weights.initial(graph, 1);

    @Test
    void batchIsDynamicAndOpsetAndMetadataAreRecorded() {
        ModelProto m = OnnxExporter.toProto(graph, weights, ExportOptions.defaults().metadata(Map.of("zoo.id", "every-layer")));
        assertEquals(17, m.getOpsetImport(0).getVersion());
        assertEquals(8, m.getIrVersion());
        var input = m.getGraph().getInput(0);
        assertEquals("input", input.getName());
        assertEquals("N", input.getType().getTensorType().getShape().getDim(0).getDimParam());
        assertEquals(3, input.getType().getTensorType().getShape().getDim(1).getDimValue());
        assertEquals("every-layer", OnnxExporter.metadata(m).get("zoo.id"));
        // Weights are initializers, not inputs, in the inference form.
        assertEquals(3, m.getGraph().getInputCount());
        assertTrue(m.getGraph().getInitializerList().stream().anyMatch(t -> t.getName().equals("bn.running_var")));
    }

    @Test
    void inferenceFormDropsDropoutAndAuxiliaryOutputs() {
        ModelProto m = OnnxExporter.toProto(graph, weights, ExportOptions.defaults());
        assertFalse(ops(m).contains("Dropout"));
        assertEquals(List.of("logits", "seq_out", "vol_out"), m.getGraph().getOutputList().stream().map(o -> o.getName()).toList());
        assertFalse(m.getGraph().getInitializerList().stream().anyMatch(t -> t.getName().startsWith("aux_fc")),
                "the auxiliary head's weights are pruned with it");

        ModelProto withAux = OnnxExporter.toProto(graph, weights, ExportOptions.defaults().auxiliary(true));
        assertEquals(4, withAux.getGraph().getOutputCount());
        ModelProto training = OnnxExporter.toProto(graph, weights, ExportOptions.defaults().asBuilt());
        assertTrue(ops(training).contains("Dropout"));
    }

    @Test
    void weightsAsInputsForTrainingGraphs() {
        ModelProto m = OnnxExporter.toProto(graph, null, ExportOptions.defaults().asBuilt().weightsAsInputs(true));
        assertTrue(m.getGraph().getInputList().stream().anyMatch(i -> i.getName().equals("conv_same.weight")));
        assertTrue(m.getGraph().getInitializerList().stream().noneMatch(t -> t.getName().equals("conv_same.weight")));
    }

    @Test
    void opsetRangeIsEnforced() {
        assertThrows(ZooException.class, () -> OnnxExporter.toProto(graph, weights, ExportOptions.defaults().opset(12)));
        assertThrows(ZooException.class, () -> OnnxExporter.toProto(graph, weights, ExportOptions.defaults().opset(22)));
        assertEquals(10, OnnxExporter.toProto(graph, weights, ExportOptions.defaults().opset(21)).getIrVersion());
    }

    @Test
    void reduceAxesBecomeAnInputFromOpset18() {
        Net net = new Net("reduce");
        Value x = net.input(3, 4, 4);
        net.output("out", net.graph().op(Op.REDUCE_MEAN, Attributes.of("axes", new long[] {2, 3}, "keepdims", 0), x));
        Graph g = net.build();
        NodeProto at17 = OnnxExporter.toProto(g, Weights.initial(g, 0), ExportOptions.defaults()).getGraph().getNode(0);
        assertEquals(1, at17.getInputCount());
        assertEquals("axes", at17.getAttribute(0).getName());
        NodeProto at18 = OnnxExporter.toProto(g, Weights.initial(g, 0), ExportOptions.defaults().opset(18)).getGraph().getNode(0);
        assertEquals(2, at18.getInputCount());
        assertTrue(at18.getAttributeList().stream().noneMatch(a -> a.getName().equals("axes")));
    }

    @Test
    void largeWeightsGoToExternalData() throws IOException {
        Path file = dir.resolve("every.onnx");
        List<Path> written = OnnxExporter.write(graph, weights, file, ExportOptions.defaults().externalDataThreshold(1000));
        assertEquals(List.of(file, dir.resolve("every.onnx.data")), written);
        ModelProto m = ModelProto.parseFrom(Files.readAllBytes(file));
        long external = m.getGraph().getInitializerList().stream()
                .filter(t -> t.getDataLocation() == TensorProto.DataLocation.EXTERNAL).count();
        assertTrue(external > 0);
        long bytes = m.getGraph().getInitializerList().stream()
                .filter(t -> t.getDataLocation() == TensorProto.DataLocation.EXTERNAL)
                .mapToLong(t -> Long.parseLong(t.getExternalDataList().stream().filter(e -> e.getKey().equals("length")).findFirst().orElseThrow().getValue()))
                .sum();
        assertEquals(bytes, Files.size(dir.resolve("every.onnx.data")));
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary files left");
        }
    }

    @Test
    void missingWeightsAreNamed() {
        Weights partial = Weights.of(Map.of());
        String msg = assertThrows(ZooException.class, () -> OnnxExporter.toProto(graph, partial, ExportOptions.defaults())).getMessage();
        assertTrue(msg.contains("conv_same.weight"), msg);
    }

    @Conformance
    @Test
    void everyLayerPassesTheFullCheckerAtOpsets13And17AndWithExternalData() throws IOException {
        Path at13 = dir.resolve("at13.onnx");
        Path at17 = dir.resolve("at17.onnx");
        Path ext = dir.resolve("ext.onnx");
        Path training = dir.resolve("training.onnx");
        OnnxExporter.write(graph, weights, at13, ExportOptions.defaults().opset(13));
        OnnxExporter.write(graph, weights, at17, ExportOptions.defaults());
        OnnxExporter.write(graph, weights, ext, ExportOptions.defaults().externalDataThreshold(1000));
        OnnxExporter.write(graph, weights, training, ExportOptions.defaults().asBuilt());
        OnnxChecker.fullCheck(at13, at17, ext, training);
    }

    private static List<String> ops(ModelProto m) {
        return m.getGraph().getNodeList().stream().map(NodeProto::getOpType).toList();
    }
}
