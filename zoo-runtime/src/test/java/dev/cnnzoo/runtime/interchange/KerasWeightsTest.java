package dev.cnnzoo.runtime.interchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.BatchNorm;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;
import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;
import java.lang.reflect.Array;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keras files written here with jHDF in the layout Keras writes: every Keras weight holds values
 * that encode their own position, so each test can say where in the zoo's tensors a Keras element
 * must land, from the layouts' definitions alone.
 */
class KerasWeightsTest {
    @TempDir
    Path dir;

    /**
     * stem (2×3 kernel, no bias) → stem_bn → separable "sep" (3×3, 6 filters) → sep_bn → "proj"
     * (1×1, 5 filters, bias) → flatten (5×5×4) → "fc" (3 units). Keras ε = 0.001 throughout.
     */
    private static Model model() {
        Net net = new Net("tiny-keras");
        Value x = net.input(3, 4, 4);
        BatchNorm bn = BatchNorm.defaults().epsilon(1e-3).momentum(0.01);
        x = net.relu(net.batchNorm("stem_bn", net.conv("stem", x, Conv.of(4, 2, 3).pad(1).noBias()), bn));
        x = net.batchNorm("sep_bn", net.separableConv("sep", x, Conv.of(6, 3).same().noBias()), bn);
        x = net.conv("proj", x, Conv.of(5, 1));
        net.output("logits", net.dense("fc", net.flatten(x), 3));
        Graph g = net.build();
        return new Model(WeightImportTest.INFO, ModelConfig.builder().classes(3).input(3, 4, 4).build().resolve(WeightImportTest.INFO), g);
    }

