package dev.cnnzoo.resnet;

import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.blocks.ResidualUnit;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Init;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.BatchNorm;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Pool;
import java.util.Arrays;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The one ResNet builder: a stem, stages of residual units, and a head. Every member of the
 * family (ResNet, pre-activation ResNet, SE-ResNet; ImageNet and CIFAR) is a {@link Plan}: which
 * stem, how many units per stage, how wide, and which {@link ResidualUnit}.
 *
 * <pre>
 * ImageNet (He et al. 2015, Table 1)          CIFAR (He et al. 2015 §4.2; 2016 §4)
 * conv1   7×7, 64, /2; BN; ReLU                conv1  3×3, 16; BN; ReLU
 * maxpool 3×3, /2
 * layer1  units of width 64                    layer1 units of width 16, 32×32
 * layer2  width 128, first unit /2             layer2 width 32, /2
 * layer3  width 256, /2                        layer3 width 64, /2
 * layer4  width 512, /2
 * [post_bn; ReLU]  pre-activation networks only: the activation after the last unit (2016, §4.1)
 * global average pool, fc
 * </pre>
 *
 * Names are torchvision's ({@code conv1}, {@code bn1}, {@code layer3.5.conv2.weight}, {@code fc}),
 * so torchvision's and timm's ResNet and SE-ResNet state dicts load by name.
 */
final class ResNet {
    /**
     * Units per stage for each ImageNet depth: He et al. 2015, Table 1 (18 to 152); ResNet-200 of
     * He et al. 2016 has [3, 24, 36, 3], as fb.resnet.torch's pre-activation table gives it.
     */
    static final Map<Integer, int[]> IMAGENET_UNITS = Map.of(
            18, new int[] {2, 2, 2, 2},
            34, new int[] {3, 4, 6, 3},
            50, new int[] {3, 4, 6, 3},
            101, new int[] {3, 4, 23, 3},
            152, new int[] {3, 8, 36, 3},
            200, new int[] {3, 24, 36, 3});
    /** The widths of conv2_x to conv5_x (Table 1); a bottleneck unit outputs four times its width. */
    static final int[] IMAGENET_WIDTHS = {64, 128, 256, 512};
    /** The CIFAR networks' three stages on 32×32, 16×16 and 8×8 maps (He et al. 2015, §4.2). */
    static final int[] CIFAR_WIDTHS = {16, 32, 64};

    enum Stem {
        /** 7×7/2 convolution, BN, ReLU, 3×3/2 max pooling: 224 → 56. */
        IMAGENET,
        /** 3×3 convolution to 16 maps, BN, ReLU, at full resolution. */
        CIFAR
    }

    /** A member of the family. */
    record Plan(Stem stem, int[] units, int[] widths, ResidualUnit unit) {
        /** Basic units below 50 layers, bottlenecks from 50 on (He et al. 2015, Table 1). */
        static Plan imagenet(int depth) {
            int[] units = IMAGENET_UNITS.get(depth);
            if (units == null) {
                throw new IllegalArgumentException("no ImageNet ResNet of depth " + depth);
            }
            return new Plan(Stem.IMAGENET, units, IMAGENET_WIDTHS,
                    depth >= 50 ? ResidualUnit.bottleneck() : ResidualUnit.basic());
        }

        /**
         * Three stages of n units each: 6n + 2 layers of basic units (He et al. 2015, §4.2) or
         * 9n + 2 of bottlenecks (He et al. 2016, §4; the authors' code asserts it).
         */
        static Plan cifar(int depth, boolean bottleneck) {
            int convsPerUnit = bottleneck ? 3 : 2;
            if ((depth - 2) % (3 * convsPerUnit) != 0) {
                throw new IllegalArgumentException("a CIFAR ResNet of " + (bottleneck ? "bottleneck" : "basic")
                        + " units has " + (3 * convsPerUnit) + "n+2 layers, not " + depth);
            }
            int n = (depth - 2) / (3 * convsPerUnit);
            return new Plan(Stem.CIFAR, new int[] {n, n, n}, CIFAR_WIDTHS,
                    bottleneck ? ResidualUnit.bottleneck() : ResidualUnit.basic());
        }

        Plan withUnit(UnaryOperator<ResidualUnit> change) {
            return new Plan(stem, units, widths, change.apply(unit));
        }

        /** Weight layers: the stem, every unit's convolutions (shortcuts not counted, as the papers count), the classifier. */
        int depth() {
            return 2 + Arrays.stream(units).sum() * (unit.isBottleneck() ? 3 : 2);
        }
    }

    private ResNet() {
    }

    /**
     * The network for {@code plan}. Its feature stages are the stem's activation ({@code act1},
     * ImageNet only: the CIFAR stem keeps full resolution, as layer1 does) and each stage of units;
     * a pre-activation network's last stage is taken after its final BN → ReLU, as timm takes it.
     */
    static Graph build(String id, Plan plan, ModelConfig config) {
        Net net = new Net(id);
        int[] size = config.inputSize();
        Value x = net.input(config.inputChannels(), size[0], size[1]);
        x = stem(net, x, plan.stem());

        ResidualUnit unit = plan.unit();
        int stages = plan.units().length;
        for (int i = 0; i < stages; i++) {
            try (var s = net.scope("layer" + (i + 1))) {
                for (int j = 0; j < plan.units()[i]; j++) {
                    // The first unit of every stage after the first halves height and width (Table 1's "/2").
                    int stride = i > 0 && j == 0 ? 2 : 1;
                    String name = Integer.toString(j);
                    int width = plan.widths()[i];
                    // The stem's BN → ReLU is the first pre-activation unit's own (He et al. 2016, §4.1).
                    boolean afterStem = i == 0 && j == 0 && unit.isPreActivation();
                    x = afterStem ? unit.applyActivated(net, name, x, width, stride) : unit.apply(net, name, x, width, stride);
                }
            }
            if (i < stages - 1 || !unit.isPreActivation()) {
                net.feature("layer" + (i + 1), x);
            }
        }
        if (unit.isPreActivation()) {
            // The last unit's sum gets an extra activation before pooling (He et al. 2016, §4.1).
            x = net.feature("post_bn", net.relu(net.batchNorm("post_bn", x, BatchNorm.defaults())));
        }
        net.top(x, config.head(), features -> classifier(net, features, config.classes()));
        return net.build();
    }

    private static Value stem(Net net, Value x, Stem stem) {
        Conv conv1 = switch (stem) {
            case IMAGENET -> Conv.of(64, 7).stride(2).pad(3);
            case CIFAR -> Conv.of(16, 3).pad(1);
        };
        x = net.conv("conv1", x, conv1.noBias().init(Init.heNormal(true)));
        x = net.relu(net.batchNorm("bn1", x));
        if (stem == Stem.CIFAR) {
            return x;
        }
        return net.maxPool("maxpool", net.feature("act1", x), Pool.of(3).stride(2).pad(1));
    }

    /** Global average pooling and a dense layer, initialised as PyTorch's {@code nn.Linear}: ±1/√fan-in. */
    private static Value classifier(Net net, Value features, int classes) {
        Value pooled;
        try (var s = net.scope("avgpool")) {
            pooled = net.flatten(net.globalAvgPool(features));
        }
        double bound = 1 / Math.sqrt(pooled.shape().dim(1));
        return net.dense("fc", pooled, classes, Init.pytorchDefault(), Init.uniform(-bound, bound));
    }
}
