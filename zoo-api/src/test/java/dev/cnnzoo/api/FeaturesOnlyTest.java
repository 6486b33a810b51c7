package dev.cnnzoo.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cnnzoo.graph.FeatureStage;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.GlobalPool;
import dev.cnnzoo.nn.Head;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Pool;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link ModelConfig#featuresOnly()} and {@link ModelConfig#outIndices()} through {@link ModelZoo#build}. */
class FeaturesOnlyTest {
    /** The toy models, built with three marked stages: full resolution, /2 after a pool, /4 after a stride-2 convolution. */
    private static final class StagedToy implements ModelProvider {
        @Override
        public List<ModelEntry> models() {
            return new ToyProvider().models().stream().map(e -> ModelEntry.of(e.info(), StagedToy::build)).toList();
        }

        private static Graph build(ModelInfo info, ModelConfig config) {
            Net net = new Net(info.id());
            int[] size = config.inputSize();
            Value x = net.input(config.inputChannels(), size[0], size[1]);
            x = net.feature("conv1", net.relu(net.conv("conv1", x, Conv.of(8, 3).pad(1))));
            x = net.maxPool(x, Pool.of(2));
            x = net.feature("conv2", net.relu(net.conv("conv2", x, Conv.of(8, 3).pad(1))));
            x = net.feature("conv3", net.relu(net.conv("conv3", x, Conv.of(16, 3).stride(2).pad(1))));
            net.top(x, config.head(), f -> net.dense("fc", net.flatten(net.globalAvgPool(f)), config.classes()));
            return net.build();
        }
    }

    private static final ModelZoo ZOO = ModelZoo.of(List.of(new StagedToy()));

    private static Graph build(ModelConfig config) {
        return ZOO.build("toy-cnn", config).graph();
    }

    private static String message(ModelConfig config) {
        return assertThrows(InvalidConfigException.class, () -> ZOO.build("toy-cnn", config)).getMessage();
    }

    @Test
    void everyStageIsAnOutputAndTheClassifierIsGone() {
        Graph g = build(ModelConfig.builder().featuresOnly(true).build());
        assertEquals(List.of("stage1", "stage2", "stage3"), g.outputs().stream().map(Graph.Output::name).toList());
        assertEquals(List.of("N×8×16×16", "N×8×8×8", "N×16×4×4"), g.outputs().stream().map(o -> o.value().shape().toString()).toList());
        assertEquals(List.of(1, 2, 4), g.featureStages().stream().map(FeatureStage::reduction).toList());
        assertEquals(List.of("conv1", "conv2", "conv3"), g.featureStages().stream().map(FeatureStage::layer).toList());
        assertEquals(false, g.parameters().containsKey("fc.weight"));
        // Built with its classifier, the network records the same stages (zoo info lists them) and outputs logits.
        Graph full = build(ModelConfig.defaults());
        assertEquals(List.of("logits"), full.outputs().stream().map(Graph.Output::name).toList());
        assertEquals(List.of("conv1", "conv2", "conv3"), full.featureStages().stream().map(FeatureStage::layer).toList());
    }

    @Test
    void outIndicesKeepThoseStagesUnderTheirNamesAndPruneTheRest() {
        Graph g = build(ModelConfig.builder().featuresOnly(true).outIndices(1, 3).build());
        assertEquals(List.of("stage1", "stage3"), g.outputs().stream().map(Graph.Output::name).toList());
        assertEquals(List.of("stage1", "stage3"), g.featureStages().stream().map(FeatureStage::name).toList());
        Graph first = build(ModelConfig.builder().featuresOnly(true).outIndices(1).build());
        assertEquals(List.of("conv1.weight", "conv1.bias"), List.copyOf(first.parameters().keySet()));
    }

    @Test
    void anOutIndexPastTheLastStageNamesTheStagesThereAre() {
        assertEquals("out index 4 is past the last feature stage of toy-cnn, which has 3: stage1 (conv1, /1), stage2 (conv2, /2), "
                + "stage3 (conv3, /4)", message(ModelConfig.builder().featuresOnly(true).outIndices(2, 4).build()));
    }

    @Test
    void outIndicesAreIncreasingStageNumbersFromOne() {
        String expected = "out indices are stage numbers from 1 (stage1) up, in increasing order; got ";
        assertEquals(expected + "[0, 1]", message(ModelConfig.builder().featuresOnly(true).outIndices(0, 1).build()));
        assertEquals(expected + "[3, 1]", message(ModelConfig.builder().featuresOnly(true).outIndices(3, 1).build()));
        assertEquals(expected + "[2, 2]", message(ModelConfig.builder().featuresOnly(true).outIndices(2, 2).build()));
        assertEquals("out indices name at least one feature stage", message(ModelConfig.builder().featuresOnly(true).outIndices().build()));
        assertEquals("out indices pick feature stages, which a network outputs only when built for its features only",
                message(ModelConfig.builder().outIndices(1).build()));
    }

    @Test
    void whatAFeatureExtractorCannotAlsoBeIsRefused() {
        assertEquals("a network built for its features only has no classifier (top) to include",
                message(ModelConfig.builder().featuresOnly(true).includeTop(true).build()));
        assertEquals("global pooling reduces a headless network's last maps; a network built for its features only outputs "
                + "every stage's maps unpooled", message(ModelConfig.builder().featuresOnly(true).globalPool(GlobalPool.AVG).build()));
        // includeTop(false) says the same thing as featuresOnly and is accepted.
        assertEquals(Head.stages(), ZOO.build("toy-cnn", ModelConfig.builder().featuresOnly(true).includeTop(false).build()).config().head());
    }

    @Test
    void aProviderThatMarksNoStagesCannotBeBuiltForItsFeaturesOnly() {
        ModelZoo plain = ModelZoo.of(List.of(new ToyProvider()));
        assertEquals("toy-cnn marks no feature stages, so it cannot be built for its features only",
                assertThrows(InvalidConfigException.class,
                        () -> plain.build("toy-cnn", ModelConfig.builder().featuresOnly(true).build())).getMessage());
    }

    @Test
    @SuppressWarnings("unchecked")
    void theSettingsRoundTripThroughADescription() throws Exception {
        ModelConfig c = ModelConfig.builder().featuresOnly(true).outIndices(2, 3).build();
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        java.util.Map<String, Object> back = json.readValue(json.writeValueAsString(c.describe()), java.util.Map.class);
        ModelConfig again = ModelConfig.fromDescription(back);
        assertEquals(c.describe(), again.describe());
        ModelConfig resolved = again.resolve(ZOO.find("toy-cnn"));
        assertEquals(List.of(2, 3), resolved.outIndices());
        // What a model records (zoo.config, a checkpoint) is its resolved configuration: it builds the same network again.
        Model rebuilt = ZOO.build("toy-cnn", ModelConfig.fromDescription(json.readValue(json.writeValueAsString(resolved.describe()),
                java.util.Map.class)));
        assertEquals(List.of("stage2", "stage3"), rebuilt.graph().outputs().stream().map(Graph.Output::name).toList());
        // A plugin that knows nothing of stages reads unpooled features from a resolved features-only configuration.
        assertEquals(GlobalPool.NONE, resolved.globalPool());
        assertEquals(Head.logits(), ModelConfig.defaults().resolve(ZOO.find("toy-cnn")).head());
        assertEquals(Head.features(GlobalPool.MAX),
                ModelConfig.builder().includeTop(false).globalPool(GlobalPool.MAX).build().resolve(ZOO.find("toy-cnn")).head());
    }
}