    /** A Keras weight whose element at flat index i holds {@code code + i}. */
    private record W(String name, int code, int... dims) {
        float[] values() {
            int n = 1;
            for (int d : dims) {
                n *= d;
            }
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = code + i;
            }
            return v;
        }
    }

    private static final int STEM = 10_000;
    private static final int STEM_BIAS = 20_000;
    private static final int DEPTHWISE = 30_000;
    private static final int POINTWISE = 40_000;
    private static final int PROJ = 50_000;
    private static final int FC = 60_000;

    /** The file Keras would save for {@link #model()}; the projection is unnamed in Keras ("conv2d"). */
    private static Map<String, List<W>> layers(int projFilters) {
        Map<String, List<W>> m = new LinkedHashMap<>();
        m.put("stem", List.of(new W("kernel", STEM, 2, 3, 3, 4), new W("bias", STEM_BIAS, 4)));
        m.put("stem_bn", bn(100, 4));
        m.put("stem_act", List.of());
        m.put("sep", List.of(new W("depthwise_kernel", DEPTHWISE, 3, 3, 4, 1), new W("pointwise_kernel", POINTWISE, 1, 1, 4, 6)));
        m.put("sep_bn", bn(200, 6));
        m.put("conv2d", List.of(new W("kernel", PROJ, 1, 1, 6, projFilters), new W("bias", 300, projFilters)));
        m.put("flatten", List.of());
        m.put("fc", List.of(new W("kernel", FC, 5 * 4 * 5, 3), new W("bias", 400, 3)));
        return m;
    }

    private static List<W> bn(int code, int c) {
        return List.of(new W("gamma", code, c), new W("beta", code + 10, c), new W("moving_mean", code + 20, c),
                new W("moving_variance", code + 30, c));
    }

    private Path write(String name, Map<String, List<W>> layers, String modelConfig, boolean chunkedNames) {
        Path file = dir.resolve(name);
        try (WritableHdfFile f = HdfFile.write(file)) {
            WritableGroup root = f;
            if (modelConfig != null) {
                f.putAttribute("model_config", modelConfig);
                root = f.putGroup("model_weights");
            }
            String[] names = layers.keySet().toArray(String[]::new);
            if (chunkedNames) {
                root.putAttribute("layer_names0", Arrays.copyOfRange(names, 0, 3));
                root.putAttribute("layer_names1", Arrays.copyOfRange(names, 3, names.length));
            } else {
                root.putAttribute("layer_names", names);
            }
            root.putAttribute("keras_version", "2.10.0");
            for (Map.Entry<String, List<W>> l : layers.entrySet()) {
                WritableGroup g = root.putGroup(l.getKey());
                List<String> weightNames = new ArrayList<>();
                WritableGroup inner = l.getValue().isEmpty() ? null : g.putGroup(l.getKey());
                for (W w : l.getValue()) {
                    weightNames.add(l.getKey() + "/" + w.name() + ":0");
                    inner.putDataset(w.name() + ":0", nested(w.values(), w.dims()));
                }
                if (!weightNames.isEmpty()) {           // (Keras writes an empty list, which jHDF cannot write; the reader takes both)
                    g.putAttribute("weight_names", weightNames.toArray(String[]::new));
                }
            }
        }
        return file;
    }

    /** A flat row-major array as the nested Java array jHDF writes with the given dimensions. */
    private static Object nested(float[] flat, int... dims) {
        if (dims.length == 1) {
            return flat.clone();
        }
        int[] inner = Arrays.copyOfRange(dims, 1, dims.length);
        int per = flat.length / dims[0];
        Object[] rows = new Object[dims[0]];
        for (int i = 0; i < dims[0]; i++) {
            rows[i] = nested(Arrays.copyOfRange(flat, i * per, (i + 1) * per), inner);
        }
        Object result = Array.newInstance(rows[0].getClass(), dims[0]);
        for (int i = 0; i < dims[0]; i++) {
            Array.set(result, i, rows[i]);
        }
        return result;
    }

    private static float at(WeightImport.Report r, String tensor, int... index) {
        var t = r.weights().get(tensor);
        int[] dims = t.shape().dims();
        int flat = 0;
        for (int d = 0; d < dims.length; d++) {
            flat = flat * dims[d] + index[d];
        }
        return t.floats()[flat];
    }

    @Test
    void everyKerasElementLandsWhereTheZoosLayoutPutsIt() {
        Path file = write("tiny.h5", layers(5), null, false);
        WeightImport.Report r = WeightImport.from(file, model(), false);
        // Convolution: Keras kernel[y][x][i][o] is the zoo's weight[o][i][y][x] (2×3 kernel: y and x cannot be swapped unseen).
        for (int y = 0; y < 2; y++) {
            for (int x = 0; x < 3; x++) {
                for (int i = 0; i < 3; i++) {
                    for (int o = 0; o < 4; o++) {
                        assertEquals(STEM + ((y * 3 + x) * 3 + i) * 4 + o, at(r, "stem.weight", o, i, y, x));
                    }
                }
            }
        }
        // Depthwise: Keras depthwise_kernel[y][x][c][0] filters channel c, the zoo's weight[c][0][y][x].
        // Pointwise: Keras pointwise_kernel[0][0][c][o] is the zoo's weight[o][c][0][0].
        for (int c = 0; c < 4; c++) {
            for (int y = 0; y < 3; y++) {
                for (int x = 0; x < 3; x++) {
                    assertEquals(DEPTHWISE + (y * 3 + x) * 4 + c, at(r, "sep.depthwise.weight", c, 0, y, x));
                }
            }
            for (int o = 0; o < 6; o++) {
                assertEquals(POINTWISE + c * 6 + o, at(r, "sep.pointwise.weight", o, c, 0, 0));
            }
        }
        // Dense after a flattened 5×4×5 map (C×H×W in the zoo): Keras row (h·W + w)·C + c is the zoo's column c·H·W + h·W + w.
        for (int c = 0; c < 5; c++) {
            for (int h = 0; h < 5; h++) {
                for (int w = 0; w < 4; w++) {
                    for (int o = 0; o < 3; o++) {
                        assertEquals(FC + ((h * 4 + w) * 5 + c) * 3 + o, at(r, "fc.weight", o, c * 20 + h * 4 + w));
                    }
                }
            }
        }
        // The unnamed projection matched by order; batch norms by name, their statistics as Keras stored them.
        assertEquals(WeightImport.How.ORDER, r.how().get("proj.weight"));
        assertEquals("conv2d/bias:0", r.sources().get("proj.bias"));
        assertEquals(WeightImport.How.NAME, r.how().get("sep_bn.running_var"));
        assertEquals(230 + 5, at(r, "sep_bn.running_var", 5));
        assertTrue(r.unused().isEmpty(), r.unused().toString());
    }

    @Test
    void aBiasTheZoosConvolutionLacksIsFoldedIntoTheBatchNormAfterIt() {
        WeightImport.Report r = WeightImport.from(write("bias.h5", layers(5), null, false), model(), false);
        // BN(x + b) = γ(x − (μ − b))/σ + β: the running mean absorbs the bias, nothing else changes.
        for (int c = 0; c < 4; c++) {
            assertEquals(120 + c - (STEM_BIAS + c), at(r, "stem_bn.running_mean", c));
            assertEquals(130 + c, at(r, "stem_bn.running_var", c));
        }
        assertTrue(r.notes().contains("convolution biases folded into the running means of the batch norms after them (the zoo's convolutions "
                + "have none)"), r.notes().toString());
        assertTrue(r.notes().contains("a save_weights file records no layer settings: its batch norms are taken to use the zoo's ε"),
                r.notes().toString());
    }

    @Test
    void aWholeModelFilesEpsilonIsAbsorbedByTheVarianceAndItsMomentumReported() {
        String config = "{\"class_name\": \"Functional\", \"config\": {\"layers\": ["
                + "{\"class_name\": \"BatchNormalization\", \"config\": {\"name\": \"stem_bn\", \"epsilon\": 0.003, \"momentum\": 0.9}},"
                + "{\"class_name\": \"BatchNormalization\", \"config\": {\"name\": \"sep_bn\", \"epsilon\": 0.001, \"momentum\": 0.99}}]}}";
        WeightImport.Report r = WeightImport.from(write("model.h5", layers(5), config, true), model(), false);
        // (x − μ)/√(σ² + 0.003) = (x − μ)/√((σ² + 0.002) + 0.001)
        assertEquals(130 + 0.002f, at(r, "stem_bn.running_var", 0), 1e-4);
        assertEquals(230f, at(r, "sep_bn.running_var", 0));
        assertEquals(List.of("batch norm 'stem_bn' used ε = 0.003, the zoo's 'stem_bn' uses 0.001: its running variance absorbs the difference",
                "batch norm 'stem_bn' averaged its statistics with momentum 0.9, the zoo's 'stem_bn' uses 0.99 (this matters only to further "
                        + "training)",
                "convolution biases folded into the running means of the batch norms after them (the zoo's convolutions have none)",
                "dense layer 'fc': rows reordered from Keras's height×width×channels flattening to the zoo's channels×height×width"), r.notes());
        assertTrue(KerasWeights.open(dir.resolve("model.h5")).wholeModel());
    }

    @Test
    void aKerasLayerOfAnotherShapeNamesItsWeight() {
        ZooException e = assertThrows(ZooException.class, () -> WeightImport.from(write("other.h5", layers(7), null, false), model(), false));
        assertEquals("tensor 'conv2d/kernel:0' is 7×6×1×1 in other.h5 (in the zoo's layout) but tiny's 'proj.weight' is 5×6×1×1 (a partial "
                + "import keeps proj.weight's initial value)", e.getMessage());
    }

    @Test
    void theRawReaderKeepsKerasNamesAndLayouts() {
        var w = KerasWeights.read(write("raw.h5", layers(5), null, false));
        assertEquals("2×3×3×4", w.get("stem/kernel:0").shape().toString());
        assertEquals(List.of("stem/kernel:0", "stem/bias:0"), w.names().subList(0, 2));
    }

    @Test
    void anHdf5FileThatIsNotKerasWeightsSaysSo() {
        Path file = dir.resolve("plain.h5");
        try (WritableHdfFile f = HdfFile.write(file)) {
            f.putDataset("x", new float[] {1, 2});
        }
        ZooException e = assertThrows(ZooException.class, () -> KerasWeights.open(file));
        assertEquals("plain.h5 is an HDF5 file but not Keras weights: it has no layer_names attribute", e.getMessage());
    }
}
