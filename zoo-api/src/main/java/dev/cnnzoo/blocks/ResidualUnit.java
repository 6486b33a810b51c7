package dev.cnnzoo.blocks;

import dev.cnnzoo.graph.Init;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.BatchNorm;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;

/**
 * A residual unit y = F(x) + shortcut(x), written the way the papers draw it:
 * {@code ResidualUnit.bottleneck().squeezeExcitation(16)} is an SE-ResNet unit,
 * {@code ResidualUnit.basic().preActivation()} a unit of the identity-mappings paper.
 *
 * <ul>
 * <li><b>basic</b>: two 3×3 convolutions (He et al. 2015, Fig. 5 left); output maps = width.
 * <li><b>bottleneck</b>: 1×1 reducing to the width, 3×3, 1×1 restoring to width × 4 (Fig. 5
 * right); output maps = width × expansion.
 * <li><b>post-activation</b> (the 2015 unit): conv → BN → ReLU inside F, the sum followed by ReLU.
 * <li><b>pre-activation</b> (He et al. 2016, Fig. 1b and 4e): BN → ReLU before each convolution,
 * nothing after the sum, so the shortcut path is a pure identity from unit to unit.
 * </ul>
 *
 * <p>Where the unit changes shape, the shortcut is a strided 1×1 projection (option B) or a
 * zero-padded subsampling (option A); see {@link Shortcut}. In a pre-activation unit that changes
 * shape both paths take the pre-activated input, as in the authors' code (KaimingHe/resnet-1k-layers).
 *
 * <p>Parameter names are torchvision's: {@code conv1}, {@code bn1}, {@code conv2}, {@code bn2},
 * {@code conv3}, {@code bn3}, {@code downsample.0}, {@code downsample.1}, and {@code se.fc1},
 * {@code se.fc2} for the squeeze-and-excitation block (timm's). In a pre-activation unit
 * {@code bnK} is the normalisation right before {@code convK}.
 */
public final class ResidualUnit {
    private final boolean bottleneck;
    private final int expansion;
    private final boolean preActivation;
    private final boolean strideInFirst;
    private final boolean zeroInitLast;
    private final int seRatio;
    private final Shortcut.Kind shortcut;
    private final BatchNorm bn;
    private final Init init;

    private ResidualUnit(boolean bottleneck, int expansion, boolean preActivation, boolean strideInFirst, boolean zeroInitLast,
            int seRatio, Shortcut.Kind shortcut, BatchNorm bn, Init init) {
        this.bottleneck = bottleneck;
        this.expansion = expansion;
        this.preActivation = preActivation;
        this.strideInFirst = strideInFirst;
        this.zeroInitLast = zeroInitLast;
        this.seRatio = seRatio;
        this.shortcut = shortcut;
        this.bn = bn;
        this.init = init;
    }

    /**
     * Two 3×3 convolutions, post-activation, projection shortcuts, PyTorch's batch norm, and He
     * initialisation on fan-out (He et al. 2015 cite their 2015 initialisation; fan-out is
     * torchvision's and the authors' Torch code's choice).
     */
    public static ResidualUnit basic() {
        return new ResidualUnit(false, 1, false, false, false, 0, Shortcut.Kind.PROJECTION, BatchNorm.defaults(),
                Init.heNormal(true));
    }

    /** 1×1 reduce, 3×3, 1×1 restore to four times the width; otherwise as {@link #basic()}. */
    public static ResidualUnit bottleneck() {
        return new ResidualUnit(true, 4, false, false, false, 0, Shortcut.Kind.PROJECTION, BatchNorm.defaults(),
                Init.heNormal(true));
    }

    /** The bottleneck's output maps per unit of width (4 in every ResNet). */
    public ResidualUnit expansion(int e) {
        if (!bottleneck) {
            throw new IllegalStateException("only a bottleneck unit has an expansion");
        }
        if (e < 1) {
            throw new IllegalArgumentException("expansion must be at least 1, got " + e);
        }
        return new ResidualUnit(bottleneck, e, preActivation, strideInFirst, zeroInitLast, seRatio, shortcut, bn, init);
    }

    /** BN → ReLU before each convolution and nothing after the sum (He et al. 2016). */
    public ResidualUnit preActivation() {
        return new ResidualUnit(bottleneck, expansion, true, strideInFirst, zeroInitLast, seRatio, shortcut, bn, init);
    }

    /**
     * Where a bottleneck downsamples: in its first 1×1 convolution ({@code true}: the 2015 paper's
     * and the authors' code) or in its 3×3 ({@code false}: torchvision's "ResNet v1.5", which sees
     * every pixel before striding). A basic unit always strides in its first 3×3.
     */
    public ResidualUnit strideInFirst(boolean first) {
        return new ResidualUnit(bottleneck, expansion, preActivation, first, zeroInitLast, seRatio, shortcut, bn, init);
    }

    /**
     * Starts the unit's last batch-norm scale at zero (a pre-activation unit's last convolution,
     * which no batch norm follows), so the unit begins as its shortcut (Goyal et al. 2017;
     * torchvision's {@code zero_init_residual}, timm's {@code zero_init_last}).
     */
    public ResidualUnit zeroInitLast(boolean zero) {
        return new ResidualUnit(bottleneck, expansion, preActivation, strideInFirst, zero, seRatio, shortcut, bn, init);
    }

