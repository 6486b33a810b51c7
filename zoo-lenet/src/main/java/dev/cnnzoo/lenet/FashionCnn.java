package dev.cnnzoo.lenet;

import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Init;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Pool;

/**
 * The CNN for Fashion-MNIST of Géron, <i>Hands-On Machine Learning with Scikit-Learn, Keras, and
 * TensorFlow</i>, 2nd ed. (O'Reilly 2019), ch. 14 (over 92% test accuracy): 64 7×7 filters, then two
 * blocks of two 3×3 convolutions (128, then 256 maps) each after a 2×2 max pool, a last pool, and
 * a dense 128-64-10 classifier with 50% dropout. Every convolution is SAME with ReLU. Keras's
 * Glorot-uniform initialisation, as the text's code uses. 1,413,834 parameters. Feature stages:
 * each pooling's output (/2, /4, /8).
 */
final class FashionCnn {
    private FashionCnn() {
    }

    static Graph build(String id, ModelConfig config) {
        Net net = new Net(id);
        int[] size = config.inputSize();
        Value x = net.input(config.inputChannels(), size[0], size[1]);
        x = conv(net, "conv1", x, 64, 7);
        x = net.feature("pool1", net.maxPool("pool1", x, Pool.of(2)));
        x = conv(net, "conv2", x, 128, 3);
        x = conv(net, "conv3", x, 128, 3);
        x = net.feature("pool2", net.maxPool("pool2", x, Pool.of(2)));
        x = conv(net, "conv4", x, 256, 3);
        x = conv(net, "conv5", x, 256, 3);
        x = net.feature("pool3", net.maxPool("pool3", x, Pool.of(2)));
        double dropout = config.dropoutOr(0.5);
        net.top(x, config.head(), features -> {
            Value h = net.relu(net.dense("fc1", net.flatten(features), 128));
            h = net.dropout(h, dropout);
            h = net.relu(net.dense("fc2", h, 64));
            h = net.dropout(h, dropout);
            return net.dense("fc3", h, config.classes());
        });
        return net.build();
    }

    private static Value conv(Net net, String name, Value x, int filters, int kernel) {
        return net.relu(net.conv(name, x, Conv.of(filters, kernel).same().init(Init.glorotUniform())));
    }
}
