package dev.cnnzoo.api;

import dev.cnnzoo.graph.Graph;

/** A built network: its metadata, the configuration it was built with, and its graph. */
public record Model(ModelInfo info, ModelConfig config, Graph graph) {
    public String id() {
        return info.id();
    }

    /** The model's preprocessing recipe for the input size it is built for. */
    public Preprocessing preprocessing() {
        int[] size = config.inputSize();
        return info.preprocessing().forInput(size[0], size[1]);
    }
}
