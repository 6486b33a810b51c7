package dev.cnnzoo.blocks;

import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.BatchNorm;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;

/**
 * A convolution without bias followed by batch normalisation (and ReLU): the unit every batch-norm
 * network is made of. Parameters are {@code name.conv.weight} and {@code name.bn.*}, the names of
 * torchvision's and timm's {@code BasicConv2d} / {@code ConvNormAct}.
 */
public final class ConvBn {
    private ConvBn() {
    }

    /** conv → batch norm → ReLU, scoped as {@code name.conv}, {@code name.bn}. */
    public static Value convBnRelu(Net net, String name, Value x, Conv conv, BatchNorm bn) {
        return net.relu(convBn(net, name, x, conv, bn));
    }

    /** conv → batch norm, scoped as {@code name.conv}, {@code name.bn}. */
    public static Value convBn(Net net, String name, Value x, Conv conv, BatchNorm bn) {
        try (var s = net.scope(name)) {
            return net.batchNorm("bn", net.conv("conv", x, conv.noBias()), bn);
        }
    }
}
