package dev.cnnzoo.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Parameter;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.nn.GlobalPool;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The operator vocabulary, {@link Op}, is exactly what the zoo's code can write or differentiate.
 * Every zoo network is built as it trains (dropout, auxiliary heads) and taken through the autodiff,
 * the loss and every optimizer's update, as are a fine-tuned network (frozen batch norms) and a
 * headless one ending in global max pooling: the graph builder infers a shape for each node those add,
 * so an operator without a shape rule (or outside the vocabulary) fails the build here. And every
 * constant of the vocabulary is written by one of those graphs or is an operator a gradient rule
 * accepts in a user's network; one that is neither is dead and should go, with its shape rule. (That
 * every gradient rule is for an operator of the vocabulary needs no test: the rules are keyed on
 * {@link Op}.)
 */
class OperatorVocabularyTest {
    private static final Set<Op> WRITTEN = EnumSet.noneOf(Op.class);
    private static final Map<String, String> FAILED = new LinkedHashMap<>();

    @BeforeAll
    static void buildEveryNetworkInTrainingForm() {
        ModelZoo zoo = ModelZoo.load();
        for (ModelInfo info : zoo.list()) {
            try {
                Graph forward = zoo.build(info.id()).graph();
                written(forward);
                written(TrainingGraph.build(forward, Loss.crossEntropy(), Set.of(), false).graph());
            } catch (RuntimeException e) {
                FAILED.put(info.id(), e.toString());
            }
        }
        // Fine-tuning: everything but the classifier frozen, so batch norm runs on its running statistics.
        Graph resnet = zoo.build("resnet18").graph();
        Set<String> backbone = resnet.parameters().values().stream().map(Parameter::name).filter(n -> !n.startsWith("fc."))
                .collect(Collectors.toSet());
        written(TrainingGraph.build(resnet, Loss.crossEntropy(), backbone, false).graph());
        // A headless network ending in global max pooling, trained on its pooled features.
        Graph maxPooled = zoo.build("resnet18", ModelConfig.builder().includeTop(false).globalPool(GlobalPool.MAX).build()).graph();
        written(TrainingGraph.build(maxPooled, Loss.crossEntropy(), Set.of(), false).graph());
        Map<String, Shape> shapes = Map.of("w", Shape.of(4, 3), "b", Shape.of(4));
        for (Optimizer o : List.of(Optimizer.sgd(0.9, true).withWeightDecay(1e-2), Optimizer.adam(), Optimizer.adamw(0.05),
                Optimizer.nadam())) {
            written(OptimizerGraph.build(o, shapes));
        }
        written(TrainingArtifacts.evalGraph(resnet, Loss.crossEntropy()));
        // The fused step: each in-place update ordered after the backward nodes that read its weight (IsNaN, Where).
        written(TrainingArtifacts.generate(zoo.build("resnet18"), TrainingSpec.of(Loss.crossEntropy(), Optimizer.nadam())).stepGraph());
    }

    private static void written(Graph g) {
        g.nodes().stream().map(Node::operator).forEach(WRITTEN::add);
    }

    @Test
    void everyNetworkDifferentiatesIntoOperatorsWithShapeRules() {
        assertTrue(FAILED.isEmpty(), "networks whose training graph cannot be built: " + FAILED);
    }

    @Test
    void everyOperatorOfTheVocabularyIsWrittenOrDifferentiable() {
        Set<Op> dead = EnumSet.allOf(Op.class);
        dead.removeAll(WRITTEN);
        dead.removeAll(Rules.supported());
        assertEquals(Set.of(), dead, "operators no network, gradient, loss or optimizer writes and no gradient rule accepts");
    }
}
