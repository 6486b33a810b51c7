package dev.cnnzoo.googlenet;

import static dev.cnnzoo.blocks.Inception.avgPool;
import static dev.cnnzoo.blocks.Inception.branch;
import static dev.cnnzoo.blocks.Inception.conv;
import static dev.cnnzoo.blocks.Inception.fork;
import static dev.cnnzoo.blocks.Inception.maxPool;

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
 * Inception v3 (Szegedy et al. 2015, "Rethinking the Inception architecture"), as Google released
 * it and torchvision ships it, with torchvision's state-dict names. The paper's design principles
 * appear module by module: the 5×5 convolution factorised into two 3×3 (§3.1, Figure 5: the
 * 35×35 modules {@code Mixed_5b}–{@code 5d}), n×n factorised into 1×n and n×1 with n = 7 on the
 * 17×17 grid (§3.2, Figure 6: {@code Mixed_6b}–{@code 6e}), the expanded filter banks on the 8×8 grid
 * (Figure 7: {@code Mixed_7b}, {@code 7c}), and grid reductions that run a stride-2 convolution
 * beside a stride-2 pooling (§5, Figure 10: {@code Mixed_6a}, {@code 7a}). One auxiliary classifier
 * with batch norm sits on the 17×17 grid (§4). Every convolution is conv → batch norm (ε = 0.001)
 * → ReLU; input 299×299. As for {@code googlenet-bn}, torchvision's {@code transform_input} is
 * left to preprocessing: the model expects pixels scaled to [−1, 1]. Feature stages: the last map
 * before each grid reduction ({@code Conv2d_2b_3x3}, {@code Conv2d_4a_3x3}, {@code Mixed_5d},
 * {@code Mixed_6e}) and {@code Mixed_7c}, as timm's {@code features_only} taps them.
 */
final class InceptionV3 {
    private InceptionV3() {
    }

    private static final BatchNorm BN = BatchNorm.defaults().epsilon(1e-3);
    /** torchvision's initialisation: every weight from N(0, 0.1) (its truncation at ±2 is 20σ), save the marked ones. */
    private static final Inception.ConvUnit UNIT = convBnRelu(0.1);
    /** The pooling branches average over 3×3 with zero padding counted, as TensorFlow's and torchvision's do. */
    private static final Pool POOL_3X3 = Pool.of(3).stride(1).pad(1).countIncludePad();

    static Graph build(String id, ModelConfig config) {
        Net net = new Net(id);
        int[] size = config.inputSize();
        Value x = net.input(config.inputChannels(), size[0], size[1]);
        // The stem (Table 1 of the paper, as implemented): 299 → 149 → 147 → 147 → 73 → 73 → 71 → 35.
        x = UNIT.apply(net, "Conv2d_1a_3x3", x, Conv.of(32, 3).stride(2));
        x = UNIT.apply(net, "Conv2d_2a_3x3", x, Conv.of(32, 3));
        x = net.feature("Conv2d_2b_3x3", UNIT.apply(net, "Conv2d_2b_3x3", x, Conv.of(64, 3).pad(1)));
        x = net.maxPool("maxpool1", x, Pool.of(3).stride(2));
        x = UNIT.apply(net, "Conv2d_3b_1x1", x, Conv.of(80, 1));
        x = net.feature("Conv2d_4a_3x3", UNIT.apply(net, "Conv2d_4a_3x3", x, Conv.of(192, 3)));
        x = net.maxPool("maxpool2", x, Pool.of(3).stride(2));
        // 35×35: three Figure 5 modules.
        x = moduleA(net, "Mixed_5b", x, 32);
        x = moduleA(net, "Mixed_5c", x, 64);
        x = net.feature("Mixed_5d", moduleA(net, "Mixed_5d", x, 64));
        x = reductionTo17(net, "Mixed_6a", x);
        // 17×17: four Figure 6 modules with n = 7, their inner widths growing.
        x = moduleC(net, "Mixed_6b", x, 128);
        x = moduleC(net, "Mixed_6c", x, 160);
        x = moduleC(net, "Mixed_6d", x, 160);
        x = net.feature("Mixed_6e", moduleC(net, "Mixed_6e", x, 192));
        Value aux = config.auxiliary() && config.includeTop() ? auxiliary(net, x, config.classes()) : null;
        x = reductionTo8(net, "Mixed_7a", x);
        // 8×8: two Figure 7 modules.
        x = moduleE(net, "Mixed_7b", x);
        x = net.feature("Mixed_7c", moduleE(net, "Mixed_7c", x));
        double dropout = config.dropoutOr(0.5);
        net.top(x, config.head(), features -> {
            Value h = net.dropout(Heads.globalAverage(net, "avgpool", features), dropout);
            return net.dense("fc", h, config.classes(), Init.normal(0.1), Init.zeros());
        });
        if (aux != null) {
            net.auxiliaryOutput("aux1", aux);
        }
        return net.build();
    }

