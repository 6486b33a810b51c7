package dev.cnnzoo.googlenet;

import static dev.cnnzoo.blocks.Inception.avgPool;
import static dev.cnnzoo.blocks.Inception.branch;
import static dev.cnnzoo.blocks.Inception.conv;
import static dev.cnnzoo.blocks.Inception.fork;
import static dev.cnnzoo.blocks.Inception.maxPool;
import static dev.cnnzoo.blocks.Inception.sequential;

import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.blocks.ConvBn;
import dev.cnnzoo.blocks.Inception;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Init;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.BatchNorm;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Pool;

/**
 * Inception-v4 (Szegedy et al. 2016, §3.1, Figures 3–9): the stem, 4 × Inception-A, Reduction-A,
 * 7 × Inception-B, Reduction-B, 3 × Inception-C, average pooling, dropout (keep 0.8) and a linear
 * classifier. Every convolution is conv → batch norm (ε = 0.001) → ReLU; "V" in the figures is
 * VALID padding, every other convolution keeps the grid. Parameter names are timm's
 * ({@code features.<i>...}, {@code last_linear}), whose {@code inception_v4} holds Google's weights.
 * Feature stages: the last map at each reduction, {@code features.2}, {@code .4}, {@code .9},
 * {@code .17}, {@code .21} (timm taps {@code features.3} at /4, the map before {@code features.4}'s
 * VALID convolutions).
 */
final class InceptionV4 {
    private InceptionV4() {
    }

    /** The paper states no initialisation; PyTorch's default (what timm's model starts from). */
    static final Inception.ConvUnit UNIT = (net, name, x, c) ->
            ConvBn.convBnRelu(net, name, x, c.init(Init.pytorchDefault()), BatchNorm.defaults().epsilon(1e-3));
    /** The average pools of Figures 4, 5 and 6 divide by the pixels inside the image (timm's count_include_pad=False). */
    static final Pool AVG_3X3 = Pool.of(3).stride(1).pad(1);
    static final Pool MAX_3X3_S2 = Pool.of(3).stride(2);

    static Graph build(String id, ModelConfig config) {
        Net net = new Net(id);
        int[] size = config.inputSize();
        Value x = net.input(config.inputChannels(), size[0], size[1]);
        try (var features = net.scope("features")) {
            x = stem(net, x);
            int block = 6;
            for (int i = 0; i < 4; i++) {
                x = inceptionA(net, Integer.toString(block++), x);
            }
            x = net.feature("features." + (block - 1), x);                    // the last 35×35 module
            x = reductionA(net, Integer.toString(block++), x, 192, 224, 256, 384);
            for (int i = 0; i < 7; i++) {
                x = inceptionB(net, Integer.toString(block++), x);
            }
            x = net.feature("features." + (block - 1), x);                    // the last 17×17 module
            x = reductionB(net, Integer.toString(block++), x);
            for (int i = 0; i < 3; i++) {
                x = inceptionC(net, Integer.toString(block++), x);
            }
            net.feature("features." + (block - 1), x);
        }
        double dropout = config.dropoutOr(0.2);
        net.top(x, config.head(), f -> {
            Value h = net.dropout(Heads.globalAverage(net, "global_pool", f), dropout);
            return net.dense("last_linear", h, config.classes(), Init.pytorchDefault(), Init.zeros());
        });
        return net.build();
    }

    /** Figure 3: 299×299×3 → 35×35×384, filters concatenated after each of the three splits. */
    private static Value stem(Net net, Value x) {
        x = UNIT.apply(net, "0", x, Conv.of(32, 3).stride(2));          // 149×149×32
        x = UNIT.apply(net, "1", x, Conv.of(32, 3));                    // 147×147×32
        x = net.feature("features.2", UNIT.apply(net, "2", x, Conv.of(64, 3).pad(1)));     // 147×147×64
        x = Inception.module(net, "3", x, UNIT,                          // 73×73×160
                branch(maxPool(MAX_3X3_S2)),
                branch(conv("conv", Conv.of(96, 3).stride(2))));
        x = Inception.module(net, "4", x, UNIT,                          // 71×71×192, the last /4 map
                sequential("branch0", conv(Conv.of(64, 1)), conv(Conv.of(96, 3))),
                sequential("branch1", conv(Conv.of(64, 1)), conv(Conv.of(64, 1, 7).pad(0, 3)),
                        conv(Conv.of(64, 7, 1).pad(3, 0)), conv(Conv.of(96, 3))));
        return Inception.module(net, "5", net.feature("features.4", x), UNIT,   // 35×35×384
                branch(conv("conv", Conv.of(192, 3).stride(2))),
                branch(maxPool(MAX_3X3_S2)));
    }

