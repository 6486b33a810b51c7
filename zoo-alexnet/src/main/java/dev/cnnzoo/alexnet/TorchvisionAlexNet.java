package dev.cnnzoo.alexnet;

import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Init;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Pool;

/**
 * AlexNet as torchvision ships it, the single-tower form of Krizhevsky's 2014 "one weird trick"
 * paper: 64-192-384-256-256 filters, no LRN, and adaptive average pooling to 6×6 before the
 * classifier. Layers are named by their index in torchvision's {@code features} and
 * {@code classifier} sequences, so a torchvision state dict loads by name; 61,100,840 parameters.
 *
 * <p>At the 224×224 input the last pooling already leaves 6×6 maps and the adaptive pooling is the
 * identity; other sizes pool exactly as PyTorch does ({@link dev.cnnzoo.nn.Net#adaptiveAvgPool}). Initialisation is
 * PyTorch's default for these layers, uniform in ±1/√fan-in for weights and biases alike. Feature
 * stages: the ReLU before each max pool ({@code features.1}, {@code .4}, {@code .11}; /4, /8, /16)
 * and the last pool ({@code features.12}, /32).
 */
final class TorchvisionAlexNet {
    private static final Pool POOL = Pool.of(3).stride(2);

    private TorchvisionAlexNet() {
    }

    static Graph build(String id, ModelConfig config) {
        Net net = new Net(id);
        int[] size = config.inputSize();
        Value x = net.input(config.inputChannels(), size[0], size[1]);
        x = net.relu(conv(net, "features.0", x, 64, 11, 4, 2));
        x = net.maxPool("features.2", net.feature("features.1", x), POOL);
        x = net.relu(conv(net, "features.3", x, 192, 5, 1, 2));
        x = net.maxPool("features.5", net.feature("features.4", x), POOL);
        x = net.relu(conv(net, "features.6", x, 384, 3, 1, 1));
        x = net.relu(conv(net, "features.8", x, 256, 3, 1, 1));
        x = net.relu(conv(net, "features.10", x, 256, 3, 1, 1));
        x = net.feature("features.12", net.maxPool("features.12", net.feature("features.11", x), POOL));
        double dropout = config.dropoutOr(0.5);
        net.top(x, config.head(), features -> {
            Value h;
            try (var s = net.scope("avgpool")) {
                h = net.flatten(net.adaptiveAvgPool(features, 6, 6));
            }
            // torchvision drops out before each hidden dense layer (classifier.0 and .3), not after.
            h = net.relu(dense(net, "classifier.1", net.dropout(h, dropout), 4096));
            h = net.relu(dense(net, "classifier.4", net.dropout(h, dropout), 4096));
            return dense(net, "classifier.6", h, config.classes());
        });
        return net.build();
    }

    /** torchvision's {@code Conv2d(in, filters, kernel, stride, padding)}. */
    private static Value conv(Net net, String name, Value x, int filters, int kernel, int stride, int padding) {
        long fanIn = (long) x.shape().dim(1) * kernel * kernel;
        return net.conv(name, x, Conv.of(filters, kernel).stride(stride).pad(padding)
                .init(Init.pytorchDefault()).biasInit(pytorchUniform(fanIn)));
    }

    private static Value dense(Net net, String name, Value x, int units) {
        return net.dense(name, x, units, Init.pytorchDefault(), pytorchUniform(x.shape().dim(1)));
    }

    /** PyTorch's bias initialisation: uniform in ±1/√fan-in of the layer's weight. */
    private static Init pytorchUniform(long fanIn) {
        double bound = 1 / Math.sqrt(fanIn);
        return Init.uniform(-bound, bound);
    }
}
