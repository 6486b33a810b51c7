package dev.cnnzoo.alexnet;

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
class AlexNetFeatureStagesTest {
    private static final ModelZoo ZOO = ModelZoo.load();

    /**
     * The last map at each reduction: before each max pool, and the last pool.
     */
    static final Map<String, String> STAGES = FeatureStages.table(
            "alexnet", "c1 96×55×55 /4; c3 256×27×27 /8; c7 256×13×13 /16; s8 256×6×6 /32",
            "alexnet-tv", "features.1 64×55×55 /4; features.4 192×27×27 /8; features.11 256×13×13 /16; "
                    + "features.12 256×6×6 /32",
            "zfnet", "layer1 96×110×110 /2; layer1.norm 96×55×55 /4; layer2 256×26×26 /8; layer5 256×13×13 /16; "
                    + "layer5.pool 256×6×6 /32");

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
        assertEquals(new TreeSet<>(STAGES.keySet()), new TreeSet<>(ZOO.family("alexnet").stream().map(ModelInfo::id).toList()));
    }
}
