package dev.cnnzoo.vgg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.InvalidConfigException;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Summary;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The VGG configurations against Table 1 and 2 of the paper and torchvision's published counts. */
class VggModelsTest {
    private static final ModelZoo ZOO = ModelZoo.load();

    @Test
    void serviceLoaderFindsEightForms() {
        assertEquals(List.of("vgg11", "vgg11-bn", "vgg13", "vgg13-bn", "vgg16", "vgg16-bn", "vgg19", "vgg19-bn"),
                ZOO.family("vgg").stream().map(ModelInfo::id).toList());
    }

    /**
     * Parameters: torchvision's num_params for each model (its documentation; the issue quotes the
     * plain forms and vgg16-bn) and the paper's Table 2, in millions. MACs: torchvision's "GFLOPS"
     * column (7.61, 11.31, 15.47, 19.63), which counts multiply-accumulates as the zoo does.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "vgg11,    132863336, 133, 761",
        "vgg13,    133047848, 133, 1131",
        "vgg16,    138357544, 138, 1547",
        "vgg19,    143667240, 144, 1963",
        "vgg11-bn, 132868840, 133, 761",
        "vgg13-bn, 133053736, 133, 1131",
        "vgg16-bn, 138365992, 138, 1547",
        "vgg19-bn, 143678248, 144, 1963",
    })
    void parametersAndMacsMatchTorchvisionAndTable2(String id, long torchvision, long table2Millions, long centiGmacs) {
        Summary s = Summary.of(ZOO.build(id).graph());
        assertEquals(torchvision, s.parameters(), id + " parameters (torchvision)");
        assertEquals(table2Millions, Math.round(s.parameters() / 1e6), id + " parameters in millions (paper, Table 2)");
        assertEquals(centiGmacs, Math.round(s.macs() / 1e7), id + " MACs (torchvision's GFLOPS, two decimals)");
    }

    /**
     * Column D of Table 1 typed in again, read against {@code zoo info vgg16}: every convolution is
     * 3×3 with stride 1 and padding 1, every max pool 2×2 stride 2, starting from 224×224. Row names
     * are torchvision's module indices (a convolution and its ReLU take two, a pool one).
     */
    @Test
    void vgg16ReadsLikeColumnDOfTable1() {
        String[] columnD = {
            "conv3-64", "conv3-64", "maxpool",
            "conv3-128", "conv3-128", "maxpool",
            "conv3-256", "conv3-256", "conv3-256", "maxpool",
            "conv3-512", "conv3-512", "conv3-512", "maxpool",
            "conv3-512", "conv3-512", "conv3-512", "maxpool",
            "FC-4096", "FC-4096", "FC-1000",
        };
        List<String> layers = new ArrayList<>();
        List<String> shapes = new ArrayList<>();
        List<Long> parameters = new ArrayList<>();
        List<Long> macs = new ArrayList<>();
        int maps = 3;
        int size = 224;
        int module = 0;
        int dense = 0;
        for (String row : columnD) {
            if (row.equals("maxpool")) {
                size /= 2;
                layers.add("features." + module);
                shapes.add("N×" + maps + "×" + size + "×" + size);
                parameters.add(0L);
                macs.add(0L);
                module += 1;
            } else if (row.startsWith("conv3-")) {
                int out = Integer.parseInt(row.substring(6));
                layers.add("features." + module);
                shapes.add("N×" + out + "×" + size + "×" + size);
                parameters.add(9L * maps * out + out);
                macs.add((long) size * size * out * 9 * maps);
                maps = out;
                module += 2;
            } else {
                if (dense == 0) {
                    // avgpool (the identity at 224) and the flatten before the classifier.
                    layers.add("avgpool");
                    shapes.add("N×" + maps * size * size);
                    parameters.add(0L);
                    macs.add(0L);
                    maps = maps * size * size;
                }
                int out = Integer.parseInt(row.substring(3));
                layers.add("classifier." + 3 * dense++);
                shapes.add("N×" + out);
                parameters.add((long) maps * out + out);
                macs.add((long) maps * out);
                maps = out;
            }
        }
        List<Summary.Row> rows = Summary.of(ZOO.build("vgg16").graph()).rows();
        assertEquals(layers, rows.stream().map(Summary.Row::layer).toList());
        assertEquals(shapes, rows.stream().map(r -> r.output().toString()).toList());
        assertEquals(parameters, rows.stream().map(Summary.Row::parameters).toList());
        assertEquals(macs, rows.stream().map(Summary.Row::macs).toList());
    }

    @Test
    void batchNormFormsPutTorchvisionsBatchNormBetweenConvolutionAndRelu() {
        Graph g = ZOO.build("vgg16-bn").graph();
        // Conv 0, BN 1, ReLU 2, conv 3...: the 13th convolution is features.40 and its batch norm features.41.
        assertEquals(Shape.of(512, 512, 3, 3), g.parameters().get("features.40.weight").shape());
        assertEquals(Shape.of(512), g.parameters().get("features.40.bias").shape());
        for (String tensor : List.of("weight", "bias", "running_mean", "running_var")) {
            assertEquals(Shape.of(512), g.parameters().get("features.41." + tensor).shape(), tensor);
        }
        assertEquals(Shape.of(1000, 4096), g.parameters().get("classifier.6.weight").shape());
        // 13 convolutions with bias, 13 batch norms with four tensors each, 3 dense layers with bias.
        assertEquals(13 * 2 + 13 * 4 + 3 * 2, g.parameters().size());
        assertEquals(4224L * 2, Summary.of(g).stateScalars(), "running mean and variance of 64·2 + 128·2 + 256·3 + 512·6 maps");
    }

    @Test
    void configurationOverridesAndErrors() {
        // torchvision's documented minimum input, 32×32, leaves 1×1 maps that the adaptive pooling spreads to 7×7.
        Graph small = ZOO.build("vgg11", ModelConfig.builder().inputSize(32, 32).classes(10).build()).graph();
        assertEquals("N×10", small.mainOutput().shape().toString());
        assertEquals(Shape.of(4096, 512 * 7 * 7), small.parameters().get("classifier.0.weight").shape());
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> ZOO.build("vgg11", ModelConfig.builder().inputSize(31, 31).build()));
        assertTrue(e.getMessage().startsWith("input 3×31×31 does not fit vgg11 (default 3×224×224): layer 'features.20'"),
                e.getMessage());
        assertEquals("N×512", ZOO.build("vgg19-bn", ModelConfig.builder().includeTop(false).build())
                .graph().mainOutput().shape().toString());
    }
}
