package dev.cnnzoo.lenet;

import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.graph.Attributes;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.GraphBuilder;
import dev.cnnzoo.graph.Init;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Pool;
import java.util.SplittableRandom;

/**
 * LeNet-5 as LeCun, Bottou, Bengio and Haffner describe it (Proc. IEEE 86(11), 1998, §II.B and
 * Appendix A): the 28×28 image zero-padded to 32×32, squashing f(a) = A·tanh(S·a) with A = 1.7159,
 * S = 2/3, trainable subsampling, C3's partial connections from Table 1, and Euclidean RBF outputs
 * on fixed ±1 class codes.
 *
 * <pre>
 * layer  maps  size   trainable parameters
 * C1      6    28×28      156  (6·25 + 6)
 * S2      6    14×14       12  (coefficient + bias per map)
 * C3     16    10×10    1,516  (60 connections · 25 + 16)
 * S4     16     5×5        32
 * C5    120     1×1    48,120  (120·16·25 + 120)
 * F6     84            10,164  (84·120 + 84)
 * RBF    10                 0  (fixed codes)
 * total                60,000
 * </pre>
 *
 * Feature stages: the subsampling layers S2 (/2) and S4 (/4). C5 is not one: its 5×5 kernels on
 * S4's 5×5 maps leave 1×1, which "amounts to a full connection between S4 and C5" (§II.B); it is
 * a convolution only for larger inputs.
 */
final class LeNet5 {
    /** The squashing function's amplitude A and slope S (Appendix A). */
    static final double AMPLITUDE = 1.7159;
    static final double SLOPE = 2.0 / 3.0;

    /**
     * Table 1: the S2 maps each C3 map reads. Maps 0–5 read three neighbouring maps, 6–11 four
     * neighbouring, 12–14 four non-neighbouring, 15 all six.
     */
    static final int[][] C3_CONNECTIONS = {
        {0, 1, 2}, {1, 2, 3}, {2, 3, 4}, {3, 4, 5}, {4, 5, 0}, {5, 0, 1},
        {0, 1, 2, 3}, {1, 2, 3, 4}, {2, 3, 4, 5}, {3, 4, 5, 0}, {4, 5, 0, 1}, {5, 0, 1, 2},
        {0, 1, 3, 4}, {1, 2, 4, 5}, {0, 2, 3, 5},
        {0, 1, 2, 3, 4, 5},
    };

    private LeNet5() {
    }

    static Graph build(String id, ModelConfig config) {
        Net net = new Net(id);
        int[] size = config.inputSize();
        Value x = net.input(config.inputChannels(), size[0], size[1]);
        // "The input is a 32x32 pixel image": MNIST's 28×28 digits are centred in it (§II.B).
        x = net.zeroPad(x, 2);
        x = squash(net, net.conv("c1", x, Conv.of(6, 5).init(paperInit()).biasInit(paperInit())));
        x = net.feature("s2", squash(net, subsampling(net, "s2", x)));
        x = squash(net, partialC3(net, x));
        x = net.feature("s4", squash(net, subsampling(net, "s4", x)));
        x = squash(net, net.conv("c5", x, Conv.of(120, 5).init(paperInit()).biasInit(paperInit())));
        return finish(net, x, config);
    }

    private static Graph finish(Net net, Value c5, ModelConfig config) {
        net.top(c5, config.head(), features -> {
            Value f6 = squash(net, net.dense("f6", net.flatten(features), 84, paperInit(), paperInit()));
            return rbf(net, f6, config.classes());
        });
        return net.build();
    }

    /** f(a) = A·tanh(S·a). */
    static Value squash(Net net, Value a) {
        return net.scale(net.tanh(net.scale(a, SLOPE)), AMPLITUDE);
    }

    /**
     * S2 and S4: each unit takes the mean of a 2×2 window, multiplies it by a trainable coefficient
     * and adds a trainable bias, one of each per map.
     */
    static Value subsampling(Net net, String name, Value x) {
        try (var s = net.scope(name)) {
            int maps = x.shape().dim(1);
            GraphBuilder g = net.graph();
            // The paper draws U(±2.4/4) for a coefficient on the sum of four inputs; on their mean that is U(±2.4).
            Value coefficient = g.parameter("weight", Shape.of(maps, 1, 1), Init.uniform(-2.4, 2.4));
            Value bias = g.parameter("bias", Shape.of(maps, 1, 1), Init.uniform(-2.4 / 4, 2.4 / 4));
            Value mean = net.avgPool(x, Pool.of(2));
            return net.add(net.mul(mean, coefficient), bias);
        }
    }

    /**
     * C3 with Table 1's partial connections, as three grouped convolutions over the S2 maps each
     * group reads (gathered in table order), concatenated back into maps 0–15.
     */
    static Value partialC3(Net net, Value s2) {
        try (var s = net.scope("c3")) {
            Value from3 = connected(net, "from3", s2, 0, 6);
            Value from4 = connected(net, "from4", s2, 6, 15);
            Value from6 = connected(net, "from6", s2, 15, 16);
            return net.concat(from3, from4, from6);
        }
    }

