package dev.cnnzoo.blocks;

import dev.cnnzoo.graph.Init;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;

/**
 * The squeeze-and-excitation block (Hu et al. 2017, §3, Fig. 2): global average pooling squeezes
 * each map to one number, two fully connected layers (reduce by a ratio r, ReLU, restore, sigmoid)
 * turn those into a weight per map, and the maps are rescaled by their weights.
 *
 * <p>The two layers are 1×1 convolutions with bias named {@code fc1} and {@code fc2}, the names
 * and shapes both timm's {@code SEModule} and torchvision's {@code SqueezeExcitation} use, so
 * either's weights load by name ({@code layer1.0.se.fc1.weight} in timm's SE-ResNets).
 */
public final class SqueezeExcitation {
    private SqueezeExcitation() {
    }

    /** The reduced width C / r of the paper's §3.2 (at least one map). */
    public static int reducedMaps(int maps, int ratio) {
        requireRatio(ratio);
        return Math.max(1, maps / ratio);
    }

    /** Refuses a reduction ratio r below 1. */
    public static void requireRatio(int ratio) {
        if (ratio < 1) {
            throw new IllegalArgumentException("squeeze-and-excitation ratio must be at least 1, got " + ratio);
        }
    }

    /** Rescales {@code x}'s maps by gates computed through {@code reducedMaps} hidden units; scoped as {@code name}. */
    public static Value apply(Net net, String name, Value x, int reducedMaps, Init init) {
        try (var s = net.scope(name)) {
            int maps = x.shape().dim(1);
            Value squeezed = net.globalAvgPool(x);
            Value hidden = net.relu(net.conv("fc1", squeezed, Conv.of(reducedMaps, 1).init(init)));
            Value gates = net.sigmoid(net.conv("fc2", hidden, Conv.of(maps, 1).init(init)));
            // N×C×1×1 gates broadcast over every pixel of their map.
            return net.mul(x, gates);
        }
    }
}
