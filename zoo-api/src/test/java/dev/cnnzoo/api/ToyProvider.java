package dev.cnnzoo.api;

import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Pool;
import java.util.List;

/** A provider that exists only on the test class path (registered in test resources). */
public final class ToyProvider implements ModelProvider {
    private static final Paper PAPER = Paper.arxiv("A. Tester", "A toy network", 2024, "tests", "0000.00000");

    @Override
    public List<ModelEntry> models() {
        return List.of(entry("toy-cnn", 8), entry("toy-cnn-wide", 16));
    }

    /** A two-convolution network of {@code width} maps. */
    private static ModelEntry entry(String id, int width) {
        return ModelEntry.of(ModelInfo.builder(id).family("toy").description("a toy").paper(PAPER).input(3, 16, 16).classes(10)
                .preprocessing(Preprocessing.imagenet(16, 16)).build(), (info, config) -> build(info, config, width));
    }

    private static Graph build(ModelInfo info, ModelConfig config, int width) {
        Net net = new Net(info.id());
        int[] size = config.inputSize();
        Value x = net.input(config.inputChannels(), size[0], size[1]);
        x = net.relu(net.conv("conv1", x, Conv.of(width, 3).pad(1)));
        x = net.maxPool(x, Pool.of(2));
        x = net.relu(net.conv("conv2", x, Conv.of(width, 3)));
        net.top(x, config.includeTop(), config.globalPool(),
                f -> net.dense("fc", net.flatten(net.globalAvgPool(f)), config.classes()));
        return net.build();
    }
}
