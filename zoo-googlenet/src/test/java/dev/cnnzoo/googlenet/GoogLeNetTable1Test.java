package dev.cnnzoo.googlenet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.Parameter;
import dev.cnnzoo.graph.Summary;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** GoogLeNet against Table 1 of Szegedy et al. 2014, typed in again here. */
class GoogLeNetTable1Test {
    private static final ModelZoo ZOO = ModelZoo.load();

    /** Table 1's inception rows: output size, depth, #1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj. */
    private static final Object[][] TABLE_1 = {
        {"inception3a", "28×28×256", 64, 96, 128, 16, 32, 32},
        {"inception3b", "28×28×480", 128, 128, 192, 32, 96, 64},
        {"inception4a", "14×14×512", 192, 96, 208, 16, 48, 64},
        {"inception4b", "14×14×512", 160, 112, 224, 24, 64, 64},
        {"inception4c", "14×14×512", 128, 128, 256, 24, 64, 64},
        {"inception4d", "14×14×528", 112, 144, 288, 32, 64, 64},
        {"inception4e", "14×14×832", 256, 160, 320, 32, 128, 128},
        {"inception5a", "7×7×832", 256, 160, 320, 32, 128, 128},
        {"inception5b", "7×7×1024", 384, 192, 384, 48, 128, 128},
    };

    @Test
    void everyInceptionModuleHasTable1sSixFilterCounts() {
        Graph g = ZOO.build("googlenet").graph();
        for (Object[] row : TABLE_1) {
            String m = (String) row[0];
            assertFilters(g, m + ".branch1.weight", (int) row[2], 1);
            assertFilters(g, m + ".branch2.0.weight", (int) row[3], 1);
            assertFilters(g, m + ".branch2.1.weight", (int) row[4], 3);
            assertFilters(g, m + ".branch3.0.weight", (int) row[5], 1);
            assertFilters(g, m + ".branch3.1.weight", (int) row[6], 5);
            assertFilters(g, m + ".branch4.1.weight", (int) row[7], 1);
        }
    }

    @Test
    void googlenetBnHasTheSameFiltersWithTorchvisionsThreeByThreeInTheFiveByFiveBranch() {
        Graph g = ZOO.build("googlenet-bn").graph();
        for (Object[] row : TABLE_1) {
            String m = (String) row[0];
            assertFilters(g, m + ".branch1.conv.weight", (int) row[2], 1);
            assertFilters(g, m + ".branch2.0.conv.weight", (int) row[3], 1);
            assertFilters(g, m + ".branch2.1.conv.weight", (int) row[4], 3);
            assertFilters(g, m + ".branch3.0.conv.weight", (int) row[5], 1);
            // pytorch/vision#906: torchvision's "5×5" branch convolves 3×3; its weights need it.
            assertFilters(g, m + ".branch3.1.conv.weight", (int) row[6], 3);
            assertFilters(g, m + ".branch4.1.conv.weight", (int) row[7], 1);
        }
    }

    private static void assertFilters(Graph g, String name, int filters, int kernel) {
        Parameter p = g.parameters().get(name);
        assertNotNull(p, name + " is missing");
        assertEquals(filters, p.shape().dim(0), name + " filters");
        assertArrayEquals(new int[] {kernel, kernel}, new int[] {p.shape().dim(2), p.shape().dim(3)}, name + " kernel");
    }

    @Test
    void layerOutputSizesFollowTable1() {
        for (String id : new String[] {"googlenet", "googlenet-bn"}) {
            Map<String, String> shapes = Summary.of(ZOO.build(id).graph()).rows(1).stream()
                    .collect(Collectors.toMap(Summary.Row::layer, r -> r.output().toString()));
            assertEquals("N×64×112×112", shapes.get("conv1"), id);
            assertEquals("N×64×56×56", shapes.get("maxpool1"), id);
            assertEquals("N×192×56×56", shapes.get("conv3"), id);
            assertEquals("N×192×28×28", shapes.get("maxpool2"), id);
            for (Object[] row : TABLE_1) {
                String[] hwc = ((String) row[1]).split("×");
                assertEquals("N×" + hwc[2] + "×" + hwc[0] + "×" + hwc[1], shapes.get((String) row[0]), id + " " + row[0]);
            }
            assertEquals("N×480×14×14", shapes.get("maxpool3"), id);
            assertEquals("N×832×7×7", shapes.get("maxpool4"), id);
            assertEquals("N×1000", shapes.get("fc"), id);
            // The auxiliary heads: 4×4×128 after their pooling and 1×1 convolution (§5), 1000 classes.
            assertEquals("N×1000", shapes.get("aux1"), id);
            assertEquals("N×1000", shapes.get("aux2"), id);
        }
    }

