package dev.cnnzoo.alexnet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.InvalidConfigException;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.Summary;
import dev.cnnzoo.nn.GlobalPool;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Structure, parameter counts and MACs of the AlexNet family against the papers' tables and torchvision. */
class AlexNetModelsTest {
    private static final ModelZoo ZOO = ModelZoo.load();

    /**
     * One row of a paper's layer table: the row's output maps and size and, for a weight layer, its
     * window, the maps each filter reads, and the size of the maps it computes (larger than the
     * row's output when a pool inside the row follows). Parameters and MACs follow from these alone.
     */
    private record TableRow(String layer, int maps, int size, int kernel, int inputsPerFilter, int computedSize) {
        static TableRow conv(String layer, int maps, int size, int kernel, int inputsPerFilter) {
            return new TableRow(layer, maps, size, kernel, inputsPerFilter, size);
        }

        /** A convolution whose maps are pooled within the same row (ZF Net's figure boxes). */
        static TableRow convPooled(String layer, int maps, int computedSize, int pooledSize, int kernel, int inputsPerFilter) {
            return new TableRow(layer, maps, pooledSize, kernel, inputsPerFilter, computedSize);
        }

        static TableRow pool(String layer, int maps, int size) {
            return new TableRow(layer, maps, size, 0, 0, size);
        }

        static TableRow dense(String layer, int units, int inputs) {
            return new TableRow(layer, units, 0, 1, inputs, 1);
        }

        String shape() {
            return size == 0 ? "N×" + maps : "N×" + maps + "×" + size + "×" + size;
        }

        long parameters() {
            return kernel == 0 ? 0 : (long) maps * kernel * kernel * inputsPerFilter + maps;
        }

        long macs() {
            return (long) maps * computedSize * computedSize * kernel * kernel * inputsPerFilter;
        }
    }

    private static void assertRows(List<TableRow> table, Graph graph) {
        List<Summary.Row> rows = Summary.of(graph).rows(1);
        assertEquals(table.stream().map(TableRow::layer).toList(), rows.stream().map(Summary.Row::layer).toList());
        for (int i = 0; i < table.size(); i++) {
            TableRow expected = table.get(i);
            Summary.Row actual = rows.get(i);
            assertEquals(expected.shape(), actual.output().toString(), expected.layer() + " output");
            assertEquals(expected.parameters(), actual.parameters(), expected.layer() + " parameters");
            assertEquals(expected.macs(), actual.macs(), expected.layer() + " MACs");
        }
    }

    @Test
    void serviceLoaderFindsTheFamily() {
        assertEquals(List.of("alexnet", "alexnet-tv", "zfnet"), ZOO.family("alexnet").stream().map(ModelInfo::id).toList());
    }

    /** Table 13-2 of Géron's Hands-On Machine Learning (1st ed.; ch. 14 in the 2nd), plus the pool after C7 (paper §3.5), row for row in the summary. */
    @Test
    void alexnetReadsLikeTable13_2() {
        assertRows(List.of(
                TableRow.conv("c1", 96, 55, 11, 3),
                TableRow.pool("s2", 96, 27),
                TableRow.conv("c3", 256, 27, 5, 96),
                TableRow.pool("s4", 256, 13),
                TableRow.conv("c5", 384, 13, 3, 256),
                TableRow.conv("c6", 384, 13, 3, 384),
                TableRow.conv("c7", 256, 13, 3, 384),
                TableRow.pool("s8", 256, 6),
                TableRow.dense("f9", 4096, 256 * 6 * 6),
                TableRow.dense("f10", 4096, 4096),
                TableRow.dense("out", 1000, 4096)), ZOO.build("alexnet").graph());
        // The sum of the table's layers; the count usually quoted for single-tower AlexNet.
        assertEquals(62_378_344L, Summary.of(ZOO.build("alexnet").graph()).parameters());
    }

