package dev.cnnzoo.lenet;

import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Pool;

/**
 * LeNet-5 as it is usually written today: the same 6-16-120-84 plan with ReLU, 2×2 max pooling,
 * full C3 connections and a dense softmax output. 61,706 parameters. Feature stages: each
 * pooling's output (/2, /4).
 */
final class ModernLeNet5 {
    private ModernLeNet5() {
    }

    static Graph build(String id, ModelConfig config) {
        Net net = new Net(id);
        int[] size = config.inputSize();
        Value x = net.input(config.inputChannels(), size[0], size[1]);
        x = net.relu(net.conv("conv1", x, Conv.of(6, 5).pad(2)));
        x = net.feature("pool1", net.maxPool("pool1", x, Pool.of(2)));
        x = net.relu(net.conv("conv2", x, Conv.of(16, 5)));
        x = net.feature("pool2", net.maxPool("pool2", x, Pool.of(2)));
        net.top(x, config.head(), features -> {
            Value h = net.relu(net.dense("fc1", net.flatten(features), 120));
            h = net.relu(net.dense("fc2", h, 84));
            return net.dense("fc3", h, config.classes());
        });
        return net.build();
    }
}
