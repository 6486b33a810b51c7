package dev.cnnzoo.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ModelZooTest {
    @Test
    void serviceLoaderFindsAProviderRegisteredOnlyOnTheTestClassPath() {
        ModelZoo zoo = ModelZoo.load();
        assertEquals(List.of("toy-cnn", "toy-cnn-wide"), zoo.family("toy").stream().map(ModelInfo::id).toList());
    }

    @Test
    void globsAndFamilies() {
        ModelZoo zoo = ModelZoo.of(List.of(new ToyProvider()));
        assertEquals(2, zoo.list("toy*").size());
        assertEquals(List.of("toy-cnn-wide"), zoo.list("*wide").stream().map(ModelInfo::id).toList());
        assertEquals(List.of("toy-cnn"), zoo.list("toy-cn?").stream().map(ModelInfo::id).toList());
        assertEquals(2, zoo.list("toy").size(), "a family name lists the family");
        assertTrue(zoo.list("resnet*").isEmpty());
    }

    @Test
    void unknownIdSuggestsTheNearest() {
        ModelZoo zoo = ModelZoo.of(List.of(new ToyProvider()));
        UnknownModelException e = assertThrows(UnknownModelException.class, () -> zoo.find("toy-cmn"));
        assertEquals("toy-cnn", e.suggestions().get(0));
        assertTrue(e.getMessage().contains("did you mean toy-cnn"), e.getMessage());
        assertTrue(assertThrows(UnknownModelException.class, () -> zoo.find("alexnet")).suggestions().isEmpty());
    }

    @Test
    void invalidValuesAreNamed() {
        ModelZoo zoo = ModelZoo.of(List.of(new ToyProvider()));
        assertEquals("classes must be at least 1, got 0", assertThrows(InvalidConfigException.class,
                () -> zoo.build("toy-cnn", ModelConfig.builder().classes(0).build())).getMessage());
        assertTrue(assertThrows(InvalidConfigException.class,
                () -> zoo.build("toy-cnn", ModelConfig.builder().dropout(1.5).build())).getMessage().contains("dropout rate"));
        assertTrue(assertThrows(InvalidConfigException.class,
                () -> zoo.build("toy-cnn", ModelConfig.builder().auxiliary(true).build())).getMessage().contains("no auxiliary"));
        assertTrue(assertThrows(InvalidConfigException.class,
                () -> zoo.build("toy-cnn", ModelConfig.builder().option("depth", "9").build())).getMessage().contains("unknown option 'depth'"));
    }

    @Test
    void inputTooSmallNamesTheInputAndTheLayer() {
        ModelZoo zoo = ModelZoo.of(List.of(new ToyProvider()));
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> zoo.build("toy-cnn", ModelConfig.builder().input(3, 2, 2).build()));
        assertTrue(e.getMessage().startsWith("input 3×2×2 does not fit toy-cnn (default 3×16×16): layer 'conv2'"), e.getMessage());
    }

    @Test
    void configOverridesReachTheGraph() {
        ModelZoo zoo = ModelZoo.of(List.of(new ToyProvider()));
        Model m = zoo.build("toy-cnn", ModelConfig.builder().classes(7).input(1, 20, 24).build());
        assertEquals("N×7", m.graph().mainOutput().shape().toString());
        assertEquals("N×1×20×24", m.graph().inputs().get(0).shape().toString());
        Model headless = zoo.build("toy-cnn", ModelConfig.builder().includeTop(false).build());
        assertEquals("features", headless.graph().mainOutput().name());
        assertEquals("N×8", headless.graph().mainOutput().shape().toString());
    }

    @Test
    void aDescriptionRoundTrips() throws Exception {
        ModelConfig c = ModelConfig.builder().classes(7).input(1, 20, 24).includeTop(false)
                .globalPool(dev.cnnzoo.nn.GlobalPool.MAX).dropout(0.25).seed(9).option("k", "v").build();
        // Through JSON, as a checkpoint stores it.
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        @SuppressWarnings("unchecked")
        java.util.Map<String, Object> back = json.readValue(json.writeValueAsString(c.describe()), java.util.Map.class);
        assertEquals(c.describe(), ModelConfig.fromDescription(back).describe());
    }

    @Test
    void flagsAreStrict() {
        assertTrue(ModelConfig.builder().option("zero-init", "yes").build().flag("zero-init"));
        assertTrue(!ModelConfig.defaults().flag("zero-init"), "an absent flag is off");
        assertEquals("option zero-init is true or false, not 'ture'", assertThrows(InvalidConfigException.class,
                () -> ModelConfig.builder().option("zero-init", "ture").build().flag("zero-init")).getMessage());
    }

    @Test
    void citationsUseSurnames() {
        assertEquals("Zeiler and Fergus 2013, Visualizing and understanding convolutional networks",
                Paper.arxiv("M. D. Zeiler, R. Fergus", "Visualizing and understanding convolutional networks", 2013, "ECCV", "1311.2901").citation());
        assertEquals("He et al. 2015, Deep residual learning", Paper.arxiv("K. He, X. Zhang, S. Ren, J. Sun", "Deep residual learning", 2015, "CVPR",
                "1512.03385").citation());
        assertEquals("Chollet 2017, Xception", Paper.arxiv("F. Chollet", "Xception", 2017, "CVPR", "1610.02357").citation());
    }

    @Test
    void duplicateIdsAreRefused() {
        ZooException e = assertThrows(ZooException.class, () -> ModelZoo.of(List.of(new ToyProvider(), new ToyProvider())));
        assertTrue(e.getMessage().contains("toy-cnn"), e.getMessage());
    }

    @Test
    void anIdListedTwiceByOneProviderIsRefused() {
        ModelEntry toy = new ToyProvider().models().get(0);
        ZooException e = assertThrows(ZooException.class, () -> ModelZoo.of(List.of(() -> List.of(toy, toy))));
        assertTrue(e.getMessage().startsWith("model id 'toy-cnn' is listed twice by "), e.getMessage());
    }

    @Test
    void eachIdBuildsWithItsOwnEntry() {
        ModelZoo zoo = ModelZoo.of(List.of(new ToyProvider()));
        assertEquals(8, zoo.build("toy-cnn").graph().parameters().get("conv1.weight").shape().dims()[0]);
        assertEquals(16, zoo.build("toy-cnn-wide").graph().parameters().get("conv1.weight").shape().dims()[0]);
    }

    @Test
    void shippedWeightsBelongToTheirEntry() {
        ModelEntry toy = new ToyProvider().models().get(0);
        PretrainedWeights weights = new PretrainedWeights("nothing trained", List.of("a", "b"), () -> {
            throw new java.io.IOException("not there");
        });
        ModelZoo zoo = ModelZoo.of(List.of(() -> List.of(toy.withPretrained(weights), new ToyProvider().models().get(1))));
        assertEquals(List.of("toy-cnn"), zoo.idsWithPretrained());
        assertEquals(weights, zoo.pretrainedInfo("toy-cnn").orElseThrow());
        assertTrue(zoo.pretrainedInfo("toy-cnn-wide").isEmpty());
        assertEquals("cannot read the pretrained weights of toy-cnn: not there",
                assertThrows(ZooException.class, () -> zoo.pretrained("toy-cnn")).getMessage());
    }

    @Test
    void editDistance() {
        assertEquals(1, ModelZoo.editDistance("resnet50", "resnet5"));
        assertEquals(3, ModelZoo.editDistance("vgg16", "vgg19bn"));
    }
}