    /** A squeeze-and-excitation block with reduction ratio r on the residual branch, before the sum (Hu et al. 2017, Fig. 3). */
    public ResidualUnit squeezeExcitation(int ratio) {
        SqueezeExcitation.requireRatio(ratio);
        return new ResidualUnit(bottleneck, expansion, preActivation, strideInFirst, zeroInitLast, ratio, shortcut, bn, init);
    }

    public ResidualUnit shortcut(Shortcut.Kind kind) {
        return new ResidualUnit(bottleneck, expansion, preActivation, strideInFirst, zeroInitLast, seRatio, kind, bn, init);
    }

    public ResidualUnit batchNorm(BatchNorm spec) {
        return new ResidualUnit(bottleneck, expansion, preActivation, strideInFirst, zeroInitLast, seRatio, shortcut, spec, init);
    }

    /** The initialisation of every convolution in the unit. */
    public ResidualUnit init(Init weights) {
        return new ResidualUnit(bottleneck, expansion, preActivation, strideInFirst, zeroInitLast, seRatio, shortcut, bn, weights);
    }

    public boolean isBottleneck() {
        return bottleneck;
    }

    public boolean isPreActivation() {
        return preActivation;
    }

    /** The unit's output maps for a given width. */
    public int outputMaps(int width) {
        return width * expansion;
    }

    /** The unit scoped as {@code name}, taking {@code x} to {@link #outputMaps} maps with {@code stride}. */
    public Value apply(Net net, String name, Value x, int width, int stride) {
        try (var s = net.scope(name)) {
            if (!preActivation) {
                return net.relu(net.add(residual(net, x, width, stride), shortcut(net, x, width, stride)));
            }
            Value activated = net.relu(net.batchNorm("bn1", x, bn));
            return preActivated(net, x, activated, width, stride);
        }
    }

    /**
     * A pre-activation unit whose input has already passed through BN → ReLU: the first unit after
     * a network's stem, whose activation He et al. 2016 (§4.1) place right after conv1, before the
     * split into the two paths. Both paths take {@code activated}; the unit has no {@code bn1}.
     */
    public Value applyActivated(Net net, String name, Value activated, int width, int stride) {
        if (!preActivation) {
            throw new IllegalStateException("applyActivated is for pre-activation units");
        }
        try (var s = net.scope(name)) {
            return preActivated(net, activated, activated, width, stride);
        }
    }

    private Value preActivated(Net net, Value x, Value activated, int width, int stride) {
        Value identity = Shortcut.needed(x, outputMaps(width), stride) ? shortcut(net, activated, width, stride) : x;
        return net.add(residual(net, activated, width, stride), identity);
    }

    /** F(x): the convolutions (with their normalisations) and the squeeze-and-excitation block. */
    private Value residual(Net net, Value x, int width, int stride) {
        Value y;
        if (bottleneck) {
            y = layer(net, 1, x, Conv.of(width, 1).stride(strideInFirst ? stride : 1), false);
            y = layer(net, 2, y, Conv.of(width, 3).stride(strideInFirst ? 1 : stride).pad(1), false);
            y = layer(net, 3, y, Conv.of(outputMaps(width), 1), true);
        } else {
            y = layer(net, 1, x, Conv.of(width, 3).stride(stride).pad(1), false);
            y = layer(net, 2, y, Conv.of(width, 3).pad(1), true);
        }
        if (seRatio > 0) {
            y = SqueezeExcitation.apply(net, "se", y, SqueezeExcitation.reducedMaps(y.shape().dim(1), seRatio), init);
        }
        return y;
    }

    /**
     * Convolution {@code k} of F: post-activation conv → BN (→ ReLU unless last); pre-activation
     * (BN → ReLU unless first, whose input comes activated) → conv.
     */
    private Value layer(Net net, int k, Value x, Conv conv, boolean last) {
        boolean zero = last && zeroInitLast;
        if (preActivation) {
            Value in = k == 1 ? x : net.relu(net.batchNorm("bn" + k, x, bn));
            return net.conv("conv" + k, in, conv.noBias().init(zero ? Init.zeros() : init));
        }
        Value y = net.conv("conv" + k, x, conv.noBias().init(init));
        y = net.batchNorm("bn" + k, y, zero ? bn.withZeroScale() : bn);
        return last ? y : net.relu(y);
    }

    private Value shortcut(Net net, Value x, int width, int stride) {
        int maps = outputMaps(width);
        if (!Shortcut.needed(x, maps, stride)) {
            return x;
        }
        return switch (shortcut) {
            case PROJECTION -> Shortcut.projection(net, x, maps, stride, preActivation ? null : bn, init);
            case ZERO_PADDED -> Shortcut.zeroPadded(net, x, maps, stride);
        };
    }

    @Override
    public String toString() {
        return (preActivation ? "pre-activation " : "") + (bottleneck ? "bottleneck ×" + expansion : "basic")
                + (seRatio > 0 ? " with SE r=" + seRatio : "") + ", " + shortcut.name().toLowerCase() + " shortcut";
    }
}
