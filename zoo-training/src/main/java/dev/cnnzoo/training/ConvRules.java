package dev.cnnzoo.training;

import dev.cnnzoo.graph.Attributes;
import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.Value;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Convolution and transposed convolution, any spatial rank, with strides, padding, dilation and
 * groups (depthwise included). The input gradient of a convolution is the transposed convolution
 * of the output gradient with the same weights; the weight gradient is itself a convolution, of
 * the input (batch moved into the channels) with the output gradient as the kernel.
 */
final class ConvRules {
    private ConvRules() {
    }

    static void register(Map<String, GradientRule> rules) {
        rules.put("Conv", ConvRules::conv);
        rules.put("ConvTranspose", ConvRules::convTranspose);
    }

    /** The geometry of a convolution node. */
    record Geometry(int spatial, int[] kernel, int[] strides, int[] pads, int[] dilations, int group) {
        static Geometry of(Node node, int[] kernel) {
            Attributes at = node.attributes();
            int n = kernel.length;
            return new Geometry(n, kernel, ints(at, "strides", n, 1), ints(at, "pads", 2 * n, 0), ints(at, "dilations", n, 1),
                    (int) at.getInt("group", 1));
        }

        private static int[] ints(Attributes at, String name, int n, int fallback) {
            long[] v = at.getInts(name);
            int[] out = new int[n];
            Arrays.fill(out, fallback);
            if (v != null) {
                for (int i = 0; i < n; i++) {
                    out[i] = (int) v[i];
                }
            }
            return out;
        }

        Attributes attributes(int[] outputPadding) {
            Attributes.Builder b = Attributes.builder().put("kernel_shape", kernel).put("strides", strides).put("pads", pads)
                    .put("dilations", dilations).put("group", group);
            if (outputPadding != null) {
                b.put("output_padding", outputPadding);
            }
            return b.build();
        }
    }

    private static List<Value> conv(Differentiator d, Node node, List<Value> in, List<Value> out, List<Value> grads, boolean[] needed) {
        Value x = in.get(0);
        Value w = in.get(1);
        Value g = grads.get(0);
        Geometry geo = Geometry.of(node, w.shape().tail(2));
        Value dx = null;
        if (needed[0]) {
            // Y = conv(X, W) ⇒ dX = convᵀ(dY, W) with the same geometry; output_padding restores the
            // input rows a strided convolution's floor division skipped.
            int[] outputPadding = new int[geo.spatial];
            for (int i = 0; i < geo.spatial; i++) {
                int produced = geo.strides[i] * (g.shape().dim(i + 2) - 1) + (geo.kernel[i] - 1) * geo.dilations[i] + 1
                        - geo.pads[i] - geo.pads[i + geo.spatial];
                outputPadding[i] = x.shape().dim(i + 2) - produced;
            }
            dx = d.op("ConvTranspose", geo.attributes(outputPadding), g, w);
        }
        Value dw = needed[1] ? weightGradient(d, x, g, geo, w.shape().dims()) : null;
        Value db = in.size() > 2 && in.get(2) != null && needed[2]
                ? d.reduceSum(g, false, Differentiator.allButChannels(g.shape().rank())) : null;
        return Arrays.asList(dx, dw, db);
    }

    /**
     * dW[m, c, k] = Σ_n Σ_o X[n, group(m)·C/G + c, o·s + k·dil − pad] · dY[n, m, o], computed as one
     * convolution: X reshaped to [C/G, G·N, spatial] (the batch folded into the channels of each group),
     * convolved with dY transposed to [M, N, out spatial] as the kernel, with stride and dilation
     * swapped and G groups. The result [C/G, M, k′] is cropped to the kernel and transposed to [M, C/G, k].
     */
    static Value weightGradient(Differentiator d, Value x, Value dy, Geometry geo, int[] weightShape) {
        int n = geo.spatial;
        int groups = geo.group;
        int channels = x.shape().dim(1);
        int perGroup = channels / groups;
        Value xt;
        if (groups == 1) {
            xt = d.transpose(x, swapFirstTwo(n + 2));
        } else {
            long[] split = new long[n + 3];
            split[0] = 0;
            split[1] = groups;
            split[2] = perGroup;
            for (int i = 0; i < n; i++) {
                split[3 + i] = x.shape().dim(2 + i);
            }
            Value grouped = d.reshape(x, split);                                  // N, G, C/G, spatial
            int[] perm = new int[n + 3];
            perm[0] = 2;
            perm[1] = 1;
            perm[2] = 0;
            for (int i = 0; i < n; i++) {
                perm[3 + i] = 3 + i;
            }
            Value moved = d.transpose(grouped, perm);                              // C/G, G, N, spatial
            long[] merged = new long[n + 2];
            merged[0] = perGroup;
            merged[1] = -1;
            for (int i = 0; i < n; i++) {
                merged[2 + i] = x.shape().dim(2 + i);
            }
            xt = d.reshape(moved, merged);                                        // C/G, G·N, spatial
        }
        Value kernel = d.transpose(dy, swapFirstTwo(n + 2));                        // M, N, out spatial
        int[] outSpatial = dy.shape().tail(2);
        Attributes at = Attributes.builder()
                .put("kernel_shape", outSpatial)
                .put("strides", geo.dilations)
                .put("dilations", geo.strides)
                .put("pads", geo.pads)
                .put("group", groups)
                .build();
        Value full = d.op("Conv", at, xt, kernel);                                 // C/G, M, k′
        int[] got = full.shape().tail(2);
        int[] want = Arrays.copyOfRange(weightShape, 2, weightShape.length);
        if (!Arrays.equals(got, want)) {
            // Trailing input rows no output window reached make k′ larger than k: crop.
            long[] starts = new long[n];
            long[] ends = new long[n];
            long[] axes = new long[n];
            for (int i = 0; i < n; i++) {
                ends[i] = want[i];
                axes[i] = 2 + i;
            }
            full = d.op("Slice", full, d.int64s(starts), d.int64s(ends), d.int64s(axes));
        }
        return d.transpose(full, swapFirstTwo(n + 2));                               // M, C/G, k
    }

    /**
     * Y = convᵀ(X, W) is the adjoint of a convolution with the same geometry, so dX = conv(dY, W),
     * and dW is that convolution's weight gradient with the roles of input and output exchanged.
     */
    private static List<Value> convTranspose(Differentiator d, Node node, List<Value> in, List<Value> out, List<Value> grads,
            boolean[] needed) {
        Value x = in.get(0);
        Value w = in.get(1);
        Value g = grads.get(0);
        Geometry geo = Geometry.of(node, w.shape().tail(2));
        Value dx = needed[0] ? d.op("Conv", geo.attributes(null), g, w) : null;
        Value dw = needed[1] ? weightGradient(d, g, x, geo, w.shape().dims()) : null;
        Value db = in.size() > 2 && in.get(2) != null && needed[2]
                ? d.reduceSum(g, false, Differentiator.allButChannels(g.shape().rank())) : null;
        return Arrays.asList(dx, dw, db);
    }

    private static int[] swapFirstTwo(int rank) {
        int[] perm = new int[rank];
        for (int i = 0; i < rank; i++) {
            perm[i] = i;
        }
        perm[0] = 1;
        perm[1] = 0;
        return perm;
    }
}
