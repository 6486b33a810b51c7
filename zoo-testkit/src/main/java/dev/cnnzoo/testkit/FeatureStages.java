package dev.cnnzoo.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.FeatureStage;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Parameter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/** Checks of a model's feature stages from its graph alone (no runtime). */
public final class FeatureStages {
    private FeatureStages() {
    }

    /** A table of ids and their expected stages, written as alternating id, stages. */
    public static Map<String, String> table(String... idsAndStages) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < idsAndStages.length; i += 2) {
            m.put(idsAndStages[i], idsAndStages[i + 1]);
        }
        return m;
    }

    /** The table's rows as (id, stages) test arguments. */
    public static Stream<Arguments> cases(Map<String, String> table) {
        return table.entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
    }

    /** "act1 64×112×112 /2; layer1 256×56×56 /4; ...": layer, maps per image, reduction. */
    public static String describe(List<FeatureStage> stages) {
        return String.join("; ", stages.stream()
                .map(s -> s.layer() + " " + s.value().shape().toString().replaceFirst("^N×", "") + " /" + s.reduction()).toList());
    }

    /**
     * {@code id} built for its features only at its default input outputs {@code stage1}...
     * with the shapes, layers and reductions {@code expected} lists (see {@link #describe}); the
     * network built with its classifier records the same stages; and the extractor is that
     * network's backbone: a strict subset of its weights, with the same shapes.
     */
    public static void assertStages(ModelZoo zoo, String id, String expected) {
        Graph stages = zoo.build(id, ModelConfig.builder().featuresOnly(true).build()).graph();
        assertEquals(expected, describe(stages.featureStages()), id + " feature stages");
        List<String> names = IntStream.rangeClosed(1, stages.featureStages().size()).mapToObj(i -> "stage" + i).toList();
        assertEquals(names, stages.outputs().stream().map(Graph.Output::name).toList(), id + " outputs");
        assertEquals(stages.featureStages().stream().map(FeatureStage::value).toList(),
                stages.outputs().stream().map(Graph.Output::value).toList(), id + ": each output is its stage's map");
        assertEquals(stages.featureStages().stream().map(FeatureStage::channels).toList(),
                stages.featureStages().stream().map(s -> s.value().shape().dim(1)).toList(), id + " channels");

        Graph full = zoo.build(id).graph();
        assertEquals(expected, describe(full.featureStages()), id + " built with its classifier records the same stages");
        for (Parameter p : stages.parameters().values()) {
            Parameter same = full.parameters().get(p.name());
            assertTrue(same != null && same.shape().equals(p.shape()), id + ": the extractor's " + p.name() + " is the full network's");
        }
        assertTrue(stages.trainableParameterCount() < full.trainableParameterCount(), id + ": the extractor drops the classifier");
    }
}
