package dev.cnnzoo.runtime.interchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelEntry;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelProvider;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.Paper;
import dev.cnnzoo.api.Preprocessing;
import dev.cnnzoo.api.PretrainedWeights;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.OnnxExporter;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.Weights;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One resolver for every way a user names weights: the zoo's pretrained ones, safetensors, ONNX, and formats added later. */
class WeightsResolverTest {
    @TempDir
    Path dir;

    private static final ModelInfo INFO = ModelInfo.builder("tiny").family("test").description("a convolution and a dense layer")
            .paper(new Paper("nobody", "none", 2024, "none", null, null)).input(1, 6, 6).classes(3)
            .preprocessing(Preprocessing.imagenet(6, 6)).build();

    private static Graph graph(ModelConfig config) {
        Net net = new Net("tiny");
        Value x = net.relu(net.conv("conv1", net.input(1, 6, 6), Conv.of(2, 3)));
        net.output("logits", net.dense("fc", net.flatten(x), config.classes()));
        return net.build();
    }

    /** A zoo of one model that ships weights (seed 5) naming its classes. */
    private static ModelZoo zoo(byte[] shipped) {
        ModelEntry entry = ModelEntry.of(INFO, (info, config) -> graph(config))
                .withPretrained(new PretrainedWeights("seed 5", List.of("a", "b", "c"), () -> new ByteArrayInputStream(shipped)));
        ModelProvider provider = () -> List.of(entry);
        return ModelZoo.of(List.of(provider));
    }

    private byte[] safetensors(Weights w, Map<String, String> metadata) throws IOException {
        Path f = Files.createTempFile(dir, "w", ".safetensors");
        Safetensors.write(f, w, metadata);
        return Files.readAllBytes(f);
    }

    @Test
    void pretrainedSafetensorsAndOnnxGiveTheSameWeights() throws IOException {
        ModelZoo probe = zoo(new byte[0]);
        Model model = probe.build("tiny");
        Weights five = Weights.initial(model.graph(), 5);
        ModelZoo zoo = zoo(safetensors(five, Map.of()));
        WeightsResolver resolver = new WeightsResolver(zoo);

        WeightsResolver.Resolved pretrained = resolver.resolve(WeightsSource.parse("pretrained"), model);
        assertTrue(pretrained.weights().bitEquals(five));
        assertEquals(List.of("a", "b", "c"), pretrained.labels(), "the shipped weights name their classes");
        assertEquals("its pretrained weights", pretrained.source().describe());

        Path st = dir.resolve("five.safetensors");
        Files.write(st, safetensors(five.with("extra", Tensor.zeros(Shape.of(1))), Map.of(dev.cnnzoo.runtime.predict.ClassNames.WEIGHTS_METADATA, "[\"x\",\"y\",\"z\"]")));
        WeightsResolver.Resolved file = resolver.resolve(WeightsSource.parse(st.toString()), model);
        assertTrue(file.weights().bitEquals(five));
        assertEquals(List.of("extra"), file.unused());
        assertEquals(List.of("x", "y", "z"), file.labels(), "a trained weights file names its classes");

        Path onnx = dir.resolve("five.onnx");
        OnnxExporter.write(model.graph(), five, onnx, ExportOptions.defaults());
        assertTrue(resolver.resolve(WeightsSource.file(onnx), model).weights().bitEquals(five));
        Path noSuffix = dir.resolve("five-model");
        Files.copy(onnx, noSuffix);
        assertTrue(resolver.resolve(WeightsSource.file(noSuffix), model).weights().bitEquals(five), "ONNX told by its first byte too");
    }

    @Test
    void transferKeepsInitialValuesWhereTheSourceDoesNotFit() throws IOException {
        Model three = zoo(new byte[0]).build("tiny");
        ModelZoo zoo = zoo(safetensors(Weights.initial(three.graph(), 5), Map.of()));
        Model seven = zoo.build("tiny", ModelConfig.builder().classes(7).seed(2).build());
        WeightsResolver resolver = new WeightsResolver(zoo);

        ZooException e = assertThrows(ZooException.class, () -> resolver.resolve(WeightsSource.pretrained(), seven));
        assertTrue(e.getMessage().contains("fc.weight"), e.getMessage());
        WeightsResolver.Resolved t = resolver.transfer(WeightsSource.pretrained(), seven);
        assertEquals(2, t.kept().size(), t.kept().toString());
        assertTrue(t.kept().get(0).startsWith("fc.weight (3×"), t.kept().toString());
        assertEquals(t.weights().size() - 2, t.loaded());
        assertTrue(t.weights().get("conv1.weight").bitEquals(Weights.initial(three.graph(), 5).get("conv1.weight")), "the matching tensors load");
        assertTrue(t.weights().get("fc.weight").bitEquals(Weights.initial(seven.graph(), 2).get("fc.weight")), "the new head starts fresh");

        Path onnx = dir.resolve("three.onnx");
        OnnxExporter.write(three.graph(), Weights.initial(three.graph(), 5), onnx, ExportOptions.defaults());
        WeightsMismatchException m = assertThrows(WeightsMismatchException.class, () -> resolver.resolve(WeightsSource.file(onnx), seven));
        assertFalse(m.getMessage().contains("--"), "a library message names no command-line flag: " + m.getMessage());
        assertEquals(2, resolver.transfer(WeightsSource.file(onnx), seven).kept().size());
    }

    @Test
    void anotherFormatIsOneMoreCase() throws IOException {
        Model model = zoo(new byte[0]).build("tiny");
        Weights nine = Weights.initial(model.graph(), 9);
        // A stand-in for a format the zoo does not read (NumPy's .npz), read into tensors named as the model names them.
        WeightsResolver.Format npz = WeightsResolver.byName("NumPy", List.of(".npz"), file -> nine);
        WeightsResolver resolver = new WeightsResolver(zoo(new byte[0])).with(npz);
        Path file = dir.resolve("state.npz");
        Files.writeString(file, "zipped");
        assertTrue(resolver.resolve(WeightsSource.file(file), model).weights().bitEquals(nine));
        assertEquals(List.of("NumPy", "safetensors", "PyTorch", "Keras HDF5", "ONNX"),
                resolver.formats().stream().map(WeightsResolver.Format::name).toList());

        Path unknown = dir.resolve("state.bin");
        Files.writeString(unknown, "neither");
        assertEquals(unknown + " is in none of the weight formats the zoo reads (NumPy, safetensors, PyTorch, Keras HDF5, ONNX)",
                assertThrows(ZooException.class, () -> resolver.resolve(WeightsSource.file(unknown), model)).getMessage());
        assertEquals("weights file " + dir.resolve("absent.npz") + " does not exist",
                assertThrows(ZooException.class, () -> resolver.resolve(WeightsSource.file(dir.resolve("absent.npz")), model)).getMessage());
    }
}