    /**
     * Split over two GPUs (§3.2), c3, c6 and c7 read only their half of the maps below: the
     * paper's "60 million parameters" (abstract), exactly 60,965,224 (Caffe's bvlc_alexnet has the same).
     */
    @Test
    void twoGpuSplitHasThePapersSixtyMillionParameters() {
        Graph g = ZOO.build("alexnet", ModelConfig.builder().option("groups", "2").build()).graph();
        assertRows(List.of(
                TableRow.conv("c1", 96, 55, 11, 3),
                TableRow.pool("s2", 96, 27),
                TableRow.conv("c3", 256, 27, 5, 48),
                TableRow.pool("s4", 256, 13),
                TableRow.conv("c5", 384, 13, 3, 256),
                TableRow.conv("c6", 384, 13, 3, 192),
                TableRow.conv("c7", 256, 13, 3, 192),
                TableRow.pool("s8", 256, 6),
                TableRow.dense("f9", 4096, 256 * 6 * 6),
                TableRow.dense("f10", 4096, 4096),
                TableRow.dense("out", 1000, 4096)), g);
        assertEquals(60_965_224L, Summary.of(g).parameters());
        List<Long> groups = g.nodes().stream().filter(n -> n.op().equals("Conv")).map(n -> n.attributes().getInt("group", 1)).toList();
        assertEquals(List.of(1L, 2L, 1L, 2L, 2L), groups, "groups of c1, c3, c5, c6, c7");
    }

    /**
     * §3.5: "the number of neurons in the network's remaining layers is given by
     * 253,440–186,624–64,896–64,896–43,264–4096–4096–1000". The first figure does not fit 96 maps
     * of 55×55 (290,400) and is a known slip of the paper; the others are the layers' outputs.
     */
    @Test
    void layerSizesMatchThePapersNeuronCounts() {
        List<Summary.Row> rows = Summary.of(ZOO.build("alexnet").graph()).rows(1);
        List<String> weightLayers = List.of("c3", "c5", "c6", "c7", "f9", "f10", "out");
        List<Long> neurons = weightLayers.stream()
                .map(l -> rows.stream().filter(r -> r.layer().equals(l)).findFirst().orElseThrow().output().elements(1))
                .toList();
        assertEquals(List.of(186_624L, 64_896L, 64_896L, 43_264L, 4_096L, 4_096L, 1_000L), neurons);
    }

    @Test
    void lrnFollowsTheReluOfC1AndC3WithThePapersConstants() {
        Graph g = ZOO.build("alexnet").graph();
        List<Node> lrns = g.nodes().stream().filter(n -> n.op().equals("LRN")).toList();
        assertEquals(List.of("c1", "c3"), lrns.stream().map(Node::layer).toList());
        for (Node lrn : lrns) {
            assertEquals("Relu", g.producer(lrn.input(0)).op());
            assertEquals(5, lrn.attributes().getInt("size", 0));
            assertEquals(1e-4f, lrn.attributes().getFloat("alpha", 0), 1e-12f);
            assertEquals(0.75f, lrn.attributes().getFloat("beta", 0));
            assertEquals(1f, lrn.attributes().getFloat("bias", 0));
        }
    }

    /** torchvision's state-dict keys, in its order, and its count (torchvision docs: num_params 61100840, 0.71 GFLOPS). */
    @Test
    void alexnetTvHasTorchvisionsNamesAndCounts() {
        Graph g = ZOO.build("alexnet-tv").graph();
        assertEquals(List.of(
                "features.0.weight", "features.0.bias", "features.3.weight", "features.3.bias",
                "features.6.weight", "features.6.bias", "features.8.weight", "features.8.bias",
                "features.10.weight", "features.10.bias", "classifier.1.weight", "classifier.1.bias",
                "classifier.4.weight", "classifier.4.bias", "classifier.6.weight", "classifier.6.bias"),
                List.copyOf(g.parameters().keySet()));
        Summary s = Summary.of(g);
        assertEquals(61_100_840L, s.parameters());
        assertEquals(71, Math.round(s.macs() / 1e7), "torchvision's 0.71 GFLOPS (MACs)");
        // At 224×224 the last pool already leaves 6×6 maps: the adaptive pooling adds nothing.
        assertTrue(g.nodes().stream().noneMatch(n -> n.op().equals("AveragePool") || n.op().equals("MatMul")));
    }

