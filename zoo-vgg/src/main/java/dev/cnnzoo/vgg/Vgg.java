package dev.cnnzoo.vgg;

import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Init;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Pool;
import java.util.Arrays;

/**
 * VGG (Simonyan and Zisserman 2014): stacks of 3×3 convolutions (stride 1, padding 1, ReLU) with a
 * 2×2 stride-2 max pool after each of five stages, then two 4096-unit layers with dropout 0.5 and
 * the classifier (§2.1, Table 1). The configurations differ only in how many convolutions each
 * stage has, so they are data: one {@link Configuration} per column of Table 1 and one builder.
 *
 * <p>Names follow torchvision's {@code VGG}: {@code features.N} is the N-th module of the feature
 * sequence (conv, [batch norm], ReLU per convolution; one max pool per stage), {@code classifier.0},
 * {@code .3}, {@code .6} the dense layers, so torchvision's state dicts load by name. As in
 * torchvision, adaptive average pooling to 7×7 sits before the classifier (the identity at 224×224)
 * and the batch-norm forms insert a batch norm between each convolution and its ReLU.
 *
 * <p>Feature stages (timm's {@code features_only}): the ReLU that ends each stage before its max
 * pool, at reductions 1, 2, 4, 8 and 16 ({@code features.3}, {@code .8}, {@code .15}, {@code .22},
 * {@code .29} in VGG-16), and the last max pool at 32.
 *
 * <p>Initialisation: Glorot-uniform weights and zero biases, the scheme §3.1 reports trains every
 * configuration from scratch (the paper first trained A from N(0, 10⁻²) and copied its layers into
 * the deeper nets).
 */
final class Vgg {
    /** A 2×2 stride-2 max pool: "maxpool" in Table 1, "M" in torchvision's configurations. */
    static final int M = 0;

    /** The columns of Table 1 this zoo builds: the output maps of each 3×3 convolution in order, {@link #M} a max pool. */
    enum Configuration {
        A(11, 64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M),
        B(13, 64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M),
        D(16, 64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M),
        E(19, 64, 64, M, 128, 128, M, 256, 256, 256, 256, M, 512, 512, 512, 512, M, 512, 512, 512, 512, M);

        /** Convolutions plus the three dense layers: the depth in the network's name. */
        final int weightLayers;
        private final int[] layers;

        Configuration(int weightLayers, int... layers) {
            this.weightLayers = weightLayers;
            this.layers = layers;
            long convolutions = Arrays.stream(layers).filter(l -> l != M).count();
            if (convolutions + 3 != weightLayers) {
                throw new IllegalStateException("configuration " + name() + " has " + convolutions + " convolutions, not "
                        + (weightLayers - 3));
            }
        }

        int[] layers() {
            return layers.clone();
        }
    }

    private static final Init WEIGHTS = Init.glorotUniform();
    private static final Init ZERO = Init.zeros();

    private Vgg() {
    }

    static Graph build(String id, Configuration configuration, boolean batchNorm, ModelConfig config) {
        Net net = new Net(id);
        int[] size = config.inputSize();
        Value x = net.input(config.inputChannels(), size[0], size[1]);
        int module = 0;
        for (int maps : configuration.layers) {
            if (maps == M) {
                // Each of Table 1's five stages ends in the ReLU before its max pool (reductions 1 to 16).
                net.feature("features." + (module - 1), x);
                x = net.maxPool("features." + module++, x, Pool.of(2));
                continue;
            }
            x = net.conv("features." + module++, x, Conv.of(maps, 3).pad(1).init(WEIGHTS).biasInit(ZERO));
            if (batchNorm) {
                x = net.batchNorm("features." + module++, x);
            }
            x = net.relu(x);
            module++;
        }
        // The last pool's maps (reduction 32) are what the classifier reads.
        net.feature("features." + (module - 1), x);
        double dropout = config.dropoutOr(0.5);
        net.top(x, config.head(), features -> {
            Value h;
            try (var s = net.scope("avgpool")) {
                h = net.flatten(net.adaptiveAvgPool(features, 7, 7));
            }
            h = net.dropout(net.relu(net.dense("classifier.0", h, 4096, WEIGHTS, ZERO)), dropout);
            h = net.dropout(net.relu(net.dense("classifier.3", h, 4096, WEIGHTS, ZERO)), dropout);
            return net.dense("classifier.6", h, config.classes(), WEIGHTS, ZERO);
        });
        return net.build();
    }
}
