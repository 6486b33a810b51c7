package dev.cnnzoo.googlenet;

import static dev.cnnzoo.blocks.Inception.conv;
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
import dev.cnnzoo.nn.Lrn;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Pool;
import java.util.List;

/**
 * GoogLeNet (Szegedy et al. 2014), in two forms that share the paper's Table 1: one builder
 * writes the table, a {@link Variant} holds what the forms do differently.
 *
 * <p>{@code googlenet} is the network as published and as Géron's <i>Hands-On Machine Learning</i> (2nd ed., ch. 14) walks through it:
 * convolutions with biases and ReLU, SAME padding throughout, local response normalisation after
 * the first pooling and after the 3×3 convolution, nine inception modules, 7×7 average pooling
 * (VALID), 40% dropout and a linear classifier; two auxiliary classifiers on 4a and 4d (§5). The
 * parameter names follow torchvision's layout ({@code conv1}, {@code inception3a.branch2.1},
 * {@code aux1.fc1}) without its batch norms.
 *
 * <p>{@code googlenet-bn} is the network torchvision ships, so its weights load by name: batch norm
 * (ε = 0.001) after every convolution, no LRN, ceil-mode pooling, and, as torchvision has it, a
 * 3×3 convolution where Table 1 has the 5×5 one (pytorch/vision#906, kept for the published
 * weights). Its auxiliary heads pool adaptively to 4×4 where the paper pools 5×5/3. torchvision's
 * {@code transform_input} (re-normalising ImageNet-standardised input to [−1, 1]) is preprocessing,
 * not network: the zoo records Inception's [−1, 1] scaling as this model's preprocessing instead,
 * which is what the ported weights expect once that step is taken out.
 */
final class GoogLeNet {
    private GoogLeNet() {
    }

    /** One inception row of Table 1: the filters of its six convolutions. */
    record Module(String name, int n1x1, int reduce3x3, int n3x3, int reduce5x5, int n5x5, int poolProj) {
    }

    /** Table 1 of Szegedy et al. 2014, the inception rows. A 3×3/2 max pool follows 3b and 4e. */
    static final List<Module> TABLE_1 = List.of(
            new Module("inception3a", 64, 96, 128, 16, 32, 32),
            new Module("inception3b", 128, 128, 192, 32, 96, 64),
            new Module("inception4a", 192, 96, 208, 16, 48, 64),
            new Module("inception4b", 160, 112, 224, 24, 64, 64),
            new Module("inception4c", 128, 128, 256, 24, 64, 64),
            new Module("inception4d", 112, 144, 288, 32, 64, 64),
            new Module("inception4e", 256, 160, 320, 32, 128, 128),
            new Module("inception5a", 256, 160, 320, 32, 128, 128),
            new Module("inception5b", 384, 192, 384, 48, 128, 128));

    /** The modules the auxiliary classifiers sit on (§5: "on top of the output of the (4a) and (4d) modules"). */
    private static final String AUX1_ON = "inception4a";
    private static final String AUX2_ON = "inception4d";

    /** Géron's LRN: depth radius 2, α = 0.00002, β = 0.75, k = 1 (Caffe's size 5, α 0.0001). */
    static final Lrn LRN = Lrn.ofRadius(2, 2e-5, 0.75, 1);

    /**
     * Caffe's "xavier" filler, the initialisation of the BVLC reproduction (the paper states none):
     * uniform in ±√(3 / fan-in).
     */
    static final Init XAVIER = (shape, random) -> {
        double bound = Math.sqrt(3.0 / Init.fanIn(shape));
        return Init.uniform(-bound, bound).sample(shape, random);
    };
    /** The BVLC reproduction starts ReLU layers' biases at 0.2 so every unit begins active. */
    private static final Init RELU_BIAS = Init.constant(0.2f);

    /**
     * What sets the published network and torchvision's apart; {@link #build} writes Table 1 once
     * for both.
     *
     * @param unit            every convolution: conv → ReLU, or conv → batch norm → ReLU
     * @param lrn             the local response normalisation after the first pooling and after conv3, or null
     * @param samePadding     SAME padding and pooling throughout, or torchvision's explicit padding with
     *                        ceil-mode pooling
     * @param wideKernel      the kernel of the branch Table 1 calls "5×5"
     * @param maxPool4Window  the window of the pooling after 4e
     * @param fixedAvgPool    Table 1's 7×7/1 average pooling (VALID) before the classifier, or global average pooling
     * @param dropout         before the classifier
     * @param denseInit       the classifiers' weights
     * @param hiddenBias      the biases of the auxiliary heads' hidden dense layer
     * @param adaptiveAuxPool the auxiliary heads pool adaptively to 4×4, or 5×5/3 (§5)
     */
    record Variant(Inception.ConvUnit unit, Lrn lrn, boolean samePadding, int wideKernel, int maxPool4Window,
            boolean fixedAvgPool, double dropout, Init denseInit, Init hiddenBias, boolean adaptiveAuxPool) {

        /**
         * The network as published: convolutions with biases and ReLU (Caffe's xavier weights, 0.2
         * biases), LRN, SAME padding, Table 1's 5×5 and 3×3 poolings and 7×7 average pooling, 40% dropout.
         */
        static final Variant PAPER = new Variant(
                (n, name, x, c) -> n.relu(n.conv(name, x, c.init(XAVIER).biasInit(RELU_BIAS))),
                LRN, true, 5, 3, true, 0.4, XAVIER, RELU_BIAS, false);

        /**
         * torchvision's: batch norm (ε = 0.001) after every convolution, weights from N(0, 0.01) (its
         * trunc_normal_ cuts at ±2, i.e. 200σ), no LRN, ceil-mode pooling, a 3×3 convolution in place
         * of the 5×5 (pytorch/vision#906), 2×2/2 pooling after 4e where Table 1 has 3×3/2 (both
         * halve 14×14), global average pooling, 20% dropout, auxiliary heads pooling to 4×4.
         */
        static final Variant TORCHVISION = new Variant(
                (n, name, x, c) -> ConvBn.convBnRelu(n, name, x, c.init(Init.normal(0.01)), BatchNorm.defaults().epsilon(1e-3)),
                null, false, 3, 2, false, 0.2, Init.normal(0.01), Init.zeros(), true);

        /** A convolution that keeps the grid: SAME, or padded by half its kernel. */
        Conv conv(int filters, int kernel) {
            return samePadding ? Conv.of(filters, kernel).same() : Conv.of(filters, kernel).pad(kernel / 2);
        }

        /** A stride-2 max pooling, SAME or ceil-mode. */
        Pool halving(int window) {
            Pool pool = Pool.of(window).stride(2);
            return samePadding ? pool.same() : pool.ceil();
        }

        /** The pooling branch's 3×3/1 max pooling. */
        Pool branchPool() {
            Pool pool = Pool.of(3).stride(1);
            return samePadding ? pool.same() : pool.pad(1);
        }
    }

