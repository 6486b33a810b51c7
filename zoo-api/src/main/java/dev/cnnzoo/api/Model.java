package dev.cnnzoo.api;

import dev.cnnzoo.graph.Graph;

/** A built network: its metadata, the configuration it was built with, and its graph. */
public record Model(ModelInfo info, ModelConfig config, Graph graph) {
    public String id() {
        return info.id();
    }
}
