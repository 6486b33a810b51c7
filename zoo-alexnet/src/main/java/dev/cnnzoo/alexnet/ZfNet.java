package dev.cnnzoo.alexnet;

import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Init;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Pool;

/**
 * ZF Net (Zeiler and Fergus 2013): AlexNet re-tuned after the paper's visualisations showed dead
 * and aliased first-layer filters (§4.2). The layers follow the architecture of Figure 3 (arXiv
 * v3, the ECCV version), each "Layer n" box one row:
 *
 * <pre>
 * layer    what                                                        output
 * input    224×224 RGB crop                                            3×224×224
 * layer1   96 7×7 stride 2 (AlexNet: 11×11 stride 4), ReLU             96×110×110
 *          → 3×3 max pool stride 2 → contrast normalisation            96×55×55
 * layer2   256 5×5 stride 2 (AlexNet: stride 1), ReLU                  256×26×26
 *          → 3×3 max pool stride 2 → contrast normalisation            256×13×13
 * layer3   384 3×3, ReLU                                               384×13×13
 * layer4   384 3×3, ReLU                                               384×13×13
 * layer5   256 3×3, ReLU → 3×3 max pool stride 2                       256×6×6
 * layer6   4096 fully connected, ReLU, dropout 0.5                     4096
 * layer7   4096 fully connected, ReLU, dropout 0.5                     4096
 * output   C-way fully connected (softmax in the loss)                 1000
 * </pre>
 *
 * The figure gives sizes, not paddings; these reproduce them: layer 1 pads 1 (224 → 110), layer 2
 * none (55 → 26), layers 3–5 pad 1, and the poolings round up as Caffe's do (110 → 55, 26 → 13).
 * Every layer is dense across the maps: one GPU, no split (§3). The contrast normalisation is the
 * LRN of Géron's <i>Hands-On Machine Learning</i>, as AlexNet's (the paper gives no constants for it). Weights start at
 * N(0, 0.01²) and biases at 0 (§3.1).
 *
 * <p>Feature stages, the last map at each reduction: layer 1's convolution (/2), layer 1's
 * output after pooling and normalisation ({@code layer1.norm}, /4), layer 2's convolution (/8),
 * layer 5's convolution (/16) and its pooling ({@code layer5.pool}, /32).
 */
final class ZfNet {
    private static final Init WEIGHTS = Init.normal(0.01);
    private static final Init ZERO = Init.zeros();
    /** 3×3 windows, stride 2, a partial last window kept. */
    private static final Pool POOL = Pool.of(3).stride(2).ceil();

    private ZfNet() {
    }

    static Graph build(String id, ModelConfig config) {
        Net net = new Net(id);
        int[] size = config.inputSize();
        Value x = net.input(config.inputChannels(), size[0], size[1]);
        x = net.feature("layer1", net.relu(net.conv("layer1", x, conv(96, 7).stride(2).pad(1))));
        x = net.feature("layer1.norm", net.lrn(net.maxPool(x, POOL), AlexNet.LRN));
        x = net.feature("layer2", net.relu(net.conv("layer2", x, conv(256, 5).stride(2))));
        x = net.lrn(net.maxPool(x, POOL), AlexNet.LRN);
        x = net.relu(net.conv("layer3", x, conv(384, 3).pad(1)));
        x = net.relu(net.conv("layer4", x, conv(384, 3).pad(1)));
        x = net.feature("layer5", net.relu(net.conv("layer5", x, conv(256, 3).pad(1))));
        x = net.feature("layer5.pool", net.maxPool(x, POOL));
        double dropout = config.dropoutOr(0.5);
        net.top(x, config.head(), features -> {
            Value h = net.dropout(net.relu(AlexNet.fullyConnected(net, "layer6", features, 4096, WEIGHTS, ZERO)), dropout);
            h = net.dropout(net.relu(AlexNet.fullyConnected(net, "layer7", h, 4096, WEIGHTS, ZERO)), dropout);
            return AlexNet.fullyConnected(net, "output", h, config.classes(), WEIGHTS, ZERO);
        });
        return net.build();
    }

    private static Conv conv(int filters, int kernel) {
        return Conv.of(filters, kernel).init(WEIGHTS).biasInit(ZERO);
    }
}