    /**
     * The network for {@code variant}. Feature stages: conv1 (/2), the maps before each grid
     * reduction (conv3, or norm2 where LRN follows it, /4; inception3b, /8; inception4e, /16) and
     * inception5b (/32).
     */
    static Graph build(String id, Variant variant, ModelConfig config) {
        Net net = new Net(id);
        int[] size = config.inputSize();
        Inception.ConvUnit unit = variant.unit();
        Value x = net.input(config.inputChannels(), size[0], size[1]);
        x = net.feature("conv1", unit.apply(net, "conv1", x, variant.conv(64, 7).stride(2)));
        x = net.maxPool("maxpool1", x, variant.halving(3));
        if (variant.lrn() != null) {
            x = net.lrn("norm1", x, variant.lrn());
        }
        x = unit.apply(net, "conv2", x, Conv.of(64, 1));
        x = unit.apply(net, "conv3", x, variant.conv(192, 3));
        x = variant.lrn() != null ? net.feature("norm2", net.lrn("norm2", x, variant.lrn())) : net.feature("conv3", x);
        x = net.maxPool("maxpool2", x, variant.halving(3));

        boolean aux = config.auxiliary() && config.includeTop();
        Value aux1 = null;
        Value aux2 = null;
        for (Module m : TABLE_1) {
            x = Inception.module(net, m.name(), x, unit,
                    sequential("branch1", conv(Conv.of(m.n1x1(), 1))),
                    sequential("branch2", conv(Conv.of(m.reduce3x3(), 1)), conv(variant.conv(m.n3x3(), 3))),
                    sequential("branch3", conv(Conv.of(m.reduce5x5(), 1)), conv(variant.conv(m.n5x5(), variant.wideKernel()))),
                    sequential("branch4", maxPool(variant.branchPool()), conv(Conv.of(m.poolProj(), 1))));
            if (aux && m.name().equals(AUX1_ON)) {
                aux1 = auxiliary(net, "aux1", x, config.classes(), variant);
            }
            if (aux && m.name().equals(AUX2_ON)) {
                aux2 = auxiliary(net, "aux2", x, config.classes(), variant);
            }
            if (m.name().equals("inception3b")) {
                x = net.maxPool("maxpool3", net.feature(m.name(), x), variant.halving(3));
            }
            if (m.name().equals("inception4e")) {
                x = net.maxPool("maxpool4", net.feature(m.name(), x), variant.halving(variant.maxPool4Window()));
            }
        }
        x = net.feature("inception5b", x);
        double dropout = config.dropoutOr(variant.dropout());
        net.top(x, config.head(), features -> {
            // Table 1's 7×7/1 average pooling, VALID: at 224×224 the text's global average pooling.
            Value h = variant.fixedAvgPool() ? net.flatten(net.avgPool("avgpool", features, Pool.of(7).stride(1)))
                    : Heads.globalAverage(net, "avgpool", features);
            h = net.dropout(h, dropout);
            return net.dense("fc", h, config.classes(), variant.denseInit(), Init.zeros());
        });
        addAuxiliaryOutputs(net, aux1, aux2);
        return net.build();
    }

    /**
     * An auxiliary classifier (§5): average pooling to 4×4 (5×5/3 on 14×14 maps, or adaptively as
     * torchvision pools), a 1×1 convolution of 128 filters, a dense layer of 1024 with ReLU, 70%
     * dropout, and a linear classifier.
     */
    private static Value auxiliary(Net net, String name, Value x, int classes, Variant variant) {
        try (var s = net.scope(name)) {
            Value h = variant.adaptiveAuxPool() ? net.adaptiveAvgPool(x, 4, 4) : net.avgPool(x, Pool.of(5).stride(3));
            h = variant.unit().apply(net, "conv", h, Conv.of(128, 1));
            h = net.relu(net.dense("fc1", net.flatten(h), 1024, variant.denseInit(), variant.hiddenBias()));
            h = net.dropout(h, 0.7);
            return net.dense("fc2", h, classes, variant.denseInit(), Init.zeros());
        }
    }

    /** The auxiliary logits become outputs after the main one, so {@code logits} stays the first output. */
    private static void addAuxiliaryOutputs(Net net, Value aux1, Value aux2) {
        if (aux1 != null) {
            net.auxiliaryOutput("aux1", aux1);
        }
        if (aux2 != null) {
            net.auxiliaryOutput("aux2", aux2);
        }
    }
}
