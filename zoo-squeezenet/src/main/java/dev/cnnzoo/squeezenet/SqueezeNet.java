package dev.cnnzoo.squeezenet;

import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Init;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Pool;

/**
 * SqueezeNet 1.1 (Iandola et al. 2016; the 1.1 revision in the authors' repository, which
 * torchvision ships as {@code squeezenet1_1}): the fire module of §3.2 squeezes its input with
 * s1x1 1×1 filters, then expands with e1x1 1×1 and e3x3 3×3 filters whose outputs are concatenated,
 * ReLU after each. Version 1.1 starts with 64 3×3/2 filters and pools after the stem, fire3 and fire5
 * (1.0 pooled later), for 2.4× less computation at the same accuracy.
 *
 * <p>Names are torchvision's ({@code features.3.squeeze}, {@code features.3.expand1x1},
 * {@code classifier.1}), so its state dict loads by name; 1,235,496 parameters. Initialisation is
 * torchvision's: He-uniform convolutions, the final convolution N(0, 0.01²), zero biases.
 */
final class SqueezeNet {
    /** Max pooling 3×3/2 with ceil rounding, as in the authors' Caffe model. */
    private static final Pool POOL = Pool.of(3).stride(2).ceil();

    /** s1x1 and e1x1 = e3x3 of each fire module, fire2 to fire9 (Table 1's widths, unchanged in 1.1). */
    private static final int[][] FIRES = {{16, 64}, {16, 64}, {32, 128}, {32, 128}, {48, 192}, {48, 192}, {64, 256}, {64, 256}};

    private SqueezeNet() {
    }

    static Graph build(String id, ModelConfig config) {
        Net net = new Net(id);
        int[] size = config.inputSize();
        Value x = net.input(config.inputChannels(), size[0], size[1]);
        x = net.relu(conv(net, "features.0", x, Conv.of(64, 3).stride(2)));
        int module = 2;
        for (int f = 0; f < FIRES.length; f++) {
            if (f == 0 || f == 2 || f == 4) {
                x = net.maxPool("features." + module++, x, POOL);
            }
            x = fire(net, "features." + module++, x, FIRES[f][0], FIRES[f][1]);
        }
        double dropout = config.dropoutOr(0.5);
        net.top(x, config.includeTop(), config.globalPool(), features -> {
            Value h = net.dropout(features, dropout);
            h = net.relu(net.conv("classifier.1", h, Conv.of(config.classes(), 1).init(Init.normal(0.01)).biasInit(Init.zeros())));
            return net.flatten(net.globalAvgPool(h));
        });
        return net.build();
    }

    /** §3.2: squeeze to {@code squeeze} maps, expand to {@code expand} 1×1 and {@code expand} 3×3 maps, concatenated. */
    private static Value fire(Net net, String name, Value x, int squeeze, int expand) {
        Value s = net.relu(conv(net, name + ".squeeze", x, Conv.of(squeeze, 1)));
        Value e1 = net.relu(conv(net, name + ".expand1x1", s, Conv.of(expand, 1)));
        Value e3 = net.relu(conv(net, name + ".expand3x3", s, Conv.of(expand, 3).pad(1)));
        return net.concat(e1, e3);
    }

    private static Value conv(Net net, String name, Value x, Conv spec) {
        return net.conv(name, x, spec.init(Init.heUniform()).biasInit(Init.zeros()));
    }
}
