package dev.cnnzoo.vgg;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.testkit.FeatureStages;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Each id's feature stages at its default input, from the graph alone: layer, maps, reduction. */
class VggFeatureStagesTest {
    private static final ModelZoo ZOO = ModelZoo.load();

    /**
     * The ReLU ending each of Table 1's five stages before its max pool, indexed as torchvision's
     * {@code features} (timm's VGG taps the same), then the last pool (/32).
     */
    static final Map<String, String> STAGES = FeatureStages.table(
            "vgg11", "features.1 64×224×224 /1; features.4 128×112×112 /2; features.9 256×56×56 /4; "
                    + "features.14 512×28×28 /8; features.19 512×14×14 /16; features.20 512×7×7 /32",
            "vgg11-bn", "features.2 64×224×224 /1; features.6 128×112×112 /2; features.13 256×56×56 /4; "
                    + "features.20 512×28×28 /8; features.27 512×14×14 /16; features.28 512×7×7 /32",
            "vgg13", "features.3 64×224×224 /1; features.8 128×112×112 /2; features.13 256×56×56 /4; "
                    + "features.18 512×28×28 /8; features.23 512×14×14 /16; features.24 512×7×7 /32",
            "vgg13-bn", "features.5 64×224×224 /1; features.12 128×112×112 /2; features.19 256×56×56 /4; "
                    + "features.26 512×28×28 /8; features.33 512×14×14 /16; features.34 512×7×7 /32",
            "vgg16", "features.3 64×224×224 /1; features.8 128×112×112 /2; features.15 256×56×56 /4; "
                    + "features.22 512×28×28 /8; features.29 512×14×14 /16; features.30 512×7×7 /32",
            "vgg16-bn", "features.5 64×224×224 /1; features.12 128×112×112 /2; features.22 256×56×56 /4; "
                    + "features.32 512×28×28 /8; features.42 512×14×14 /16; features.43 512×7×7 /32",
            "vgg19", "features.3 64×224×224 /1; features.8 128×112×112 /2; features.17 256×56×56 /4; "
                    + "features.26 512×28×28 /8; features.35 512×14×14 /16; features.36 512×7×7 /32",
            "vgg19-bn", "features.5 64×224×224 /1; features.12 128×112×112 /2; features.25 256×56×56 /4; "
                    + "features.38 512×28×28 /8; features.51 512×14×14 /16; features.52 512×7×7 /32");

    static Stream<Arguments> stages() {
        return FeatureStages.cases(STAGES);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("stages")
    void everyStageHasItsLayerShapeAndReduction(String id, String expected) {
        FeatureStages.assertStages(ZOO, id, expected);
    }

    @Test
    void everyIdOfTheFamilyIsListed() {
        assertEquals(new TreeSet<>(STAGES.keySet()), new TreeSet<>(ZOO.family("vgg").stream().map(ModelInfo::id).toList()));
    }
}
