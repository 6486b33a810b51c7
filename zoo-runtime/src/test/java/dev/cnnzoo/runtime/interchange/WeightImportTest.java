package dev.cnnzoo.runtime.interchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.Paper;
import dev.cnnzoo.api.Preprocessing;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.OnnxExporter;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.testkit.Close;
import dev.cnnzoo.testkit.TestTensors;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WeightImportTest {
    @TempDir
    Path dir;

    static final ModelInfo INFO = ModelInfo.builder("tiny").family("test").description("a conv-bn-relu and two dense layers")
            .paper(new Paper("nobody", "none", 2024, "none", null, null)).input(3, 8, 8).classes(4)
            .preprocessing(Preprocessing.imagenet(8, 8)).build();

    /** conv1 (no bias) → bn1 → relu → flatten → classifier.0 → relu → fc: torchvision-style names. */
    private static Model model(boolean foldedForm, int classes) {
        Net net = new Net("tiny");
        Value x = net.input(3, 8, 8);
        if (foldedForm) {
            x = net.conv("conv1", x, Conv.of(5, 3).pad(1));
        } else {
            x = net.batchNorm("bn1", net.conv("conv1", x, Conv.of(5, 3).pad(1).noBias()));
        }
        x = net.relu(x);
        x = net.relu(net.dense("classifier.0", net.flatten(x), 6));
        net.output("logits", net.dense("fc", x, classes));
        Graph g = net.build();
        return new Model(INFO, ModelConfig.builder().classes(classes).build().resolve(INFO), g);
    }

    /** Seeded weights with batch-norm statistics away from their initial values. */
    private static Weights randomised(Model m) {
        Weights w = Weights.initial(m.graph(), 11);
        SplittableRandom r = new SplittableRandom(3);
        for (String name : List.of("bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var")) {
            if (w.contains(name)) {
                float[] a = new float[5];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) (name.endsWith("var") || name.endsWith("weight") ? 0.5 + r.nextDouble() : r.nextDouble() - 0.5);
                }
                w = w.with(name, Tensor.of(Shape.of(5), a));
            }
        }
        return w;
    }

    private static float[] run(Model m, Weights w, Tensor input) {
        try (InferenceSession s = InferenceSession.open(OnnxExporter.toBytes(m.graph(), w, ExportOptions.defaults()), RuntimeOptions.cpu(1))) {
            return s.run(input).floats();
        }
    }

    @Test
    void theZoosOwnExportMapsBackByName() throws IOException {
        Model m = model(false, 4);
        Weights w = randomised(m);
        Path file = dir.resolve("tiny.onnx");
        OnnxExporter.write(m.graph(), w, file, ExportOptions.defaults());
        WeightImport.Report r = WeightImport.from(file, m, false);
        assertTrue(r.weights().bitEquals(w.bind(m.graph())));
        assertEquals(m.graph().parameters().size(), r.count(WeightImport.How.NAME));
        assertTrue(r.unused().isEmpty() && r.kept().isEmpty());
    }

    @Test
    void aFoldedBatchNormIsRestoredSoTheLogitsMatch() throws IOException {
        // What torch.onnx.export does in eval mode: W' = W·γ/√(σ²+ε), b' = β − μ·γ/√(σ²+ε).
        Model withBn = model(false, 4);
        Weights w = randomised(withBn);
        Model folded = model(true, 4);
        float[] wt = w.get("conv1.weight").floats().clone();
        float[] bias = new float[5];
        int per = wt.length / 5;
        for (int c = 0; c < 5; c++) {
            double k = w.get("bn1.weight").floats()[c] / Math.sqrt(w.get("bn1.running_var").floats()[c] + 1e-5);
            for (int i = 0; i < per; i++) {
                wt[c * per + i] = (float) (wt[c * per + i] * k);
            }
            bias[c] = (float) (w.get("bn1.bias").floats()[c] - w.get("bn1.running_mean").floats()[c] * k);
        }
        Map<String, Tensor> f = new LinkedHashMap<>(Weights.initial(folded.graph(), 0).asMap());
        f.put("conv1.weight", Tensor.of(w.get("conv1.weight").shape(), wt));
        f.put("conv1.bias", Tensor.of(Shape.of(5), bias));
        for (String n : List.of("classifier.0.weight", "classifier.0.bias", "fc.weight", "fc.bias")) {
            f.put(n, w.get(n));
        }
        Path file = dir.resolve("folded.onnx");
        OnnxExporter.write(folded.graph(), Weights.of(f), file, ExportOptions.defaults());

        WeightImport.Report r = WeightImport.from(file, withBn, false);
        assertEquals(4, r.count(WeightImport.How.FOLDED));
        assertEquals("conv1.bias", r.sources().get("bn1.bias"));
        assertTrue(r.unused().isEmpty(), r.unused().toString());
        Tensor input = TestTensors.images(2, 3, 8, 8, 5);
        Close.assertRelative("folded file vs restored batch norm", run(folded, Weights.of(f), input), run(withBn, r.weights(), input), 1e-5);
        Close.assertRelative("restored vs the original batch norm", run(withBn, w, input), run(withBn, r.weights(), input), 1e-5);
    }

    /** conv1 → bn1 → relu → conv2 → bn2 → relu → flatten → fc, every convolution with a bias (VGG-BN's form). */
    private static Model vggBn(boolean folded) {
        Net net = new Net("tinyvgg");
        Value x = net.input(3, 6, 6);
        for (String i : List.of("1", "2")) {
            x = net.conv("conv" + i, x, Conv.of(4, 3).pad(1));
            if (!folded) {
                x = net.batchNorm("bn" + i, x);
            }
            x = net.relu(x);
        }
        net.output("logits", net.dense("fc", net.flatten(x), 3));
        return new Model(INFO, ModelConfig.builder().classes(3).input(3, 6, 6).build().resolve(INFO), net.build());
    }

    @Test
    void aPyTorchStyleFoldedExportWithRenamedAndSharedTensorsImports() throws IOException {
        // What torch.onnx.export writes for VGG-BN in eval mode: batch norms folded into convolutions that
        // keep a bias, weights renamed onnx::Conv_N, nodes named by module path, and equal tensors shared
        // through Identity nodes (here conv2's bias is conv1's).
        Model withBn = vggBn(false);
        Weights w = randomisedBn(withBn);
        Map<String, Tensor> f = new LinkedHashMap<>();
        for (String i : List.of("1", "2")) {
            float[] wt = w.get("conv" + i + ".weight").floats().clone();
            float[] b = new float[4];
            int per = wt.length / 4;
            for (int c = 0; c < 4; c++) {
                double k = w.get("bn" + i + ".weight").floats()[c] / Math.sqrt(w.get("bn" + i + ".running_var").floats()[c] + 1e-5);
                for (int j = 0; j < per; j++) {
                    wt[c * per + j] = (float) (wt[c * per + j] * k);
                }
                b[c] = (float) ((w.get("conv" + i + ".bias").floats()[c] - w.get("bn" + i + ".running_mean").floats()[c]) * k
                        + w.get("bn" + i + ".bias").floats()[c]);
            }
            f.put("conv" + i + ".weight", Tensor.of(w.get("conv" + i + ".weight").shape(), wt));
            f.put("conv" + i + ".bias", Tensor.of(Shape.of(4), b));
        }
        f.put("conv2.bias", f.get("conv1.bias"));
        f.put("fc.weight", w.get("fc.weight"));
        f.put("fc.bias", w.get("fc.bias"));
        Model folded = vggBn(true);
        ai.onnx.proto.OnnxMl.ModelProto proto = OnnxExporter.toProto(folded.graph(), Weights.of(f), ExportOptions.defaults());
        Map<String, String> renamed = Map.of("conv1.weight", "onnx::Conv_10", "conv1.bias", "onnx::Conv_11", "conv2.weight", "onnx::Conv_12");
        var g = proto.getGraph().toBuilder();
        g.clearInitializer();
        for (var t : proto.getGraph().getInitializerList()) {
            if (!t.getName().equals("conv2.bias")) {
                g.addInitializer(t.toBuilder().setName(renamed.getOrDefault(t.getName(), t.getName())));
            }
        }
        g.clearNode();
        g.addNode(ai.onnx.proto.OnnxMl.NodeProto.newBuilder().setName("Identity_0").setOpType("Identity").addInput("onnx::Conv_11")
                .addOutput("onnx::Conv_13"));
        for (var n : proto.getGraph().getNodeList()) {
            var b = n.toBuilder();
            for (int i = 0; i < b.getInputCount(); i++) {
                String in = b.getInput(i);
                b.setInput(i, in.equals("conv2.bias") ? "onnx::Conv_13" : renamed.getOrDefault(in, in));
            }
            String layer = n.getName().substring(0, n.getName().indexOf('/'));
            b.setName("/" + layer + "/" + n.getOpType());                // PyTorch's module-path names
            g.addNode(b);
        }
        Path file = dir.resolve("torch-style.onnx");
        Files.write(file, proto.toBuilder().setGraph(g).build().toByteArray());

        WeightImport.Report r = WeightImport.from(file, withBn, false);
        assertEquals(WeightImport.How.NODE, r.how().get("conv2.weight"));
        assertEquals("onnx::Conv_11", r.sources().get("conv2.bias"), "the shared tensor serves both convolutions");
        assertEquals(8, r.count(WeightImport.How.FOLDED));
        Tensor input = TestTensors.images(2, 3, 6, 6, 9);
        Close.assertRelative("torch-style folded file vs imported", run(folded, Weights.of(f), input), run(withBn, r.weights(), input), 1e-5);
    }

    /** Seeded weights with every batch norm's statistics and affine parameters away from their initial values. */
    private static Weights randomisedBn(Model m) {
        Weights w = Weights.initial(m.graph(), 5);
        SplittableRandom r = new SplittableRandom(8);
        for (String name : w.names()) {
            if (name.startsWith("bn") || name.endsWith(".bias")) {
                Tensor t = w.get(name);
                float[] a = new float[(int) t.elements()];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) (name.endsWith("var") || name.endsWith("weight") ? 0.5 + r.nextDouble() : r.nextDouble() - 0.5);
                }
                w = w.with(name, Tensor.of(t.shape(), a));
            }
        }
        return w;
    }

    @Test
    void timmHeadsWrappersAndConvolutionalClassifiersMap() throws IOException {
        Model m = model(false, 4);
        Weights w = randomised(m);
        Map<String, Tensor> timm = new LinkedHashMap<>();
        w.asMap().forEach((name, t) -> {
            if (name.startsWith("classifier.0.weight")) {
                timm.put("module.pre_logits.fc1.weight", t.reshape(Shape.of(6, 5, 8, 8)));   // timm's ConvMlp: a convolution over the whole map
            } else if (name.startsWith("classifier.0.")) {
                timm.put("module.pre_logits.fc1.bias", t);
            } else if (name.startsWith("fc.")) {
                timm.put("module.head." + name, t);
            } else {
                timm.put("module." + name, t);
            }
        });
        timm.put("module.bn1.num_batches_tracked", Tensor.ofLongs(Shape.scalar(), new long[] {100}));
        Path file = dir.resolve("timm.safetensors");
        Safetensors.write(file, Weights.of(timm), Map.of());
        WeightImport.Report r = WeightImport.from(file, m, false);
        assertTrue(r.weights().bitEquals(w.bind(m.graph())));
        assertEquals(1, r.counters());
        assertEquals("module.head.fc.weight", r.sources().get("fc.weight"));
    }

    @Test
    void aShapeMismatchNamesTheTensorAndPartialKeepsInitialValues() throws IOException {
        Model ten = model(false, 10);
        Path file = dir.resolve("ten.onnx");
        OnnxExporter.write(ten.graph(), randomised(ten), file, ExportOptions.defaults());
        Model four = model(false, 4);
        ZooException e = assertThrows(ZooException.class, () -> WeightImport.from(file, four, false));
        assertEquals("tensor 'fc.weight' is 10×6 in ten.onnx but tiny's 'fc.weight' is 4×6 (a partial import keeps fc.weight's initial value)",
                e.getMessage());
        WeightImport.Report r = WeightImport.from(file, four, true);
        assertEquals(List.of("fc.weight (10×6 in ten.onnx as 'fc.weight', 4×6 in tiny)", "fc.bias (10 in ten.onnx as 'fc.bias', 4 in tiny)"),
                r.kept());
        assertEquals(WeightImport.How.INITIAL, r.how().get("fc.weight"));
        assertTrue(r.weights().get("fc.weight").bitEquals(Weights.initial(four.graph(), four.config().seed()).get("fc.weight")));

        Path partialFile = dir.resolve("part.safetensors");
        Safetensors.write(partialFile, Weights.of(Map.of("conv1.weight", randomised(four).get("conv1.weight"))), Map.of());
        assertTrue(assertThrows(ZooException.class, () -> WeightImport.from(partialFile, four, false)).getMessage()
                .startsWith("part.safetensors has nothing for 8 of tiny's 9 tensors: bn1.weight (5), bn1.bias (5)"));
        Files.writeString(dir.resolve("junk.onnx"), "junk");
        assertTrue(assertThrows(ZooException.class, () -> WeightImport.from(dir.resolve("junk.onnx"), four, false)).getMessage()
                .contains("junk.onnx is not an ONNX model"));
        assertTrue(assertThrows(ZooException.class, () -> WeightImport.from(dir.resolve("none.onnx"), four, false)).getMessage()
                .contains("does not exist"));
    }

    @Test
    void modulePathsFromPyTorchNodeNames() {
        assertEquals("layer1.0.conv1", WeightImport.modulePath("/layer1/layer1.0/conv1/Conv"));
        assertEquals("layer1.0.downsample.0", WeightImport.modulePath("/layer1/layer1.0/downsample/downsample.0/Conv"));
        assertEquals("features.0", WeightImport.modulePath("/features/features.0/Conv"));
        assertEquals("fc", WeightImport.modulePath("/fc/Gemm"));
        assertNull(WeightImport.modulePath("/Flatten"));
        assertNull(WeightImport.modulePath("Conv_12"));
    }
}