    /** Figure 5: 1×1; 1×1 → 5×5; 1×1 → 3×3 → 3×3 (the factorised 5×5); 3×3 average pool → 1×1. */
    private static Value moduleA(Net net, String name, Value x, int poolFeatures) {
        return Inception.module(net, name, x, UNIT,
                branch(conv("branch1x1", Conv.of(64, 1))),
                branch(conv("branch5x5_1", Conv.of(48, 1)), conv("branch5x5_2", Conv.of(64, 5).pad(2))),
                branch(conv("branch3x3dbl_1", Conv.of(64, 1)), conv("branch3x3dbl_2", Conv.of(96, 3).pad(1)),
                        conv("branch3x3dbl_3", Conv.of(96, 3).pad(1))),
                branch(avgPool(POOL_3X3), conv("branch_pool", Conv.of(poolFeatures, 1))));
    }

    /** Figure 10's grid reduction, 35×35×288 → 17×17×768: stride-2 convolutions beside a stride-2 max pool. */
    private static Value reductionTo17(Net net, String name, Value x) {
        return Inception.module(net, name, x, UNIT,
                branch(conv("branch3x3", Conv.of(384, 3).stride(2))),
                branch(conv("branch3x3dbl_1", Conv.of(64, 1)), conv("branch3x3dbl_2", Conv.of(96, 3).pad(1)),
                        conv("branch3x3dbl_3", Conv.of(96, 3).stride(2))),
                branch(maxPool(Pool.of(3).stride(2))));
    }

    /** Figure 6 with n = 7: 1×1; 1×1 → 1×7 → 7×1; 1×1 → (7×1 → 1×7) twice; 3×3 average pool → 1×1. */
    private static Value moduleC(Net net, String name, Value x, int c7) {
        return Inception.module(net, name, x, UNIT,
                branch(conv("branch1x1", Conv.of(192, 1))),
                branch(conv("branch7x7_1", Conv.of(c7, 1)), conv("branch7x7_2", Conv.of(c7, 1, 7).pad(0, 3)),
                        conv("branch7x7_3", Conv.of(192, 7, 1).pad(3, 0))),
                branch(conv("branch7x7dbl_1", Conv.of(c7, 1)), conv("branch7x7dbl_2", Conv.of(c7, 7, 1).pad(3, 0)),
                        conv("branch7x7dbl_3", Conv.of(c7, 1, 7).pad(0, 3)), conv("branch7x7dbl_4", Conv.of(c7, 7, 1).pad(3, 0)),
                        conv("branch7x7dbl_5", Conv.of(192, 1, 7).pad(0, 3))),
                branch(avgPool(POOL_3X3), conv("branch_pool", Conv.of(192, 1))));
    }

    /** The second grid reduction, 17×17×768 → 8×8×1280. */
    private static Value reductionTo8(Net net, String name, Value x) {
        return Inception.module(net, name, x, UNIT,
                branch(conv("branch3x3_1", Conv.of(192, 1)), conv("branch3x3_2", Conv.of(320, 3).stride(2))),
                branch(conv("branch7x7x3_1", Conv.of(192, 1)), conv("branch7x7x3_2", Conv.of(192, 1, 7).pad(0, 3)),
                        conv("branch7x7x3_3", Conv.of(192, 7, 1).pad(3, 0)), conv("branch7x7x3_4", Conv.of(192, 3).stride(2))),
                branch(maxPool(Pool.of(3).stride(2))));
    }

    /** Figure 7, the expanded filter bank: the 3×3 branches end in a 1×3 and a 3×1 side by side. */
    private static Value moduleE(Net net, String name, Value x) {
        return Inception.module(net, name, x, UNIT,
                branch(conv("branch1x1", Conv.of(320, 1))),
                branch(conv("branch3x3_1", Conv.of(384, 1)),
                        fork(conv("branch3x3_2a", Conv.of(384, 1, 3).pad(0, 1)), conv("branch3x3_2b", Conv.of(384, 3, 1).pad(1, 0)))),
                branch(conv("branch3x3dbl_1", Conv.of(448, 1)), conv("branch3x3dbl_2", Conv.of(384, 3).pad(1)),
                        fork(conv("branch3x3dbl_3a", Conv.of(384, 1, 3).pad(0, 1)), conv("branch3x3dbl_3b", Conv.of(384, 3, 1).pad(1, 0)))),
                branch(avgPool(POOL_3X3), conv("branch_pool", Conv.of(192, 1))));
    }

    /**
     * §4's auxiliary classifier with batch norm ("BN-auxiliary"): 5×5/3 average pooling (17×17 → 5×5),
     * conv 128 1×1, conv 768 5×5 (to 1×1), average, and a linear classifier.
     */
    private static Value auxiliary(Net net, Value x, int classes) {
        try (var s = net.scope("AuxLogits")) {
            Value h = net.avgPool(x, Pool.of(5).stride(3));
            h = UNIT.apply(net, "conv0", h, Conv.of(128, 1));
            h = convBnRelu(0.01).apply(net, "conv1", h, Conv.of(768, 5));
            h = net.flatten(net.globalAvgPool(h));
            return net.dense("fc", h, classes, Init.normal(0.001), Init.zeros());
        }
    }

    private static Inception.ConvUnit convBnRelu(double std) {
        return (net, name, x, c) -> ConvBn.convBnRelu(net, name, x, c.init(Init.normal(std)), BN);
    }
}