    /** Figure 4, the 35×35 module: 96; 64 → 96; 64 → 96 → 96; average pool → 96. */
    private static Value inceptionA(Net net, String name, Value x) {
        return Inception.module(net, name, x, UNIT,
                sequential("branch0", conv(Conv.of(96, 1))),
                sequential("branch1", conv(Conv.of(64, 1)), conv(Conv.of(96, 3).pad(1))),
                sequential("branch2", conv(Conv.of(64, 1)), conv(Conv.of(96, 3).pad(1)), conv(Conv.of(96, 3).pad(1))),
                sequential("branch3", avgPool(AVG_3X3), conv(Conv.of(96, 1))));
    }

    /**
     * Figure 7, the 35×35 → 17×17 reduction with Table 1's filter counts k, l, m, n (Inception-v4:
     * 192, 224, 256, 384): a stride-2 n; k → l → stride-2 m; a stride-2 max pool. Inception-ResNet
     * uses the same module with its own counts.
     */
    static Value reductionA(Net net, String name, Value x, int k, int l, int m, int n) {
        return Inception.module(net, name, x, UNIT,
                sequential("branch0", conv(Conv.of(n, 3).stride(2))),
                sequential("branch1", conv(Conv.of(k, 1)), conv(Conv.of(l, 3).pad(1)), conv(Conv.of(m, 3).stride(2))),
                sequential("branch2", maxPool(MAX_3X3_S2)));
    }

    /** Figure 5, the 17×17 module: 384; 192 → 1×7 224 → 7×1 256; 192 → 7×1 192 → 1×7 224 → 7×1 224 → 1×7 256; pool → 128. */
    private static Value inceptionB(Net net, String name, Value x) {
        return Inception.module(net, name, x, UNIT,
                sequential("branch0", conv(Conv.of(384, 1))),
                sequential("branch1", conv(Conv.of(192, 1)), conv(Conv.of(224, 1, 7).pad(0, 3)), conv(Conv.of(256, 7, 1).pad(3, 0))),
                sequential("branch2", conv(Conv.of(192, 1)), conv(Conv.of(192, 7, 1).pad(3, 0)), conv(Conv.of(224, 1, 7).pad(0, 3)),
                        conv(Conv.of(224, 7, 1).pad(3, 0)), conv(Conv.of(256, 1, 7).pad(0, 3))),
                sequential("branch3", avgPool(AVG_3X3), conv(Conv.of(128, 1))));
    }

    /** Figure 8, the 17×17 → 8×8 reduction: 192 → stride-2 192; 256 → 1×7 256 → 7×1 320 → stride-2 320; max pool. */
    private static Value reductionB(Net net, String name, Value x) {
        return Inception.module(net, name, x, UNIT,
                sequential("branch0", conv(Conv.of(192, 1)), conv(Conv.of(192, 3).stride(2))),
                sequential("branch1", conv(Conv.of(256, 1)), conv(Conv.of(256, 1, 7).pad(0, 3)), conv(Conv.of(320, 7, 1).pad(3, 0)),
                        conv(Conv.of(320, 3).stride(2))),
                sequential("branch2", maxPool(MAX_3X3_S2)));
    }

    /** Figure 6, the 8×8 module: 256; 384 → (1×3 256 | 3×1 256); 384 → 3×1 448 → 1×3 512 → (1×3 256 | 3×1 256); pool → 256. */
    private static Value inceptionC(Net net, String name, Value x) {
        return Inception.module(net, name, x, UNIT,
                branch(conv("branch0", Conv.of(256, 1))),
                branch(conv("branch1_0", Conv.of(384, 1)),
                        fork(conv("branch1_1a", Conv.of(256, 1, 3).pad(0, 1)), conv("branch1_1b", Conv.of(256, 3, 1).pad(1, 0)))),
                branch(conv("branch2_0", Conv.of(384, 1)), conv("branch2_1", Conv.of(448, 3, 1).pad(1, 0)),
                        conv("branch2_2", Conv.of(512, 1, 3).pad(0, 1)),
                        fork(conv("branch2_3a", Conv.of(256, 1, 3).pad(0, 1)), conv("branch2_3b", Conv.of(256, 3, 1).pad(1, 0)))),
                sequential("branch3", avgPool(AVG_3X3), conv(Conv.of(256, 1))));
    }
}