    @Test
    void alexnetTvPoolsOtherSizesToSixBySix() {
        // 256×256 leaves 7×7 maps, which PyTorch's bins pool to 6×6 (the conformance test checks the values).
        Graph g = ZOO.build("alexnet-tv", ModelConfig.builder().inputSize(256, 256).build()).graph();
        Summary.Row pool = Summary.of(g).rows(1).stream().filter(r -> r.layer().equals("avgpool")).findFirst().orElseThrow();
        assertEquals("N×9216", pool.output().toString());
        assertEquals(61_100_840L, Summary.of(g).parameters());
        // torchvision's documented minimum input is 63×63; one pixel less leaves features.12 nothing to pool.
        ZOO.build("alexnet-tv", ModelConfig.builder().inputSize(63, 63).build());
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> ZOO.build("alexnet-tv", ModelConfig.builder().inputSize(62, 62).build()));
        assertTrue(e.getMessage().startsWith("input 3×62×62 does not fit alexnet-tv (default 3×224×224): layer 'features.12'"),
                e.getMessage());
    }

    /**
     * The architecture figure of Zeiler and Fergus: layer 1's 7×7 stride-2 filters give 110×110 maps,
     * pooled to 55×55; layer 2's stride-2 5×5 filters give 26×26, pooled to 13×13. The parameter
     * count follows from the figure: 62,357,608.
     */
    @Test
    void zfnetFollowsTheArchitectureFigure() {
        Graph g = ZOO.build("zfnet").graph();
        assertRows(List.of(
                TableRow.convPooled("layer1", 96, 110, 55, 7, 3),
                TableRow.convPooled("layer2", 256, 26, 13, 5, 96),
                TableRow.conv("layer3", 384, 13, 3, 256),
                TableRow.conv("layer4", 384, 13, 3, 384),
                TableRow.convPooled("layer5", 256, 13, 6, 3, 384),
                TableRow.dense("layer6", 4096, 256 * 6 * 6),
                TableRow.dense("layer7", 4096, 4096),
                TableRow.dense("output", 1000, 4096)), g);
        List<String> convolutionOutputs = g.nodes().stream().filter(n -> n.op().equals("Conv"))
                .map(n -> n.output().shape().toString()).toList();
        assertEquals(List.of("N×96×110×110", "N×256×26×26", "N×384×13×13", "N×384×13×13", "N×256×13×13"), convolutionOutputs);
        // (7·7·3 + 1)·96 + (5·5·96 + 1)·256 + (3·3·256 + 1)·384 + (3·3·384 + 1)·384 + (3·3·384 + 1)·256
        //   + (9216 + 1)·4096 + (4096 + 1)·4096 + (4096 + 1)·1000
        assertEquals(62_357_608L, Summary.of(g).parameters());
    }

    @Test
    void configurationOverridesAndErrors() {
        assertEquals("N×10", ZOO.build("zfnet", ModelConfig.builder().classes(10).build()).graph().mainOutput().shape().toString());
        assertEquals("N×256", ZOO.build("alexnet", ModelConfig.builder().includeTop(false).build())
                .graph().mainOutput().shape().toString());
        assertEquals("N×256×6×6", ZOO.build("alexnet-tv", ModelConfig.builder().includeTop(false).globalPool(GlobalPool.NONE).build())
                .graph().mainOutput().shape().toString());
        InvalidConfigException groups = assertThrows(InvalidConfigException.class,
                () -> ZOO.build("alexnet", ModelConfig.builder().option("groups", "4").build()));
        assertEquals("option groups=4 does not fit alexnet: 1 (one device, the default) or 2 (the paper's two-GPU split)",
                groups.getMessage());
        InvalidConfigException unknown = assertThrows(InvalidConfigException.class,
                () -> ZOO.build("zfnet", ModelConfig.builder().option("groups", "2").build()));
        assertEquals("unknown option 'groups' for zfnet; it takes none", unknown.getMessage());
        InvalidConfigException small = assertThrows(InvalidConfigException.class,
                () -> ZOO.build("alexnet", ModelConfig.builder().inputSize(64, 64).build()));
        assertTrue(small.getMessage().startsWith("input 3×64×64 does not fit alexnet (default 3×227×227): layer 's8'"),
                small.getMessage());
    }
}
