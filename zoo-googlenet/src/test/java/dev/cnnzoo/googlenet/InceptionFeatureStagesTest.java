package dev.cnnzoo.googlenet;

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
class InceptionFeatureStagesTest {
    private static final ModelZoo ZOO = ModelZoo.load();

    /**
     * The last map before each grid reduction, and the last map (timm's {@code feature_info} for
     * inception_v3 and inception_resnet_v2 names the same layers).
     */
    static final Map<String, String> STAGES = FeatureStages.table(
            "googlenet", "conv1 64×112×112 /2; norm2 192×56×56 /4; inception3b 480×28×28 /8; inception4e 832×14×14 /16; "
                    + "inception5b 1024×7×7 /32",
            "googlenet-bn", "conv1 64×112×112 /2; conv3 192×56×56 /4; inception3b 480×28×28 /8; inception4e 832×14×14 /16; "
                    + "inception5b 1024×7×7 /32",
            "inception-resnet-v1", "conv2d_2b 64×147×147 /2; conv2d_4a 192×71×71 /4; repeat 256×35×35 /8; repeat_1 896×17×17 /16; "
                    + "repeat_2 1792×8×8 /32",
            "inception-resnet-v2", "conv2d_2b 64×147×147 /2; conv2d_4a 192×71×71 /4; repeat 320×35×35 /8; repeat_1 1088×17×17 /16; "
                    + "conv2d_7b 1536×8×8 /32",
            "inception-v3", "Conv2d_2b_3x3 64×147×147 /2; Conv2d_4a_3x3 192×71×71 /4; Mixed_5d 288×35×35 /8; "
                    + "Mixed_6e 768×17×17 /16; Mixed_7c 2048×8×8 /32",
            "inception-v4", "features.2 64×147×147 /2; features.4 192×71×71 /4; features.9 384×35×35 /8; "
                    + "features.17 1024×17×17 /16; features.21 1536×8×8 /32",
            "xception", "block1_conv2_act 64×147×147 /2; block2 128×74×74 /4; block3 256×37×37 /8; block12 728×19×19 /16; "
                    + "block14_sepconv2_act 2048×10×10 /32");

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
        assertEquals(new TreeSet<>(STAGES.keySet()), new TreeSet<>(ZOO.family("inception").stream().map(ModelInfo::id).toList()));
    }
}
