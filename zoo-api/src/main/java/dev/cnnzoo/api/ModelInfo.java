package dev.cnnzoo.api;

import java.util.Map;

/**
 * What the zoo knows about a model id before building it. Parameter counts and MACs are not
 * written here: they are computed from the graph ({@link ModelZoo#describe}).
 *
 * @param inputShape   default channels, height, width
 * @param classes      default number of classes
 * @param reported     the paper's error rates, or null
 * @param auxiliary    whether the network has auxiliary classifiers (GoogLeNet, Inception v3)
 * @param options      family-specific options this id understands, with a line on each
 */
public record ModelInfo(String id, String family, String description, Paper paper, int[] inputShape, int classes,
        Preprocessing preprocessing, ReportedError reported, boolean auxiliary, Map<String, String> options) {

    public ModelInfo {
        options = Map.copyOf(options);
        inputShape = inputShape.clone();
    }

    /** "3×224×224". */
    public String inputDescription() {
        return inputShape[0] + "×" + inputShape[1] + "×" + inputShape[2];
    }
}
