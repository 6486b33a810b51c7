package dev.cnnzoo.blocks;

import dev.cnnzoo.graph.Attributes;
import dev.cnnzoo.graph.Init;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.ShapeException;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.BatchNorm;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Pool;

/**
 * The shortcut of a residual unit whose output differs in shape from its input (He et al. 2015,
 * §3.3): an identity cannot be added, so the input is subsampled and widened to match.
 */
public final class Shortcut {
    /** How the shortcut widens its input (He et al. 2015, §4.1 "Identity vs. projection shortcuts"). */
    public enum Kind {
        /** Option B: a strided 1×1 convolution (with batch norm in the post-activation unit). */
        PROJECTION,
        /** Option A: strided subsampling and zero maps appended; no parameters (the CIFAR networks, §4.2). */
        ZERO_PADDED
    }

    private Shortcut() {
    }

    /** Whether a unit taking {@code x} to {@code maps} maps with {@code stride} needs more than an identity shortcut. */
    public static boolean needed(Value x, int maps, int stride) {
        return stride != 1 || x.shape().dim(1) != maps;
    }

    /**
     * A 1×1 convolution with {@code stride} to {@code maps} maps, then batch norm unless {@code bn}
     * is null (pre-activation units have none). Parameters {@code downsample.0.weight} and
     * {@code downsample.1.*}: torchvision's names, since its {@code downsample} is a
     * {@code Sequential(conv, bn)}.
     */
    public static Value projection(Net net, Value x, int maps, int stride, BatchNorm bn, Init init) {
        try (var s = net.scope("downsample")) {
            Value y = net.conv("0", x, Conv.of(maps, 1).stride(stride).noBias().init(init));
            return bn == null ? y : net.batchNorm("1", y, bn);
        }
    }

    /**
     * Option A: every {@code stride}-th pixel (a 1×1 pooling window with that stride), then zero
     * maps appended after the input's own up to {@code maps}, as fb.resnet.torch's CIFAR models do.
     */
    public static Value zeroPadded(Net net, Value x, int maps, int stride) {
        int channels = x.shape().dim(1);
        if (maps < channels) {
            throw new ShapeException(net.graph().scopePath(), "a zero-padded shortcut cannot narrow " + channels
                    + " maps to " + maps);
        }
        Value y = stride == 1 ? x : net.avgPool(x, Pool.of(1).stride(stride));
        if (maps == channels) {
            return y;
        }
        // ONNX pads: begin values for every axis, then end values; only the end of axis 1 grows.
        long[] pads = new long[2 * y.shape().rank()];
        pads[y.shape().rank() + 1] = maps - channels;
        return net.graph().op(Op.PAD, Attributes.of("mode", "constant"), y, net.graph().int64s(pads));
    }
}
