package dev.cnnzoo.googlenet;

import static dev.cnnzoo.blocks.Inception.avgPool;
import static dev.cnnzoo.blocks.Inception.conv;
import static dev.cnnzoo.blocks.Inception.maxPool;
import static dev.cnnzoo.blocks.Inception.sequential;

import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.blocks.Inception;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Init;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Pool;

/**
 * Inception-ResNet (Szegedy et al. 2016, §3.2): inception modules whose concatenated branches are
 * projected back to the input's width by a linear 1×1 convolution, scaled down, and added to the
 * input before the ReLU. §3.3: residuals scaled by 0.1 to 0.3 keep the wide networks from dying
 * early in training; both versions here use 0.17, 0.10 and 0.20 on the 35×35, 17×17 and 8×8 grids
 * (Google's released models' factors, inside the paper's range). Batch norm follows the ordinary
 * convolutions (ε = 0.001) but not the summations (§3.2), so the projections carry a bias and no
 * batch norm.
 *
 * <p>{@code inception-resnet-v2} is the model Google released and timm ships
 * ({@code inception_resnet_v2}), with timm's parameter names: it keeps Inception-v4's reductions
 * but starts from Inception v3's stem and a {@code Mixed_5b} module, is 320/1088/2080 maps wide,
 * repeats its blocks 10, 20 and 10 times (the last without ReLU) and ends in a 1×1 convolution to
 * 1536 maps, where the paper's Figure 15 draws 5, 10 and 5 blocks on Inception-v4's stem.
 *
 * <p>{@code inception-resnet-v1} has no released model; it is built from the paper's figures: the
 * stem of Figure 14, 5 × Inception-ResNet-A (Figure 10), Reduction-A with k, l, m, n = 192, 192,
 * 256, 384 (Figure 7, Table 1), 10 × Inception-ResNet-B (Figure 11), Reduction-B (Figure 12),
 * 5 × Inception-ResNet-C (Figure 13), average pooling, dropout (keep 0.8) and a linear
 * classifier (Figure 15). It takes the v2 model's names for its corresponding parts.
 */
final class InceptionResNet {
    private InceptionResNet() {
    }

    /** The convolutions as in Inception-v4: conv → batch norm (ε = 0.001) → ReLU, PyTorch's default initialisation. */
    private static final Inception.ConvUnit UNIT = InceptionV4.UNIT;
    private static final Pool MAX_3X3_S2 = InceptionV4.MAX_3X3_S2;

    private static final double SCALE_35 = 0.17;
    private static final double SCALE_17 = 0.10;
    private static final double SCALE_8 = 0.20;

    /**
     * The residual blocks on one grid: how many, and the filters of their branches' convolutions
     * ({@code branch2} only on the 35×35 grid).
     */
    record Blocks(int repeats, int branch0, int[] branch1, int[] branch2) {
    }

    /**
     * What sets the two networks apart; {@link #build} writes their common plan once: stem,
     * Inception-ResNet-A blocks, Reduction-A, -B blocks, Reduction-B, -C blocks, classifier.
     *
     * @param releasedStem  Inception v3's stem with a 3×3/2 max pool and {@code Mixed_5b} (the released
     *                      v2), or Figure 14's stem ending in a stride-2 3×3 convolution to 256 maps
     * @param reductionA    Figure 7's k, l, m, n (Table 1)
     * @param reductionB    the filters of Reduction-B's three convolution branches
     * @param releasedTail  the last 8×8 block unscaled and without ReLU, then a 1×1 convolution to 1536
     *                      maps (the released v2)
     */
    record Variant(boolean releasedStem, Blocks a, int[] reductionA, Blocks b, int[][] reductionB, Blocks c,
            boolean releasedTail) {

        /** Inception-ResNet-v1 from the paper's Figures 7 and 10–15: 5, 10 and 5 blocks, 35×35×256 → 17×17×896 → 8×8×1792. */
        static final Variant V1 = new Variant(false,
                new Blocks(5, 32, new int[] {32, 32}, new int[] {32, 32, 32}),                     // Figure 10
                new int[] {192, 192, 256, 384},
                new Blocks(10, 128, new int[] {128, 128, 128}, null),                               // Figure 11
                new int[][] {{256, 384}, {256, 256}, {256, 256, 256}},                              // Figure 12
                new Blocks(5, 192, new int[] {192, 192, 192}, null),                                // Figure 13
                false);

        /** Inception-ResNet-v2 as released (timm's {@code inception_resnet_v2}): 35×35×320 → 17×17×1088 → 8×8×2080. */
        static final Variant V2 = new Variant(true,
                new Blocks(10, 32, new int[] {32, 32}, new int[] {32, 48, 64}),                     // Figure 16
                new int[] {256, 256, 384, 384},
                new Blocks(20, 192, new int[] {128, 160, 192}, null),                               // Figure 17
                new int[][] {{256, 384}, {256, 288}, {256, 288, 320}},                              // Figure 18
                new Blocks(10, 192, new int[] {192, 224, 256}, null),                               // Figure 19
                true);
    }

