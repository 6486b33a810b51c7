package dev.cnnzoo.googlenet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.InvalidConfigException;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.Summary;
import dev.cnnzoo.graph.Value;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class InceptionModelsTest {
    private static final ModelZoo ZOO = ModelZoo.load();
    private static final ModelConfig NO_AUX = ModelConfig.builder().auxiliary(false).build();

    @Test
    void serviceLoaderFindsTheInceptionFamily() {
        assertEquals(List.of("googlenet", "googlenet-bn", "inception-resnet-v1", "inception-resnet-v2", "inception-v3",
                "inception-v4", "xception"), ZOO.family("inception").stream().map(ModelInfo::id).toList());
    }

    // ---- parameter counts, each against its source ------------------------------------------

    @Test
    void googlenetCountsTheBvlcCaffeModel() {
        // BVLC GoogLeNet (Caffe model zoo, deploy.prototxt), as CaffeJS counts it: 6,998,552, no auxiliary heads.
        assertEquals(6_998_552, count("googlenet", NO_AUX));
        // With the heads of §5: per head a 1×1 conv of 128 (+bias), dense 2048→1024 and 1024→1000:
        // (512·128 + 128) + 2,098,176 + 1,025,000 on 4a and (528·128 + 128) + the same on 4d.
        assertEquals(6_998_552 + 3_188_840 + 3_190_888, count("googlenet", ModelConfig.defaults()));
    }

    @Test
    void googlenetBnCountsTorchvisionsGoogLeNet() {
        // torchvision GoogLeNet_Weights.IMAGENET1K_V1 meta "num_params": 6,624,904 (no aux);
        // sum(p.numel()) of googlenet(aux_logits=True): 13,004,888.
        assertEquals(6_624_904, count("googlenet-bn", NO_AUX));
        assertEquals(13_004_888, count("googlenet-bn", ModelConfig.defaults()));
    }

    @Test
    void inceptionV3CountsTorchvisionsInceptionV3() {
        // torchvision Inception_V3_Weights.IMAGENET1K_V1 meta "num_params": 27,161,264, the auxiliary head included;
        // inception_v3(aux_logits=False): 23,834,568.
        assertEquals(27_161_264, count("inception-v3", ModelConfig.defaults()));
        assertEquals(23_834_568, count("inception-v3", NO_AUX));
    }

    @Test
    void inceptionV4AndInceptionResNetV2CountTimmsModels() {
        // timm inception_v4 and inception_resnet_v2, 1000 classes.
        assertEquals(42_679_816, count("inception-v4", ModelConfig.defaults()));
        assertEquals(55_843_464, count("inception-resnet-v2", ModelConfig.defaults()));
    }

    @Test
    void inceptionResNetV1CountsThePapersFigures() {
        // No released model to count; this is the sum over the paper's figures, worked out here by
        // hand. A convolution holds in·out·kh·kw weights and 2·out batch-norm scalars; a residual
        // projection in·out weights and out biases.
        long stem = conv(3, 32, 3, 3) + conv(32, 32, 3, 3) + conv(32, 64, 3, 3) + conv(64, 80, 1, 1)
                + conv(80, 192, 3, 3) + conv(192, 256, 3, 3);                                             // Figure 14
        long blockA = conv(256, 32, 1, 1) + conv(256, 32, 1, 1) + conv(32, 32, 3, 3)
                + conv(256, 32, 1, 1) + conv(32, 32, 3, 3) + conv(32, 32, 3, 3) + projection(96, 256);     // Figure 10
        long reductionA = conv(256, 384, 3, 3) + conv(256, 192, 1, 1) + conv(192, 192, 3, 3) + conv(192, 256, 3, 3); // Figure 7, k,l,m,n = 192,192,256,384
        long blockB = conv(896, 128, 1, 1) + conv(896, 128, 1, 1) + conv(128, 128, 1, 7) + conv(128, 128, 7, 1)
                + projection(256, 896);                                                                      // Figure 11
        long reductionB = conv(896, 256, 1, 1) + conv(256, 384, 3, 3) + conv(896, 256, 1, 1) + conv(256, 256, 3, 3)
                + conv(896, 256, 1, 1) + conv(256, 256, 3, 3) + conv(256, 256, 3, 3);                      // Figure 12
        long blockC = conv(1792, 192, 1, 1) + conv(1792, 192, 1, 1) + conv(192, 192, 1, 3) + conv(192, 192, 3, 1)
                + projection(384, 1792);                                                                     // Figure 13
        long classifier = 1792L * 1000 + 1000;
        long expected = stem + 5 * blockA + reductionA + 10 * blockB + reductionB + 5 * blockC + classifier; // Figure 15
        assertEquals(22_756_328, expected);
        assertEquals(expected, count("inception-resnet-v1", ModelConfig.defaults()));
    }

    private static long conv(int in, int out, int kh, int kw) {
        return (long) in * out * kh * kw + 2L * out;
    }

    private static long projection(int in, int out) {
        return (long) in * out + out;
    }

    @Test
    void xceptionCountsKerasXception() {
        // keras.applications.Xception(include_top=True).summary(): total 22,910,480, of which 22,855,952
        // trainable and 54,528 the batch norms' moving means and variances.
        Summary s = Summary.of(ZOO.build("xception").graph());
        assertEquals(22_855_952, s.parameters());
        assertEquals(54_528, s.stateScalars());
        assertEquals(22_910_480, s.parameters() + s.stateScalars());
    }

    private static long count(String id, ModelConfig config) {
        return ZOO.build(id, config).graph().trainableParameterCount();
    }

    // ---- structure --------------------------------------------------------------------------

    @Test
    void inceptionV3ReachesItsThreeGridsWithTheWidthsOfTheRelease() {
        Map<String, String> shapes = shapes("inception-v3", 1);
        assertEquals("N×192×35×35", shapes.get("maxpool2"));
        assertEquals("N×288×35×35", shapes.get("Mixed_5d"));
        assertEquals("N×768×17×17", shapes.get("Mixed_6a"));
        assertEquals("N×768×17×17", shapes.get("Mixed_6e"));
        assertEquals("N×1280×8×8", shapes.get("Mixed_7a"));
        assertEquals("N×2048×8×8", shapes.get("Mixed_7c"));
        // §3.2: n×n factorised as 1×n then n×1 with n = 7 on the 17×17 grid.
        Graph g = ZOO.build("inception-v3").graph();
        assertArrayEquals(new int[] {160, 160, 1, 7}, g.parameters().get("Mixed_6c.branch7x7_2.conv.weight").shape().dims());
        assertArrayEquals(new int[] {192, 160, 7, 1}, g.parameters().get("Mixed_6c.branch7x7_3.conv.weight").shape().dims());
        assertArrayEquals(new int[] {768, 128, 5, 5}, g.parameters().get("AuxLogits.conv1.conv.weight").shape().dims());
    }

    @Test
    void inceptionV4FollowsFigure9AndTimmsNames() {
        Map<String, String> shapes = shapes("inception-v4", 2);
        assertEquals("N×384×35×35", shapes.get("features.5"));   // the stem, Figure 3
        assertEquals("N×384×35×35", shapes.get("features.9"));   // 4 × Inception-A
        assertEquals("N×1024×17×17", shapes.get("features.10")); // Reduction-A
        assertEquals("N×1024×17×17", shapes.get("features.17")); // 7 × Inception-B
        assertEquals("N×1536×8×8", shapes.get("features.18"));   // Reduction-B
        assertEquals("N×1536×8×8", shapes.get("features.21"));   // 3 × Inception-C
        Graph g = ZOO.build("inception-v4").graph();
        // A few of timm's state-dict keys with their shapes.
        assertShape(g, "features.0.conv.weight", 32, 3, 3, 3);
        assertShape(g, "features.3.conv.conv.weight", 96, 64, 3, 3);   // Mixed3a's ConvNormAct is called conv
        assertShape(g, "features.4.branch1.3.conv.weight", 96, 64, 3, 3);
        assertShape(g, "features.10.branch1.2.conv.weight", 256, 224, 3, 3);
        assertShape(g, "features.17.branch2.4.conv.weight", 256, 224, 1, 7);
        assertShape(g, "features.21.branch2_3b.conv.weight", 256, 512, 3, 1);
        assertShape(g, "features.21.branch3.1.bn.running_var", 256);
        assertShape(g, "last_linear.weight", 1000, 1536);
    }

    @Test
    void inceptionResNetV2FollowsTimmsModelAndScalesItsResiduals() {
        Map<String, String> shapes = shapes("inception-resnet-v2", 1);
        assertEquals("N×320×35×35", shapes.get("mixed_5b"));
        assertEquals("N×320×35×35", shapes.get("repeat"));
        assertEquals("N×1088×17×17", shapes.get("mixed_6a"));
        assertEquals("N×1088×17×17", shapes.get("repeat_1"));
        assertEquals("N×2080×8×8", shapes.get("mixed_7a"));
        assertEquals("N×2080×8×8", shapes.get("block8"));
        assertEquals("N×1536×8×8", shapes.get("conv2d_7b"));
        Graph g = ZOO.build("inception-resnet-v2").graph();
        assertShape(g, "conv2d_1a.conv.weight", 32, 3, 3, 3);
        assertShape(g, "repeat.9.conv2d.bias", 320);
        assertShape(g, "repeat_1.19.branch1.2.conv.weight", 192, 160, 7, 1);
        assertShape(g, "repeat_2.8.branch1.1.bn.weight", 224);
        assertShape(g, "block8.conv2d.weight", 2080, 448, 1, 1);
        assertShape(g, "classif.weight", 1000, 1536);
        // §3.3: residuals scaled by 0.1–0.3 before the addition; the last block is unscaled.
        assertEquals(List.of(0.17f), residualScales(g, "repeat.0"));
        assertEquals(List.of(0.10f), residualScales(g, "repeat_1.7"));
        assertEquals(List.of(0.20f), residualScales(g, "repeat_2.8"));
        assertEquals(List.of(), residualScales(g, "block8"));
    }

    @Test
    void inceptionResNetV1FollowsFigures14And15() {
        Map<String, String> shapes = shapes("inception-resnet-v1", 1);
        assertEquals("N×256×35×35", shapes.get("conv2d_4b"));
        assertEquals("N×256×35×35", shapes.get("repeat"));
        assertEquals("N×896×17×17", shapes.get("mixed_6a"));
        assertEquals("N×896×17×17", shapes.get("repeat_1"));
        assertEquals("N×1792×8×8", shapes.get("mixed_7a"));
        assertEquals("N×1792×8×8", shapes.get("repeat_2"));
        Graph g = ZOO.build("inception-resnet-v1").graph();
        assertNotNull(g.parameters().get("repeat.4.conv2d.weight"));
        assertEquals(null, g.parameters().get("repeat.5.conv2d.weight"), "5 × Inception-ResNet-A");
        assertNotNull(g.parameters().get("repeat_1.9.conv2d.weight"));
        assertEquals(null, g.parameters().get("repeat_1.10.conv2d.weight"), "10 × Inception-ResNet-B");
        assertEquals(null, g.parameters().get("repeat_2.5.conv2d.weight"), "5 × Inception-ResNet-C");
        assertEquals(List.of(0.17f), residualScales(g, "repeat.4"));
        assertEquals(List.of(0.20f), residualScales(g, "repeat_2.4"));
    }

    @Test
    void xceptionHasEightMiddleFlowBlocksAndItsFlowsWidths() {
        Map<String, String> shapes = shapes("xception", 1);
        assertEquals("N×64×147×147", shapes.get("block1_conv2_bn"));
        assertEquals("N×128×74×74", shapes.get("block2_pool"));
        assertEquals("N×728×19×19", shapes.get("block4_pool"));
        assertEquals("N×728×19×19", shapes.get("block12_sepconv3_bn"));
        assertEquals(null, shapes.get("block13_sepconv3_bn"));
        assertEquals("N×1024×10×10", shapes.get("block13_pool"));
        assertEquals("N×2048×10×10", shapes.get("block14_sepconv2_bn"));
        Graph g = ZOO.build("xception").graph();
        assertShape(g, "block5_sepconv1.depthwise.weight", 728, 1, 3, 3);
        assertShape(g, "block5_sepconv1.pointwise.weight", 728, 728, 1, 1);
        assertShape(g, "block13_shortcut.weight", 1024, 728, 1, 1);
        assertShape(g, "predictions.weight", 1000, 2048);
        for (int block = 5; block <= 12; block++) {
            for (int i = 1; i <= 3; i++) {
                assertNotNull(g.parameters().get("block" + block + "_sepconv" + i + "_bn.running_mean"), "middle flow block " + block);
            }
        }
    }

    private static Map<String, String> shapes(String id, int depth) {
        return Summary.of(ZOO.build(id).graph()).rows(depth).stream()
                .collect(Collectors.toMap(Summary.Row::layer, r -> r.output().toString()));
    }

    private static void assertShape(Graph g, String name, int... dims) {
        assertNotNull(g.parameters().get(name), name + " is missing");
        assertArrayEquals(dims, g.parameters().get(name).shape().dims(), name);
    }

    /** The constant factors the residual branch of block {@code layer} is multiplied by. */
    private static List<Float> residualScales(Graph g, String layer) {
        return g.nodes().stream().filter(n -> n.layer().equals(layer) && n.op().equals("Mul"))
                .map(n -> g.constants().get(n.input(1).name()).floats()[0]).toList();
    }

    // ---- configuration ----------------------------------------------------------------------

    @Test
    void auxiliaryHeadsFollowTheConfiguration() {
        for (String id : new String[] {"googlenet", "googlenet-bn", "inception-v3"}) {
            Graph withHeads = ZOO.build(id).graph();
            assertTrue(withHeads.outputs().get(0).name().equals("logits") && !withHeads.outputs().get(0).auxiliary(), id);
            assertTrue(withHeads.outputs().stream().skip(1).allMatch(Graph.Output::auxiliary), id);
            Graph without = ZOO.build(id, NO_AUX).graph();
            assertEquals(List.of("logits"), without.outputs().stream().map(Graph.Output::name).toList(), id);
            // A headless network has no classifiers at all, auxiliary ones included.
            Graph features = ZOO.build(id, ModelConfig.builder().includeTop(false).build()).graph();
            assertEquals(List.of("features"), features.outputs().stream().map(Graph.Output::name).toList(), id);
        }
        assertEquals(List.of("logits", "aux1", "aux2"), ZOO.build("googlenet").graph().outputs().stream().map(Graph.Output::name).toList());
        assertEquals(List.of("logits", "aux1"), ZOO.build("inception-v3").graph().outputs().stream().map(Graph.Output::name).toList());
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> ZOO.build("xception", ModelConfig.builder().auxiliary(true).build()));
        assertTrue(e.getMessage().contains("no auxiliary classifiers"), e.getMessage());
    }

    @Test
    void classesFeaturesAndInputSizeOverrides() {
        Graph ten = ZOO.build("inception-v3", ModelConfig.builder().classes(10).build()).graph();
        assertEquals("N×10", ten.mainOutput().shape().toString());
        assertEquals("N×10", ten.outputs().get(1).value().shape().toString(), "the auxiliary head predicts the same classes");
        Value features = ZOO.build("inception-resnet-v2", ModelConfig.builder().includeTop(false).build()).graph().mainOutput();
        assertEquals("N×1536", features.shape().toString());
        Value maps = ZOO.build("xception", ModelConfig.builder().includeTop(false).globalPool(dev.cnnzoo.nn.GlobalPool.NONE).build())
                .graph().mainOutput();
        assertEquals("N×2048×10×10", maps.shape().toString());
        // Larger inputs pass through the fully convolutional ones.
        assertEquals("N×1000", ZOO.build("inception-v4", ModelConfig.builder().inputSize(331, 331).build()).graph().mainOutput().shape().toString());
    }

    @Test
    void tooSmallAnInputNamesTheLayerItDiesIn() {
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> ZOO.build("googlenet", ModelConfig.builder().inputSize(96, 96).build()));
        assertTrue(e.getMessage().startsWith("input 3×96×96 does not fit googlenet (default 3×224×224): layer 'avgpool'"), e.getMessage());
        InvalidConfigException v3 = assertThrows(InvalidConfigException.class,
                () -> ZOO.build("inception-v3", ModelConfig.builder().inputSize(64, 64).build()));
        assertTrue(v3.getMessage().startsWith("input 3×64×64 does not fit inception-v3 (default 3×299×299)"), v3.getMessage());
    }

    @Test
    void everyConvolutionOfTheBatchNormModelsIsFollowedByBatchNorm() {
        for (String id : new String[] {"googlenet-bn", "inception-v3", "inception-v4"}) {
            Graph g = ZOO.build(id).graph();
            for (Node n : g.nodes()) {
                if (n.op().equals("Conv")) {
                    assertEquals("BatchNormalization", g.consumers(n.output()).get(0).op(), id + " " + n.name());
                    assertEquals(2, n.inputs().size(), id + " " + n.name() + " has a bias before batch norm");
                }
            }
            g.nodes().stream().filter(n -> n.op().equals("BatchNormalization"))
                    .forEach(n -> assertEquals(1e-3f, n.attributes().getFloat("epsilon", 0f), id + " " + n.name()));
        }
    }
}