    /** C3 maps {@code first} to {@code end - 1}, which all read the same number of S2 maps. */
    private static Value connected(Net net, String name, Value s2, int first, int end) {
        int fanIn = C3_CONNECTIONS[first].length;
        int maps = end - first;
        long[] indices = new long[maps * fanIn];
        for (int m = 0; m < maps; m++) {
            for (int j = 0; j < fanIn; j++) {
                indices[m * fanIn + j] = C3_CONNECTIONS[first + m][j];
            }
        }
        GraphBuilder g = net.graph();
        Value inputs = g.op(Op.GATHER, Attributes.of("axis", 1), s2, g.constant(name + "_maps", Tensor.int64s(indices)));
        return net.conv(name, inputs, Conv.of(maps, 5).groups(maps).init(paperInit()).biasInit(paperInit()));
    }

    /**
     * The output layer: y_i = Σ_j (x_j − w_ij)², the squared distance of F6's output to class i's
     * code. The zoo returns −y as logits so that, as everywhere in the zoo, the highest score is the
     * prediction (the closest code) and softmax cross-entropy applies.
     */
    static Value rbf(Net net, Value f6, int classes) {
        try (var s = net.scope("output")) {
            GraphBuilder g = net.graph();
            Value codes = g.constant("codes", Tensor.of(Shape.of(classes, 84), ClassCodes.codes(classes)));
            Value expanded = g.op(Op.UNSQUEEZE, Attributes.none(), f6, g.int64s(1));
            Value diff = net.sub(expanded, codes);
            Value distance = g.op(Op.REDUCE_SUM, Attributes.of("keepdims", 0), net.mul(diff, diff), g.int64s(2));
            return g.op(Op.NEG, Attributes.none(), distance);
        }
    }

    /** Appendix A: weights drawn from U(−2.4/F, 2.4/F) with F the unit's fan-in. */
    static Init paperInit() {
        return new Init() {
            @Override
            public float[] sample(Shape shape, java.util.random.RandomGenerator random) {
                // Biases take the fan-in of the weights beside them; a bias alone cannot tell it, so use F = 25 (a 5×5 window).
                long fanIn = shape.rank() >= 2 ? Init.fanIn(shape) : 25;
                double bound = 2.4 / fanIn;
                return Init.uniform(-bound, bound).sample(shape, random);
            }
        };
    }

    /** ±1 codes for the output units. */
    static final class ClassCodes {
        /**
         * The ten digits drawn on a 7×12 grid, '#' = +1, '.' = −1: the paper's codes are "a stylized
         * image of the corresponding character class drawn on a 7×12 bitmap" (§II.B); these
         * drawings are ours.
         */
        static final String[][] DIGITS = {
            {".......", "..###..", ".#...#.", "#.....#", "#.....#", "#.....#", "#.....#", "#.....#", "#.....#", ".#...#.", "..###..", "......."},
            {".......", "...#...", "..##...", ".#.#...", "...#...", "...#...", "...#...", "...#...", "...#...", "...#...", ".#####.", "......."},
            {".......", "..###..", ".#...#.", "#.....#", "......#", ".....#.", "....#..", "...#...", "..#....", ".#.....", "#######", "......."},
            {".......", ".####..", "#....#.", "......#", ".....#.", "..###..", ".....#.", "......#", "......#", "#....#.", ".####..", "......."},
            {".......", ".....#.", "....##.", "...#.#.", "..#..#.", ".#...#.", "#....#.", "#######", ".....#.", ".....#.", ".....#.", "......."},
            {".......", "#######", "#......", "#......", "#.###..", "##...#.", "......#", "......#", "......#", "#....#.", ".####..", "......."},
            {".......", "..###..", ".#.....", "#......", "#......", "#.###..", "##...#.", "#.....#", "#.....#", ".#...#.", "..###..", "......."},
            {".......", "#######", "......#", ".....#.", ".....#.", "....#..", "....#..", "...#...", "...#...", "..#....", "..#....", "......."},
            {".......", "..###..", ".#...#.", ".#...#.", ".#...#.", "..###..", ".#...#.", "#.....#", "#.....#", ".#...#.", "..###..", "......."},
            {".......", "..###..", ".#...#.", "#.....#", "#.....#", ".#...##", "..###.#", "......#", "......#", ".....#.", "..###..", "......."},
        };

        private ClassCodes() {
        }

        /**
         * Ten classes use the digit drawings; any other number gets random ±1 codes (fixed by the
         * class count), which are far apart in expectation as the paper asks of its codes.
         */
        static float[] codes(int classes) {
            float[] c = new float[Math.multiplyExact(classes, 84)];     // an absurd class count overflows, not wraps
            if (classes == DIGITS.length) {
                for (int k = 0; k < classes; k++) {
                    for (int r = 0; r < 12; r++) {
                        for (int col = 0; col < 7; col++) {
                            c[k * 84 + r * 7 + col] = DIGITS[k][r].charAt(col) == '#' ? 1f : -1f;
                        }
                    }
                }
                return c;
            }
            SplittableRandom random = new SplittableRandom(0x1e5e7L + classes);
            for (int i = 0; i < c.length; i++) {
                c[i] = random.nextBoolean() ? 1f : -1f;
            }
            return c;
        }
    }
}