    /**
     * The network for {@code variant}. Feature stages: conv2d_2b (/2), conv2d_4a (/4) and the last
     * map on each grid: the 35×35 blocks (/8), the 17×17 blocks (/16), and the 8×8 blocks or, in the
     * released v2, the 1×1 convolution after them (/32).
     */
    static Graph build(String id, Variant variant, ModelConfig config) {
        Net net = new Net(id);
        int[] size = config.inputSize();
        Value x = net.input(config.inputChannels(), size[0], size[1]);
        // Figure 14 (v1): 299 → 149 → 147 → 147 → 73 → 73 → 71 → 35×35×256.
        x = UNIT.apply(net, "conv2d_1a", x, Conv.of(32, 3).stride(2));
        x = UNIT.apply(net, "conv2d_2a", x, Conv.of(32, 3));
        x = net.feature("conv2d_2b", UNIT.apply(net, "conv2d_2b", x, Conv.of(64, 3).pad(1)));
        x = net.maxPool("maxpool_3a", x, MAX_3X3_S2);
        x = UNIT.apply(net, "conv2d_3b", x, Conv.of(80, 1));
        x = net.feature("conv2d_4a", UNIT.apply(net, "conv2d_4a", x, Conv.of(192, 3)));
        if (variant.releasedStem()) {
            x = net.maxPool("maxpool_5a", x, MAX_3X3_S2);
            x = Inception.module(net, "mixed_5b", x, UNIT,                                        // 35×35×320
                    sequential("branch0", conv(Conv.of(96, 1))),
                    sequential("branch1", conv(Conv.of(48, 1)), conv(Conv.of(64, 5).pad(2))),
                    sequential("branch2", conv(Conv.of(64, 1)), conv(Conv.of(96, 3).pad(1)), conv(Conv.of(96, 3).pad(1))),
                    sequential("branch3", avgPool(InceptionV4.AVG_3X3), conv(Conv.of(64, 1))));
        } else {
            x = UNIT.apply(net, "conv2d_4b", x, Conv.of(256, 3).stride(2));
        }
        Blocks a = variant.a();
        try (var s = net.scope("repeat")) {
            for (int i = 0; i < a.repeats(); i++) {
                x = blockA(net, Integer.toString(i), x, a.branch0(), a.branch1(), a.branch2());
            }
        }
        int[] klmn = variant.reductionA();
        x = InceptionV4.reductionA(net, "mixed_6a", net.feature("repeat", x), klmn[0], klmn[1], klmn[2], klmn[3]);
        Blocks b = variant.b();
        try (var s = net.scope("repeat_1")) {
            for (int i = 0; i < b.repeats(); i++) {
                x = blockB(net, Integer.toString(i), x, b.branch0(), b.branch1());
            }
        }
        int[][] rb = variant.reductionB();
        x = reductionB(net, "mixed_7a", net.feature("repeat_1", x), rb[0], rb[1], rb[2]);
        Blocks c = variant.c();
        int scaled = variant.releasedTail() ? c.repeats() - 1 : c.repeats();
        try (var s = net.scope("repeat_2")) {
            for (int i = 0; i < scaled; i++) {
                x = blockC(net, Integer.toString(i), x, SCALE_8, true, c.branch0(), c.branch1());
            }
        }
        if (variant.releasedTail()) {
            // The released model's tenth 8×8 block is unscaled and has no ReLU; a 1×1 convolution follows.
            x = blockC(net, "block8", x, 1.0, false, c.branch0(), c.branch1());
            x = net.feature("conv2d_7b", UNIT.apply(net, "conv2d_7b", x, Conv.of(1536, 1)));
        } else {
            x = net.feature("repeat_2", x);
        }
        return top(net, x, config);
    }

