package dev.cnnzoo.lenet;

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
class LeNetFeatureStagesTest {
    private static final ModelZoo ZOO = ModelZoo.load();

    /**
     * After each pooling (LeNet-5's subsampling layers S2 and S4).
     */
    static final Map<String, String> STAGES = FeatureStages.table(
            "lenet5", "s2 6×14×14 /2; s4 16×5×5 /4",
            "lenet5-modern", "pool1 6×14×14 /2; pool2 16×5×5 /4",
            "fashion-cnn", "pool1 64×14×14 /2; pool2 128×7×7 /4; pool3 256×3×3 /8");

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
        assertEquals(new TreeSet<>(STAGES.keySet()), new TreeSet<>(ZOO.family("lenet").stream().map(ModelInfo::id).toList()));
    }
}
