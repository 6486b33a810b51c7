package dev.cnnzoo.resnet;

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
class ResNetFeatureStagesTest {
    private static final ModelZoo ZOO = ModelZoo.load();

    /**
     * ImageNet networks: the stem's activation (/2) and the four stages of units; CIFAR networks (whose
     * stem keeps full resolution): the three stages of units. A pre-activation network's last stage is
     * its final BN → ReLU ({@code post_bn}), as timm's ResNetV2 taps it.
     */
    static final Map<String, String> STAGES = FeatureStages.table(
            "preact-resnet1001", "layer1 64×32×32 /1; layer2 128×16×16 /2; post_bn 256×8×8 /4",
            "preact-resnet101", "act1 64×112×112 /2; layer1 256×56×56 /4; layer2 512×28×28 /8; layer3 1024×14×14 /16; "
                    + "post_bn 2048×7×7 /32",
            "preact-resnet110", "layer1 16×32×32 /1; layer2 32×16×16 /2; post_bn 64×8×8 /4",
            "preact-resnet152", "act1 64×112×112 /2; layer1 256×56×56 /4; layer2 512×28×28 /8; layer3 1024×14×14 /16; "
                    + "post_bn 2048×7×7 /32",
            "preact-resnet164", "layer1 64×32×32 /1; layer2 128×16×16 /2; post_bn 256×8×8 /4",
            "preact-resnet18", "act1 64×112×112 /2; layer1 64×56×56 /4; layer2 128×28×28 /8; layer3 256×14×14 /16; "
                    + "post_bn 512×7×7 /32",
            "preact-resnet200", "act1 64×112×112 /2; layer1 256×56×56 /4; layer2 512×28×28 /8; layer3 1024×14×14 /16; "
                    + "post_bn 2048×7×7 /32",
            "preact-resnet34", "act1 64×112×112 /2; layer1 64×56×56 /4; layer2 128×28×28 /8; layer3 256×14×14 /16; "
                    + "post_bn 512×7×7 /32",
            "preact-resnet50", "act1 64×112×112 /2; layer1 256×56×56 /4; layer2 512×28×28 /8; layer3 1024×14×14 /16; "
                    + "post_bn 2048×7×7 /32",
            "resnet101", "act1 64×112×112 /2; layer1 256×56×56 /4; layer2 512×28×28 /8; layer3 1024×14×14 /16; "
                    + "layer4 2048×7×7 /32",
            "resnet152", "act1 64×112×112 /2; layer1 256×56×56 /4; layer2 512×28×28 /8; layer3 1024×14×14 /16; "
                    + "layer4 2048×7×7 /32",
            "resnet18", "act1 64×112×112 /2; layer1 64×56×56 /4; layer2 128×28×28 /8; layer3 256×14×14 /16; "
                    + "layer4 512×7×7 /32",
            "resnet34", "act1 64×112×112 /2; layer1 64×56×56 /4; layer2 128×28×28 /8; layer3 256×14×14 /16; "
                    + "layer4 512×7×7 /32",
            "resnet50", "act1 64×112×112 /2; layer1 256×56×56 /4; layer2 512×28×28 /8; layer3 1024×14×14 /16; "
                    + "layer4 2048×7×7 /32",
            "se-resnet101", "act1 64×112×112 /2; layer1 256×56×56 /4; layer2 512×28×28 /8; layer3 1024×14×14 /16; "
                    + "layer4 2048×7×7 /32",
            "se-resnet50", "act1 64×112×112 /2; layer1 256×56×56 /4; layer2 512×28×28 /8; layer3 1024×14×14 /16; "
                    + "layer4 2048×7×7 /32");

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
        assertEquals(new TreeSet<>(STAGES.keySet()), new TreeSet<>(ZOO.family("resnet").stream().map(ModelInfo::id).toList()));
    }
}
