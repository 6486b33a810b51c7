package dev.cnnzoo.blocks;

import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.BatchNorm;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Pool;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The inception module (Szegedy et al. 2014, §4 and Figure 2): parallel branches over one input,
 * their outputs concatenated on depth. GoogLeNet's module has four branches (1×1; 1×1 → 3×3;
 * 1×1 → 5×5; 3×3 max pool → 1×1); the later Inception networks keep the idea and change what the
 * branches hold: factorised and asymmetric convolutions, stride-2 grid reductions, and a branch
 * that ends in two convolutions side by side (Inception v3's Figure 7). All of these are written
 * with this one block:
 *
 * <pre>{@code
 * Inception.module(net, "inception3a", x, Inception.convRelu(),
 *         Inception.sequential("branch1", conv(Conv.of(64, 1))),
 *         Inception.sequential("branch2", conv(Conv.of(96, 1)), conv(Conv.of(128, 3).same())),
 *         Inception.sequential("branch3", conv(Conv.of(16, 1)), conv(Conv.of(32, 5).same())),
 *         Inception.sequential("branch4", maxPool(Pool.of(3).stride(1).same()), conv(Conv.of(32, 1))));
 * }</pre>
 *
 * <p>Each convolution is made by the network's {@link ConvUnit} (conv → ReLU for GoogLeNet,
 * conv → batch norm → ReLU for its successors), so one table of branches serves both. Names are
 * the caller's: a {@linkplain #sequential sequential} branch numbers its steps as a PyTorch
 * {@code nn.Sequential} does ({@code branch2.0}, {@code branch2.1}; a pooling step takes an index
 * too), while {@link #branch} takes the names given, so parameter names can match torchvision's
 * and timm's state dicts.
 */
public final class Inception {
    private Inception() {
    }

    /** Makes one convolution of a branch, with the normalisation and activation the network uses. */
    @FunctionalInterface
    public interface ConvUnit {
        Value apply(Net net, String name, Value x, Conv conv);
    }

    /** Convolution with bias, then ReLU: GoogLeNet as published. */
    public static ConvUnit convRelu() {
        return (net, name, x, conv) -> net.relu(net.conv(name, x, conv));
    }

    /** Convolution, batch norm, ReLU ({@link ConvBn}; {@code name.conv}, {@code name.bn}). */
    public static ConvUnit convBnRelu(BatchNorm bn) {
        Objects.requireNonNull(bn, "batch norm settings");
        return (net, name, x, conv) -> ConvBn.convBnRelu(net, name, x, conv, bn);
    }

    /** One step of a branch. */
    public sealed interface Step permits ConvStep, PoolStep, Fork {
    }

    /** A convolution; {@code name} is null until a {@linkplain #sequential sequential} branch numbers it. */
    public record ConvStep(String name, Conv conv) implements Step {
        public ConvStep {
            Objects.requireNonNull(conv, "convolution");
        }
    }

    /** A max or average pooling window (no parameters). */
    public record PoolStep(boolean max, Pool pool) implements Step {
        public PoolStep {
            Objects.requireNonNull(pool, "pooling window");
        }
    }

    /**
     * Named convolutions applied side by side to the same input, their outputs concatenated: the
     * expanded filter bank of Inception v3's Figure 7 (a 1×3 and a 3×1 over one 3×3's output).
     */
    public record Fork(List<ConvStep> heads) implements Step {
        public Fork {
            heads = List.copyOf(heads);
            if (heads.size() < 2) {
                throw new IllegalArgumentException("a fork needs at least two convolutions, got " + heads.size());
            }
            for (ConvStep h : heads) {
                if (h.name() == null) {
                    throw new IllegalArgumentException("every convolution of a fork needs a name");
                }
            }
        }
    }

    /** One path through the module, from the module's input to one part of its output. */
    public record Branch(List<Step> steps) {
        public Branch {
            steps = List.copyOf(steps);
            if (steps.isEmpty()) {
                throw new IllegalArgumentException("a branch needs at least one step");
            }
            for (Step s : steps) {
                if (s instanceof ConvStep c && c.name() == null) {
                    throw new IllegalArgumentException("convolution " + c.conv() + " has no name; name it or use Inception.sequential");
                }
            }
        }
    }

    /** A convolution named {@code name}. */
    public static ConvStep conv(String name, Conv conv) {
        return new ConvStep(Objects.requireNonNull(name, "name"), conv);
    }

    /** A convolution to be named by its position in a {@linkplain #sequential sequential} branch. */
    public static ConvStep conv(Conv conv) {
        return new ConvStep(null, conv);
    }

    public static Step maxPool(Pool pool) {
        return new PoolStep(true, pool);
    }

    public static Step avgPool(Pool pool) {
        return new PoolStep(false, pool);
    }

    public static Step fork(ConvStep... heads) {
        return new Fork(Arrays.asList(heads));
    }

    /** A branch whose convolutions carry the names given. */
    public static Branch branch(Step... steps) {
        return new Branch(Arrays.asList(steps));
    }

    /**
     * A branch named like an {@code nn.Sequential} called {@code name}: its unnamed convolutions
     * become {@code name.<index>}. A branch of one unnamed convolution is that convolution, so it
     * is named {@code name} itself (torchvision's {@code branch1 = BasicConv2d(...)}).
     */
    public static Branch sequential(String name, Step... steps) {
        Objects.requireNonNull(name, "branch name");
        if (steps.length == 1 && steps[0] instanceof ConvStep c && c.name() == null) {
            return branch(conv(name, c.conv()));
        }
        List<Step> named = new ArrayList<>();
        for (int i = 0; i < steps.length; i++) {
            named.add(steps[i] instanceof ConvStep c && c.name() == null ? conv(name + "." + i, c.conv()) : steps[i]);
        }
        return new Branch(named);
    }

    /** The module in scope {@code name}: every branch over {@code x}, concatenated on depth. */
    public static Value module(Net net, String name, Value x, ConvUnit unit, Branch... branches) {
        try (var s = net.scope(name)) {
            return branches(net, x, unit, branches);
        }
    }

    /** The branches over {@code x} concatenated on depth, in the current scope. */
    public static Value branches(Net net, Value x, ConvUnit unit, Branch... branches) {
        if (branches.length == 0) {
            throw new IllegalArgumentException("an inception module needs at least one branch");
        }
        List<Value> outputs = new ArrayList<>();
        for (Branch branch : branches) {
            Value y = x;
            List<Step> steps = branch.steps();
            for (int i = 0; i < steps.size(); i++) {
                if (i == steps.size() - 1 && steps.get(i) instanceof Fork f && branches.length > 1) {
                    // A fork that ends a branch feeds the module's concatenation directly: one Concat
                    // node instead of one per fork plus the module's, so each output is copied once
                    // (as in PyTorch's export of Inception v3, whose nested torch.cat becomes one Concat).
                    for (ConvStep h : f.heads()) {
                        outputs.add(unit.apply(net, h.name(), y, h.conv()));
                    }
                    y = null;
                } else {
                    y = apply(net, y, unit, steps.get(i));
                }
            }
            if (y != null) {
                outputs.add(y);
            }
        }
        return outputs.size() == 1 ? outputs.get(0) : net.concat(outputs.toArray(Value[]::new));
    }

    private static Value apply(Net net, Value x, ConvUnit unit, Step step) {
        if (step instanceof ConvStep c) {
            return unit.apply(net, c.name(), x, c.conv());
        }
        if (step instanceof PoolStep p) {
            return p.max() ? net.maxPool(x, p.pool()) : net.avgPool(x, p.pool());
        }
        Fork f = (Fork) step;
        return net.concat(f.heads().stream().map(h -> unit.apply(net, h.name(), x, h.conv())).toArray(Value[]::new));
    }
}
