package dev.cnnzoo.alexnet;

import dev.cnnzoo.api.InvalidConfigException;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Init;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Lrn;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Pool;

/**
 * AlexNet (Krizhevsky, Sutskever and Hinton 2012) as Table 13-2 of Géron, <i>Hands-On Machine Learning</i>
 * (1st ed., ch. 13; ch. 14 of the 2nd, O'Reilly 2019) lays it out,
 * with the max pool after C7 that the paper has (§3.5) and the table leaves out:
 *
 * <pre>
 * layer  type             maps  size     kernel  stride  padding  activation
 * input  RGB image           3  227×227
 * c1     convolution        96  55×55    11×11   4       VALID    ReLU, LRN
 * s2     max pooling        96  27×27    3×3     2       VALID
 * c3     convolution       256  27×27    5×5     1       SAME     ReLU, LRN
 * s4     max pooling       256  13×13    3×3     2       VALID
 * c5     convolution       384  13×13    3×3     1       SAME     ReLU
 * c6     convolution       384  13×13    3×3     1       SAME     ReLU
 * c7     convolution       256  13×13    3×3     1       SAME     ReLU
 * s8     max pooling       256  6×6      3×3     2       VALID
 * f9     fully connected  4096                                    ReLU, dropout 0.5
 * f10    fully connected  4096                                    ReLU, dropout 0.5
 * out    fully connected  1000                                    (softmax in the loss)
 * </pre>
 *
 * The input is 227×227, not the paper's 224: only 227 gives C1's 55×55 maps with an 11×11
 * stride-4 VALID window. Pooling windows overlap (3×3, stride 2; §3.4).
 *
 * <p>The paper split the network over two GPUs (§3.2, Figure 2). With the option {@code groups=2}
 * the layers that saw only their own GPU's maps (the paper's second, fourth and fifth convolutions:
 * c3, c6, c7 here) become grouped convolutions, and the parameter count drops from 62,378,344 to
 * the paper's "60 million" (60,965,224). The fully connected layers were 2×2048 units, but each
 * half read every unit of the layer below on both GPUs, which is exactly one 4096-unit layer; they
 * are written as one.
 *
 * <p>Feature stages: the maps before each pooling (c1 after its LRN, /4; c3, /8; c7, /16) and s8 (/32).
 *
 * <p>Initialisation as §5 gives it: weights from N(0, 0.01²); biases 1 in c3, c6, c7, f9 and f10
 * (so their ReLUs start with positive inputs), 0 elsewhere.
 */
final class AlexNet {
    /** The family option that selects the two-GPU split. */
    static final String GROUPS = "groups";

    /**
     * Géron's local response normalisation (Equation 13-2, 1st ed.): depth radius r = 2,
     * α = 0.00002, β = 0.75, k = 1. ONNX's LRN takes the window size 2r + 1 = 5 and divides its
     * alpha by the size, so {@link Lrn#ofRadius} writes size 5 and alpha 0.00002 · 5 = 1e-4, which
     * are the paper's own n = 5 and α = 10⁻⁴ (§3.3).
     */
    static final Lrn LRN = Lrn.ofRadius(2, 0.00002, 0.75, 1);

    /** Overlapping pooling, §3.4: z = 3, s = 2. */
    static final Pool OVERLAPPING = Pool.of(3).stride(2);

    private static final Init WEIGHTS = Init.normal(0.01);
    private static final Init ONE = Init.ones();
    private static final Init ZERO = Init.zeros();

    private AlexNet() {
    }

    static Graph build(String id, ModelConfig config) {
        int groups = groups(id, config);
        Net net = new Net(id);
        int[] size = config.inputSize();
        Value x = net.input(config.inputChannels(), size[0], size[1]);
        x = net.lrn(net.relu(net.conv("c1", x, conv(96, 11, ZERO).stride(4).valid())), LRN);
        x = net.maxPool("s2", net.feature("c1", x), OVERLAPPING);
        x = net.lrn(net.relu(net.conv("c3", x, conv(256, 5, ONE).same().groups(groups))), LRN);
        x = net.maxPool("s4", net.feature("c3", x), OVERLAPPING);
        x = net.relu(net.conv("c5", x, conv(384, 3, ZERO).same()));
        x = net.relu(net.conv("c6", x, conv(384, 3, ONE).same().groups(groups)));
        x = net.relu(net.conv("c7", x, conv(256, 3, ONE).same().groups(groups)));
        x = net.feature("s8", net.maxPool("s8", net.feature("c7", x), OVERLAPPING));
        double dropout = config.dropoutOr(0.5);
        net.top(x, config.head(), features -> {
            Value h = net.dropout(net.relu(fullyConnected(net, "f9", features, 4096, WEIGHTS, ONE)), dropout);
            h = net.dropout(net.relu(fullyConnected(net, "f10", h, 4096, WEIGHTS, ONE)), dropout);
            return fullyConnected(net, "out", h, config.classes(), WEIGHTS, ZERO);
        });
        return net.build();
    }

    private static Conv conv(int filters, int kernel, Init bias) {
        return Conv.of(filters, kernel).init(WEIGHTS).biasInit(bias);
    }

    /**
     * A fully connected layer. Flattening the maps it reads is written inside its scope, so the
     * summary shows s8 as 256×6×6 maps, the way the table gives it, and f9 as the layer that reads them.
     */
    static Value fullyConnected(Net net, String name, Value x, int units, Init weights, Init bias) {
        Value flat = x;
        if (x.shape().rank() > 2) {
            try (var s = net.scope(name)) {
                flat = net.flatten(x);
            }
        }
        return net.dense(name, flat, units, weights, bias);
    }

    private static int groups(String id, ModelConfig config) {
        String value = config.option(GROUPS, "1").trim();
        return switch (value) {
            case "1" -> 1;
            case "2" -> 2;
            default -> throw new InvalidConfigException("option groups=" + value + " does not fit " + id
                    + ": 1 (one device, the default) or 2 (the paper's two-GPU split)");
        };
    }
}
