package dev.cnnzoo.googlenet;

import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Init;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.BatchNorm;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Pool;

/**
 * Xception (Chollet 2017, Figure 5): the inception module taken to its limit, a stack of depthwise
 * separable convolutions with residual connections. The entry flow takes 299×299 to 19×19×728
 * through two convolutions and three blocks that each end in a 3×3/2 max pool beside a 1×1/2
 * projection shortcut; the middle flow repeats a block of three separable convolutions with an
 * identity shortcut eight times; the exit flow reduces once more and widens to 2048 maps. Every
 * convolution is followed by batch norm, and separable convolutions have no ReLU between their
 * depthwise and pointwise parts (§4.7).
 *
 * <p>Written as Keras Applications writes it, the model Keras's count (and Google's released
 * weights) belong to: SAME padding, batch norm ε = 0.001 and momentum 0.99, Glorot-uniform
 * initialisation, and Keras's layer names ({@code block2_sepconv1}, {@code block2_sepconv1_bn});
 * the projection shortcuts Keras leaves unnamed are {@code blockN_shortcut}[{@code _bn}]. For
 * ImageNet the paper puts 50% dropout before the classifier (§4.3). Feature stages, named as
 * Keras names the layers: {@code block1_conv2_act} (/2), the entry blocks 2 and 3 (/4, /8), the
 * middle flow's last block 12 (/16) and {@code block14_sepconv2_act} (/32).
 */
final class Xception {
    private Xception() {
    }

    /** Keras's BatchNormalization defaults: ε = 0.001, moving averages decayed by 0.99 (PyTorch momentum 0.01). */
    private static final BatchNorm BN = BatchNorm.defaults().epsilon(1e-3).momentum(0.01);
    private static final int MIDDLE_FLOW_REPEATS = 8;

    static Graph build(String id, ModelConfig config) {
        Net net = new Net(id);
        int[] size = config.inputSize();
        Value x = net.input(config.inputChannels(), size[0], size[1]);
        // Entry flow.
        x = net.relu(convBn(net, "block1_conv1", x, Conv.of(32, 3).stride(2)));       // 149×149×32
        x = net.feature("block1_conv2_act", net.relu(convBn(net, "block1_conv2", x, Conv.of(64, 3))));   // 147×147×64
        x = net.feature("block2", entryBlock(net, 2, x, 128, false));                 // 74×74×128
        x = net.feature("block3", entryBlock(net, 3, x, 256, true));                  // 37×37×256
        x = entryBlock(net, 4, x, 728, true);                                         // 19×19×728
        // Middle flow: blocks 5 to 12, identity shortcuts.
        for (int block = 5; block < 5 + MIDDLE_FLOW_REPEATS; block++) {
            Value y = x;
            for (int i = 1; i <= 3; i++) {
                y = sepConvBn(net, "block" + block + "_sepconv" + i, net.relu(y), 728);
            }
            x = net.add(y, x);
        }
        net.feature("block" + (4 + MIDDLE_FLOW_REPEATS), x);
        // Exit flow.
        Value shortcut = convBn(net, "block13_shortcut", x, Conv.of(1024, 1).stride(2).same());
        Value y = sepConvBn(net, "block13_sepconv1", net.relu(x), 728);
        y = sepConvBn(net, "block13_sepconv2", net.relu(y), 1024);
        y = net.maxPool("block13_pool", y, Pool.of(3).stride(2).same());
        x = net.add(y, shortcut);                                                     // 10×10×1024
        x = net.relu(sepConvBn(net, "block14_sepconv1", x, 1536));
        x = net.feature("block14_sepconv2_act", net.relu(sepConvBn(net, "block14_sepconv2", x, 2048)));   // 10×10×2048
        double dropout = config.dropoutOr(0.5);
        net.top(x, config.head(), f -> {
            Value h = net.dropout(Heads.globalAverage(net, "avg_pool", f), dropout);
            return net.dense("predictions", h, config.classes(), Init.glorotUniform(), Init.zeros());
        });
        return net.build();
    }

    /**
     * An entry-flow block: [ReLU] sepconv → ReLU → sepconv → 3×3/2 max pool, plus a 1×1/2 projection
     * of the block's input. The first block starts without ReLU: its input has just had one.
     */
    private static Value entryBlock(Net net, int block, Value x, int filters, boolean startWithRelu) {
        String prefix = "block" + block;
        Value shortcut = convBn(net, prefix + "_shortcut", x, Conv.of(filters, 1).stride(2).same());
        Value y = sepConvBn(net, prefix + "_sepconv1", startWithRelu ? net.relu(x) : x, filters);
        y = sepConvBn(net, prefix + "_sepconv2", net.relu(y), filters);
        y = net.maxPool(prefix + "_pool", y, Pool.of(3).stride(2).same());
        return net.add(y, shortcut);
    }

    /** A bias-free convolution and its batch norm, named {@code name} and {@code name_bn} as Keras names them. */
    private static Value convBn(Net net, String name, Value x, Conv conv) {
        return net.batchNorm(name + "_bn", net.conv(name, x, conv.noBias().init(Init.glorotUniform())), BN);
    }

    /** A 3×3 SAME depthwise separable convolution without bias ({@code name.depthwise}, {@code name.pointwise}), then batch norm. */
    private static Value sepConvBn(Net net, String name, Value x, int filters) {
        Value y = net.separableConv(name, x, Conv.of(filters, 3).same().noBias().init(Init.glorotUniform()));
        return net.batchNorm(name + "_bn", y, BN);
    }
}