    /** Table 1's "ops" column for the inception rows, in millions of multiply-accumulates per image. */
    private static final Map<String, Integer> TABLE_1_OPS = Map.of("inception3a", 128, "inception3b", 304,
            "inception4a", 73, "inception4b", 88, "inception4c", 100, "inception4d", 119, "inception4e", 170,
            "inception5a", 54, "inception5b", 71);

    @Test
    void inceptionModulesCostWhatTable1Says() {
        Map<String, Long> macs = Summary.of(ZOO.build("googlenet").graph()).rows(1).stream()
                .collect(Collectors.toMap(Summary.Row::layer, Summary.Row::macs));
        TABLE_1_OPS.forEach((module, millions) -> {
            double expected = module.equals("inception5a")
                    // The table's 54M for 5a does not follow from its own filter counts, which give
                    // 7·7·(832·256 + 832·160 + 160·9·320 + 832·32 + 32·25·128 + 832·128) = 51.08M.
                    ? 51.08 : millions;
            // The table rounds some figures and truncates others (4a: 73.6M written 73M).
            assertEquals(expected, macs.get(module) / 1e6, 1.0, module);
        });
        // conv2 + conv3, the 1×1 reduction and the 3×3 convolution of Table 1's second row: 360M.
        assertEquals(360, (macs.get("conv2") + macs.get("conv3")) / 1e6, 1.0);
    }

    @Test
    void thePublishedFormHasTheTextsLrnAndAuxiliaryHeadsAndTorchvisionsHasNeither() {
        Graph paper = ZOO.build("googlenet").graph();
        long lrns = paper.nodes().stream().filter(n -> n.op().equals("LRN")).count();
        assertEquals(2, lrns, "LRN after the first pooling and after the 3×3 convolution");
        Node lrn = paper.nodes().stream().filter(n -> n.op().equals("LRN")).findFirst().orElseThrow();
        // The text's r = 2, α = 0.00002 become ONNX's size 5, alpha 0.0001 (α·size), β 0.75, bias 1.
        assertEquals(5L, lrn.attributes().getInt("size", 0));
        assertEquals(1e-4f, lrn.attributes().getFloat("alpha", 0f), 1e-10f);
        assertEquals(0.75f, lrn.attributes().getFloat("beta", 0f));
        assertEquals(1f, lrn.attributes().getFloat("bias", 0f));
        // Auxiliary heads (§5): 5×5/3 average pool, 1×1 conv 128, dense 1024, dropout 70%, dense 1000.
        assertArrayEquals(new int[] {128, 512, 1, 1}, paper.parameters().get("aux1.conv.weight").shape().dims());
        assertArrayEquals(new int[] {128, 528, 1, 1}, paper.parameters().get("aux2.conv.weight").shape().dims());
        assertArrayEquals(new int[] {1024, 2048}, paper.parameters().get("aux1.fc1.weight").shape().dims());
        assertArrayEquals(new int[] {1000, 1024}, paper.parameters().get("aux2.fc2.weight").shape().dims());
        Node auxPool = paper.nodes().stream().filter(n -> n.layer().equals("aux1") && n.op().equals("AveragePool")).findFirst().orElseThrow();
        assertArrayEquals(new long[] {5, 5}, auxPool.attributes().getInts("kernel_shape"));
        assertArrayEquals(new long[] {3, 3}, auxPool.attributes().getInts("strides"));

        // Table 1: "avg pool 7×7/1" to 1×1×1024, VALID, then "dropout (40%)".
        Node avg = paper.nodes().stream().filter(n -> n.layer().equals("avgpool") && n.op().equals("AveragePool")).findFirst().orElseThrow();
        assertArrayEquals(new long[] {7, 7}, avg.attributes().getInts("kernel_shape"));
        assertArrayEquals(new long[] {1, 1}, avg.attributes().getInts("strides"));
        assertArrayEquals(new long[] {0, 0, 0, 0}, avg.attributes().getInts("pads"));
        assertEquals("N×1024×1×1", avg.output().shape().toString());
        Node dropout = paper.nodes().stream().filter(n -> n.op().equals("Dropout") && n.layer().equals("avgpool")).findFirst().orElseThrow();
        assertEquals(0.4f, paper.constants().get(dropout.input(1).name()).floats()[0], 1e-7f);

        Graph bn = ZOO.build("googlenet-bn").graph();
        assertFalse(bn.nodes().stream().anyMatch(n -> n.op().equals("LRN")));
    }
}