    /** The 35×35 block (v1: Figure 10; v2: Figure 16): 1×1; 1×1 → 3×3; 1×1 → 3×3 → 3×3. */
    private static Value blockA(Net net, String name, Value x, int b0, int[] b1, int[] b2) {
        return residual(net, name, x, SCALE_35, true,
                sequential("branch0", conv(Conv.of(b0, 1))),
                sequential("branch1", conv(Conv.of(b1[0], 1)), conv(Conv.of(b1[1], 3).pad(1))),
                sequential("branch2", conv(Conv.of(b2[0], 1)), conv(Conv.of(b2[1], 3).pad(1)), conv(Conv.of(b2[2], 3).pad(1))));
    }

    /** The 17×17 block (v1: Figure 11; v2: Figure 17): 1×1; 1×1 → 1×7 → 7×1. */
    private static Value blockB(Net net, String name, Value x, int b0, int[] b1) {
        return residual(net, name, x, SCALE_17, true,
                sequential("branch0", conv(Conv.of(b0, 1))),
                sequential("branch1", conv(Conv.of(b1[0], 1)), conv(Conv.of(b1[1], 1, 7).pad(0, 3)), conv(Conv.of(b1[2], 7, 1).pad(3, 0))));
    }

    /** The 8×8 block (v1: Figure 13; v2: Figure 19): 1×1; 1×1 → 1×3 → 3×1. */
    private static Value blockC(Net net, String name, Value x, double scale, boolean relu, int b0, int[] b1) {
        return residual(net, name, x, scale, relu,
                sequential("branch0", conv(Conv.of(b0, 1))),
                sequential("branch1", conv(Conv.of(b1[0], 1)), conv(Conv.of(b1[1], 1, 3).pad(0, 1)), conv(Conv.of(b1[2], 3, 1).pad(1, 0))));
    }

    /**
     * The 17×17 → 8×8 reduction (v1: Figure 12; v2: Figure 18): 1×1 → stride-2 3×3; 1×1 → stride-2 3×3;
     * 1×1 → 3×3 → stride-2 3×3; stride-2 max pool.
     */
    private static Value reductionB(Net net, String name, Value x, int[] b0, int[] b1, int[] b2) {
        return Inception.module(net, name, x, UNIT,
                sequential("branch0", conv(Conv.of(b0[0], 1)), conv(Conv.of(b0[1], 3).stride(2))),
                sequential("branch1", conv(Conv.of(b1[0], 1)), conv(Conv.of(b1[1], 3).stride(2))),
                sequential("branch2", conv(Conv.of(b2[0], 1)), conv(Conv.of(b2[1], 3).pad(1)), conv(Conv.of(b2[2], 3).stride(2))),
                sequential("branch3", maxPool(MAX_3X3_S2)));
    }

    /**
     * An Inception-ResNet block: the branches, concatenated, projected linearly back to the input's
     * maps ({@code conv2d}, with bias, no batch norm), scaled, added to the input, then ReLU.
     */
    private static Value residual(Net net, String name, Value x, double scale, boolean relu, Inception.Branch... branches) {
        try (var s = net.scope(name)) {
            Value mixed = Inception.branches(net, x, UNIT, branches);
            Value projected = net.conv("conv2d", mixed, Conv.of(x.shape().dim(1), 1).init(Init.pytorchDefault()));
            Value sum = net.add(scale == 1.0 ? projected : net.scale(projected, scale), x);
            return relu ? net.relu(sum) : sum;
        }
    }

    /** Average pooling, dropout (keep 0.8, Figure 15) and the classifier, named as timm's {@code classif}. */
    private static Graph top(Net net, Value x, ModelConfig config) {
        double dropout = config.dropoutOr(0.2);
        net.top(x, config.head(), f -> {
            Value h = net.dropout(Heads.globalAverage(net, "global_pool", f), dropout);
            return net.dense("classif", h, config.classes(), Init.pytorchDefault(), Init.zeros());
        });
        return net.build();
    }
}
