package dev.cnnzoo.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.OnnxExporter;
import dev.cnnzoo.testkit.EveryLayer;
import dev.cnnzoo.testkit.TestTensors;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InferenceSessionTest {
    @TempDir
    Path dir;

    private final Graph graph = EveryLayer.build();
    private final Weights weights = Weights.initial(graph, 3);

    private static Map<String, Tensor> feeds(int batch) {
        return Map.of(
                "input", TestTensors.uniform(Shape.of(batch, 3, 16, 16), 1),
                "sequence", TestTensors.uniform(Shape.of(batch, 2, 20), 2),
                "volume", TestTensors.uniform(Shape.of(batch, 2, 6, 8, 8), 3));
    }

    private Map<String, Tensor> run(ExportOptions options, int batch) {
        try (InferenceSession s = InferenceSession.open(OnnxExporter.toBytes(graph, weights, options), RuntimeOptions.cpu(1))) {
            return s.run(feeds(batch));
        }
    }

    @Test
    void everyLayerRunsWithTheInferredShapes() {
        Map<String, Tensor> out = run(ExportOptions.defaults(), 3);
        assertArrayEquals(new int[] {3, 5}, out.get("logits").shape().dims());
        assertArrayEquals(new int[] {3, 3, 10}, out.get("seq_out").shape().dims());
        assertArrayEquals(new int[] {3, 2, 3, 4, 4}, out.get("vol_out").shape().dims());
    }

    @Test
    void everyOpsetInTheRangeGivesTheSameOutputs() {
        Map<String, Tensor> reference = run(ExportOptions.defaults(), 2);
        for (int opset = OnnxExporter.MIN_OPSET; opset <= OnnxExporter.MAX_OPSET; opset++) {
            Map<String, Tensor> out = run(ExportOptions.defaults().opset(opset), 2);
            for (String name : reference.keySet()) {
                assertArrayEquals(reference.get(name).floats(), out.get(name).floats(), 1e-6f, name + " at opset " + opset);
            }
        }
    }

    @Test
    void batchRowsAreIndependent() {
        // Batch 1 and batch 3 from the same file agree on the rows they share (inference form: no dropout).
        Tensor one = run(ExportOptions.defaults(), 1).get("logits");
        Tensor three = run(ExportOptions.defaults(), 3).get("logits");
        float[] firstRow = java.util.Arrays.copyOf(three.floats(), 5);
        assertArrayEquals(one.floats(), firstRow, 1e-5f);
    }

    @Test
    void externalDataLoadsAndMatches() throws IOException {
        Path file = dir.resolve("m.onnx");
        OnnxExporter.write(graph, weights, file, ExportOptions.defaults().externalDataThreshold(1000));
        assertTrue(Files.exists(dir.resolve("m.onnx.data")));
        try (InferenceSession s = InferenceSession.open(file, RuntimeOptions.cpu(1))) {
            assertArrayEquals(run(ExportOptions.defaults(), 2).get("logits").floats(), s.run(feeds(2)).get("logits").floats(), 0f);
        }
    }

    @Test
    void badInputsAreNamed() throws IOException {
        try (InferenceSession s = InferenceSession.open(OnnxExporter.toBytes(graph, weights, ExportOptions.defaults()), RuntimeOptions.cpu(1))) {
            Map<String, Tensor> wrong = new java.util.HashMap<>(feeds(1));
            wrong.put("input", Tensor.zeros(Shape.of(1, 3, 17, 16)));
            assertEquals("input 'input' has shape 1×3×17×16 but the model expects FLOAT N×3×16×16",
                    assertThrows(ZooException.class, () -> s.run(wrong)).getMessage());
            Map<String, Tensor> missing = new java.util.HashMap<>(feeds(1));
            missing.remove("volume");
            assertTrue(assertThrows(ZooException.class, () -> s.run(missing)).getMessage().startsWith("no value given for the model's input 'volume'"));
            Map<String, Tensor> extra = new java.util.HashMap<>(feeds(1));
            extra.put("labels", Tensor.zeros(Shape.of(1)));
            assertTrue(assertThrows(ZooException.class, () -> s.run(extra)).getMessage().contains("no input named 'labels'"));
        }
        assertTrue(assertThrows(ZooException.class, () -> InferenceSession.open(dir.resolve("absent.onnx"), RuntimeOptions.cpu()))
                .getMessage().contains("does not exist"));
        Path garbage = dir.resolve("garbage.onnx");
        Files.writeString(garbage, "this is not a model");
        assertTrue(assertThrows(ZooException.class, () -> InferenceSession.open(garbage, RuntimeOptions.cpu()))
                .getMessage().startsWith("ONNX Runtime cannot load " + garbage));
    }

    @Test
    void cudaWithoutTheCudaBuildSaysHowToGetIt() {
        if (Devices.cudaAvailable()) {
            return; // the -Pcuda build on a GPU machine: nothing to fall back from
        }
        byte[] model = OnnxExporter.toBytes(graph, weights, ExportOptions.defaults());
        ZooException e = assertThrows(ZooException.class,
                () -> InferenceSession.open(model, RuntimeOptions.cpu().device(Device.CUDA)));
        assertTrue(e.getMessage().contains("-Pcuda") && e.getMessage().contains("run on the CPU"), e.getMessage());
        assertEquals(Device.CUDA, Device.parse("CUDA"));
        assertFalse(assertThrows(ZooException.class, () -> Device.parse("tpu")).getMessage().isEmpty());
    }
}
