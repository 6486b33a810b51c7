package dev.cnnzoo.resnet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.InvalidConfigException;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.Summary;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.weights.Weights;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ResNetModelsTest {
    private static final ModelZoo ZOO = ModelZoo.load();

    /** Every id, in the zoo's order: by name, depths compared as numbers (resnet18 before resnet101). */
    static final List<String> IDS = List.of(
            "preact-resnet18", "preact-resnet34", "preact-resnet50", "preact-resnet101", "preact-resnet110",
            "preact-resnet152", "preact-resnet164", "preact-resnet200", "preact-resnet1001",
            "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
            "se-resnet50", "se-resnet101");

    private static long parameters(String id) {
        return ZOO.build(id).graph().trainableParameterCount();
    }

    private static Model build(String id, String... options) {
        ModelConfig.Builder b = ModelConfig.builder();
        for (int i = 0; i < options.length; i += 2) {
            b.option(options[i], options[i + 1]);
        }
        return ZOO.build(id, b.build());
    }

    @Test
    void serviceLoaderFindsEveryResNet() {
        assertEquals(IDS, ZOO.family("resnet").stream().map(ModelInfo::id).toList());
    }

    // ---- parameter counts, each against a published source ------------------------------------

    @ParameterizedTest(name = "{0}: {1} ({2})")
    @CsvSource(delimiter = '|', textBlock = """
            resnet18          | 11689512 | torchvision 0.14 resnet18 (the issue's figure; the conformance test recounts it)
            resnet34          | 21797672 | torchvision 0.14 resnet34
            resnet50          | 25557032 | torchvision 0.14 resnet50 (the conformance test recounts it)
            resnet101         | 44549160 | torchvision 0.14 resnet101
            resnet152         | 60192808 | torchvision 0.14 resnet152 (the conformance test recounts it)
            se-resnet50       | 28088024 | osmr/imgclsmob pytorch/README.md SE-ResNet-50 (Cadene's port of the authors' model); mmpretrain configs/seresnet/README.md 28.09M
            se-resnet101      | 49326872 | osmr/imgclsmob pytorch/README.md SE-ResNet-101; mmpretrain configs/seresnet/README.md 49.33M
            preact-resnet164  | 1703258  | osmr/imgclsmob pytorch/README.md PreResNet-164(BN), CIFAR-10; the authors' resnet-pre-act.lua counted by hand
            preact-resnet1001 | 10327706 | osmr/imgclsmob pytorch/README.md PreResNet-1001, CIFAR-10; the authors' resnet-pre-act.lua counted by hand
            """)
    void exactCountsMatchTheirSource(String id, long expected, String source) {
        assertEquals(expected, parameters(id), source);
    }

    /**
     * osmr/imgclsmob (pytorch/README.md) counts PreResNet-18...200b with a second BN → ReLU at the
     * start of the first unit, after the stem's own; He et al. 2016 §4.1 has one activation "right
     * after conv1" only, so the zoo's networks have one 64-map batch norm (128 parameters) fewer.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            preact-resnet18  | 11687848
            preact-resnet34  | 21796008
            preact-resnet50  | 25549480
            preact-resnet101 | 44541608
            preact-resnet152 | 60185256
            preact-resnet200 | 64666280
            """)
    void imagenetPreActivationCountsAreImgclsmobsLessItsSecondStemActivation(String id, long imgclsmob) {
        assertEquals(imgclsmob - 2 * 64, parameters(id));
    }

    /**
     * osmr/imgclsmob's PreResNet-110 (1,730,522 on CIFAR-10) widens its shortcuts with 1×1
     * projections; the zoo's, like He et al. 2015 §4.2's ResNet-110, pads with zeros (option A).
     */
    @Test
    void preActResNet110IsImgclsmobsLessItsTwoProjections() {
        assertEquals(1_730_522 - (16 * 32 + 32 * 64), parameters("preact-resnet110"));
    }

    /**
     * The papers' rounded figures. He et al. 2016, Table 4 (and He et al. 2015, Table 6 for the
     * 110): 1.7M for ResNet-110 and ResNet-164, 10.2M for ResNet-1001. The 10.2M is the weights of
     * the convolutions and the classifier (10,178,490): with batch norm's scales and shifts the
     * network has 10,327,706 (above), as the authors' code builds it. The 1.7M figures hold either way.
     */
    @Test
    void cifarCountsMatchTheIdentityMappingsPaperToItsPrecision() {
        assertEquals(1.7, millions(weightLayerParameters("preact-resnet110")));
        assertEquals(1.7, millions(weightLayerParameters("preact-resnet164")));
        assertEquals(10.2, millions(weightLayerParameters("preact-resnet1001")));
        assertEquals(10_178_490, weightLayerParameters("preact-resnet1001"));
        assertEquals(1.7, millions(parameters("preact-resnet110")));
        assertEquals(1.7, millions(parameters("preact-resnet164")));
    }

    /** Hu et al. 2017, §4 (model and computational complexity): SE-ResNet-50 has ~28.1 million parameters. */
    @Test
    void seResNet50MatchesThePaperToItsPrecision() {
        assertEquals(28.1, millions(parameters("se-resnet50")));
        // The same section: SE blocks add about 2.5 million parameters to ResNet-50's 25 million.
        assertEquals(2.5, millions(parameters("se-resnet50") - parameters("resnet50")));
    }

    private static double millions(long n) {
        return Math.round(n / 1e5) / 10.0;
    }

    /** Parameters of the convolutions and dense layers alone (no batch norm). */
    private static long weightLayerParameters(String id) {
        Graph g = ZOO.build(id).graph();
        return g.nodes().stream().filter(n -> n.op().equals("Conv") || n.op().equals("Gemm"))
                .flatMap(n -> n.inputs().subList(1, n.inputs().size()).stream())
                .mapToLong(v -> v.shape().elements()).sum();
    }

    // ---- structure -----------------------------------------------------------------------------

    /** The depth in every id's name counts its weight layers: convolutions outside shortcuts and SE blocks, and fc. */
    @ParameterizedTest
    @ValueSource(strings = {"resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "preact-resnet18",
            "preact-resnet200", "preact-resnet110", "preact-resnet164", "preact-resnet1001", "se-resnet50", "se-resnet101"})
    void depthInTheNameCountsTheWeightLayers(String id) {
        Graph g = ZOO.build(id).graph();
        long layers = g.nodes().stream()
                .filter(n -> n.op().equals("Gemm") || n.op().equals("Conv") && !n.layer().contains("downsample") && !n.layer().contains(".se."))
                .count();
        assertEquals(Long.parseLong(id.replaceAll("\\D", "")), layers);
    }

    /** Géron's Hands-On Machine Learning (2nd ed., ch. 14) on ResNet-34: "three residual units that output 64 feature maps, 4 RUs with 128 maps, 6 RUs with 256 maps, and 3 RUs with 512 maps". */
    @Test
    void resnet34HasTheReferenceTextsStages() {
        Map<String, List<String>> stages = unitOutputsByStage(ZOO.build("resnet34"));
        assertEquals(List.of("layer1", "layer2", "layer3", "layer4"), List.copyOf(stages.keySet()));
        assertEquals(units(3, "N×64×56×56"), stages.get("layer1"));
        assertEquals(units(4, "N×128×28×28"), stages.get("layer2"));
        assertEquals(units(6, "N×256×14×14"), stages.get("layer3"));
        assertEquals(units(3, "N×512×7×7"), stages.get("layer4"));
        // Basic units: two 3×3 convolutions, no third.
        Graph g = ZOO.build("resnet34").graph();
        assertArrayEquals(new int[] {64, 64, 3, 3}, g.parameters().get("layer1.0.conv2.weight").shape().dims());
        assertNull(g.parameters().get("layer1.0.conv3.weight"));
    }

    /** "ResNet-152 contains three such RUs that output 256 maps, then 8 RUs with 512 maps, a whopping 36 RUs with 1,024 maps, and finally 3 RUs with 2,048 maps." */
    @Test
    void resnet152HasTheReferenceTextsBottleneckStages() {
        Map<String, List<String>> stages = unitOutputsByStage(ZOO.build("resnet152"));
        assertEquals(units(3, "N×256×56×56"), stages.get("layer1"));
        assertEquals(units(8, "N×512×28×28"), stages.get("layer2"));
        assertEquals(units(36, "N×1024×14×14"), stages.get("layer3"));
        assertEquals(units(3, "N×2048×7×7"), stages.get("layer4"));
        // Bottlenecks: a 1×1 convolution to a quarter of the maps, a 3×3, a 1×1 restoring them.
        Graph g = ZOO.build("resnet152").graph();
        assertArrayEquals(new int[] {256, 1024, 1, 1}, g.parameters().get("layer3.35.conv1.weight").shape().dims());
        assertArrayEquals(new int[] {256, 256, 3, 3}, g.parameters().get("layer3.35.conv2.weight").shape().dims());
        assertArrayEquals(new int[] {1024, 256, 1, 1}, g.parameters().get("layer3.35.conv3.weight").shape().dims());
        // The 1×1 stride-2 projection where the shape changes, and only there.
        assertArrayEquals(new int[] {1024, 512, 1, 1}, g.parameters().get("layer3.0.downsample.0.weight").shape().dims());
        assertNull(g.parameters().get("layer3.1.downsample.0.weight"));
    }

    /** Each unit's output shape ("layer2.3" → its last operator's output), grouped by stage, from the summary at depth 2. */
    private static Map<String, List<String>> unitOutputsByStage(Model model) {
        return Summary.of(model.graph()).rows(2).stream()
                .filter(r -> r.layer().startsWith("layer"))
                .collect(Collectors.groupingBy(r -> r.layer().split("\\.")[0], LinkedHashMap::new,
                        Collectors.mapping(r -> r.output().toString(), Collectors.toList())));
    }

    private static List<String> units(int n, String shape) {
        return java.util.Collections.nCopies(n, shape);
    }

    /** torchvision's weights card gives ResNet-50 4.09 GFLOPS, which are multiply-accumulates (the zoo's MACs). */
    @Test
    void resnet50MacsMatchTorchvisionsFigure() {
        assertEquals(4.09, Math.round(Summary.of(ZOO.build("resnet50").graph()).macs() / 1e7) / 100.0);
        assertEquals(11.51, Math.round(Summary.of(ZOO.build("resnet152").graph()).macs() / 1e7) / 100.0);
    }

    @Test
    void preActivationUnitsNormaliseBeforeEachConvolution() {
        Graph g = ZOO.build("preact-resnet50").graph();
        // Inside a unit: BN → ReLU → conv; the sum is the unit's output, with no ReLU after it.
        Node conv2 = producer(g, "layer2.1.conv2");
        Node relu = g.producer(conv2.input(0));
        assertEquals("Relu", relu.op());
        assertEquals("BatchNormalization", g.producer(relu.input(0)).op());
        assertEquals("layer2.1.bn2", g.producer(relu.input(0)).layer());
        Node unitOutput = g.producer(producer(g, "layer2.2.bn1").input(0));
        assertEquals("Add", unitOutput.op());
        // Shortcuts are identities except where the shape changes, where a projection without batch norm takes the activated input.
        assertNull(g.parameters().get("layer2.1.downsample.0.weight"));
        assertNull(g.parameters().get("layer2.0.downsample.1.weight"));
        Node projection = producer(g, "layer2.0.downsample.0");
        assertEquals("Relu", g.producer(projection.input(0)).op());
        assertEquals("layer2.0.bn1", g.producer(g.producer(projection.input(0)).input(0)).layer());
        // The stem's activation is the first unit's: layer1.0 has no bn1 of its own, and the network ends with post_bn.
        assertNull(g.parameters().get("layer1.0.bn1.weight"));
        assertTrue(g.parameters().containsKey("post_bn.weight"));
    }

    @Test
    void preActResNet110PadsItsShortcutsWithZeros() {
        Graph g = ZOO.build("preact-resnet110").graph();
        assertTrue(g.parameters().keySet().stream().noneMatch(k -> k.contains("downsample")));
        Node pad = g.nodes().stream().filter(n -> n.op().equals("Pad")).findFirst().orElseThrow();
        assertEquals("layer2.0", pad.layer());
        assertEquals("N×32×16×16", pad.output().shape().toString());
        assertEquals(2, g.nodes().stream().filter(n -> n.op().equals("Pad")).count());
    }

    @Test
    void seUnitsGateTheResidualBranchBeforeTheSum() {
        Graph g = ZOO.build("se-resnet50").graph();
        // Reduction 16: 256 → 16 → 256 in the first stage, 2048 → 128 → 2048 in the last.
        assertArrayEquals(new int[] {16, 256, 1, 1}, g.parameters().get("layer1.0.se.fc1.weight").shape().dims());
        assertArrayEquals(new int[] {2048, 128, 1, 1}, g.parameters().get("layer4.2.se.fc2.weight").shape().dims());
        assertArrayEquals(new int[] {2048}, g.parameters().get("layer4.2.se.fc2.bias").shape().dims());
        Node scale = g.nodes().stream().filter(n -> n.op().equals("Mul") && n.layer().equals("layer3.4.se")).findFirst().orElseThrow();
        assertEquals("layer3.4.bn3", g.producer(scale.input(0)).layer());
        assertEquals("Add", g.consumers(scale.output()).get(0).op());
    }

    private static Node producer(Graph g, String layer) {
        return g.nodes().stream().filter(n -> n.layer().equals(layer)).findFirst().orElseThrow(() -> new AssertionError("no layer " + layer));
    }

    // ---- options -------------------------------------------------------------------------------

    @Test
    void strideInMovesTheDownsamplingBetweenTheBottlenecksConvolutions() {
        Summary v15 = Summary.of(build("resnet50").graph());
        Summary paper = Summary.of(build("resnet50", ResNetProvider.STRIDE_IN, "1x1").graph());
        Map<String, String> a = shapes(v15);
        Map<String, String> b = shapes(paper);
        // torchvision's "v1.5" (the default): the 1×1 sees all 56×56 pixels, the 3×3 strides.
        assertEquals("N×128×56×56", a.get("layer2.0.conv1"));
        assertEquals("N×128×28×28", a.get("layer2.0.conv2"));
        // The paper's (He et al. 2015, Table 1 and the released Caffe models): the first 1×1 strides.
        assertEquals("N×128×28×28", b.get("layer2.0.conv1"));
        assertEquals("N×128×28×28", b.get("layer2.0.conv2"));
        // Same weights, different computation: the paper's form spends fewer MACs.
        assertEquals(v15.parameters(), paper.parameters());
        assertTrue(paper.macs() < v15.macs());
        // The CIFAR networks default to their authors' code, which strides in the 1×1.
        assertEquals("N×32×16×16", shapes(Summary.of(build("preact-resnet164").graph())).get("layer2.0.conv1"));
        assertEquals("N×32×32×32",
                shapes(Summary.of(build("preact-resnet164", ResNetProvider.STRIDE_IN, "3x3").graph())).get("layer2.0.conv1"));
    }

    private static Map<String, String> shapes(Summary s) {
        return s.rows().stream().collect(Collectors.toMap(Summary.Row::layer, r -> r.output().toString()));
    }

    @Test
    void zeroInitLastStartsEveryUnitAsItsShortcut() {
        Model post = build("resnet50", ResNetProvider.ZERO_INIT_LAST, "true");
        Weights w = Weights.initial(post.graph(), 3);
        assertAllEqual(0f, w.get("layer3.5.bn3.weight"));
        assertAllEqual(1f, w.get("layer3.5.bn2.weight"));
        assertAllEqual(0f, w.get("layer1.0.bn3.weight"));
        Weights basic = Weights.initial(build("resnet18", ResNetProvider.ZERO_INIT_LAST, "yes").graph(), 3);
        assertAllEqual(0f, basic.get("layer4.1.bn2.weight"));
        // Pre-activation units end in a convolution: its weights start at zero.
        Weights pre = Weights.initial(build("preact-resnet164", ResNetProvider.ZERO_INIT_LAST, "1").graph(), 3);
        assertAllEqual(0f, pre.get("layer2.7.conv3.weight"));
        // Off by default, as in torchvision.
        assertAllEqual(1f, Weights.initial(ZOO.build("resnet50").graph(), 3).get("layer3.5.bn3.weight"));
        assertNotEquals(0f, Weights.initial(ZOO.build("preact-resnet164").graph(), 3).get("layer2.7.conv3.weight").floats()[0]);
    }

    private static void assertAllEqual(float expected, Tensor t) {
        for (float f : t.floats()) {
            assertEquals(expected, f);
        }
    }

    /**
     * The four unit stages keep the shapes the former {@code features-only} family option gave them;
     * the stem's stride-2 activation ({@code act1}) is now stage1, one stage more, so layer1..layer4
     * are stage2..stage5.
     */
    @Test
    void featuresOnlyOutputsTheStemsStride2MapThenEveryStageOfUnits() {
        Graph g = ZOO.build("resnet50", ModelConfig.builder().featuresOnly(true).build()).graph();
        assertEquals(List.of("stage1", "stage2", "stage3", "stage4", "stage5"), g.outputs().stream().map(Graph.Output::name).toList());
        assertEquals(List.of("N×64×112×112", "N×256×56×56", "N×512×28×28", "N×1024×14×14", "N×2048×7×7"),
                g.outputs().stream().map(o -> o.value().shape().toString()).toList());
        assertFalse(g.parameters().containsKey("fc.weight"));
        // Three stages on CIFAR (its stem keeps full resolution, as layer1 does); a pre-activation
        // network's last stage is taken after its final BN → ReLU (as timm's).
        Graph cifar = ZOO.build("preact-resnet164", ModelConfig.builder().featuresOnly(true).build()).graph();
        assertEquals(List.of("N×64×32×32", "N×128×16×16", "N×256×8×8"),
                cifar.outputs().stream().map(o -> o.value().shape().toString()).toList());
        Node last = cifar.producer(cifar.outputs().get(2).value());
        assertEquals("Relu", last.op());
        assertEquals("post_bn", last.layer());
    }

    @Test
    void classesAndInputChannelsReshapeTheStemAndTheHead() {
        Graph g = ZOO.build("resnet18", ModelConfig.builder().classes(10).input(1, 64, 64).build()).graph();
        assertArrayEquals(new int[] {64, 1, 7, 7}, g.parameters().get("conv1.weight").shape().dims());
        assertArrayEquals(new int[] {10, 512}, g.parameters().get("fc.weight").shape().dims());
        assertEquals("N×10", g.mainOutput().shape().toString());
        Graph headless = ZOO.build("se-resnet50", ModelConfig.builder().includeTop(false).build()).graph();
        assertEquals("N×2048", headless.mainOutput().shape().toString());
        // Global pooling lets any input size through; 7×7 at 224 becomes 10×10 at 320 (He et al. 2016, Table 5's test size).
        Graph large = ZOO.build("preact-resnet200", ModelConfig.builder().inputSize(320, 320).includeTop(false)
                .globalPool(dev.cnnzoo.nn.GlobalPool.NONE).build()).graph();
        assertEquals("N×2048×10×10", large.mainOutput().shape().toString());
    }

    @Test
    void badOptionsAreNamed() {
        InvalidConfigException stride = assertThrows(InvalidConfigException.class,
                () -> build("resnet50", ResNetProvider.STRIDE_IN, "2x2"));
        assertEquals("option stride-in of resnet50 is 3x3 or 1x1, not '2x2'", stride.getMessage());
        // Basic units always stride in their first 3×3: the option does not exist for them.
        InvalidConfigException basic = assertThrows(InvalidConfigException.class,
                () -> build("resnet18", ResNetProvider.STRIDE_IN, "1x1"));
        assertTrue(basic.getMessage().startsWith("unknown option 'stride-in' for resnet18"), basic.getMessage());
        InvalidConfigException flag = assertThrows(InvalidConfigException.class,
                () -> build("resnet18", ResNetProvider.ZERO_INIT_LAST, "maybe"));
        assertEquals("option zero-init-last is true or false, not 'maybe'", flag.getMessage());
        // Feature extraction is ModelConfig.featuresOnly for every model now, no longer a ResNet option.
        InvalidConfigException gone = assertThrows(InvalidConfigException.class, () -> build("resnet18", "features-only", "true"));
        assertEquals("unknown option 'features-only' for resnet18; it understands [zero-init-last]", gone.getMessage());
    }

    @Test
    void metadataNamesThePapers() {
        ModelInfo resnet = ZOO.find("resnet152");
        assertEquals("1512.03385", resnet.paper().arxiv());
        assertEquals(21.43, resnet.reported().top1());
        assertEquals("1603.05027", ZOO.find("preact-resnet1001").paper().arxiv());
        assertArrayEquals(new int[] {3, 32, 32}, ZOO.find("preact-resnet1001").inputShape());
        assertEquals(10, ZOO.find("preact-resnet164").classes());
        assertEquals("1709.01507", ZOO.find("se-resnet101").paper().arxiv());
        assertTrue(ZOO.find("resnet50").options().containsKey(ResNetProvider.STRIDE_IN));
        assertEquals(java.util.Set.of(ResNetProvider.ZERO_INIT_LAST), ZOO.find("resnet18").options().keySet());
    }
}
