package dev.cnnzoo.training;

import dev.cnnzoo.graph.Attributes;
import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.graph.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Convolution and transposed convolution, any spatial rank, with strides, padding, dilation and
 * groups (depthwise included). The input gradient of a convolution is the transposed convolution
 * of the output gradient with the same weights; the weight gradient is the product of the output
 * gradient with the input unfolded into columns (im2col).
 */
final class ConvRules {
    private ConvRules() {
    }

    static void register(Map<Op, GradientRule> rules) {
        rules.put(Op.CONV, new ConvRule());
        rules.put(Op.CONV_TRANSPOSE, ConvRules::convTranspose);
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

        /**
         * The padding (k − 1)·dil − pad on each side under which a stride-1 window's adjoint (the
         * input gradient of a convolution, of an average pooling) is again a plain window over the
         * output gradient; null where a side would be negative.
         */
        int[] complementaryPads() {
            int[] out = new int[2 * spatial];
            for (int i = 0; i < 2 * spatial; i++) {
                out[i] = (kernel[i % spatial] - 1) * dilations[i % spatial] - pads[i];
                if (out[i] < 0) {
                    return null;
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

    /**
     * When a convolution runs as one GEMM over the whole batch instead of ONNX Runtime's Conv.
     * ONNX Runtime's generic CPU Conv, which it runs where its blocked kernels do not apply, runs one
     * im2col GEMM per image, as wide as the map has positions. With a map of at most 100 positions
     * (10×10) and a weight matrix of at least 2^18 elements (1 MiB, more than a core's L2 keeps
     * between images), that per-image GEMM runs far from peak: fashion-cnn's 7×7 convolutions
     * (256×1152 and 256×2304 weights) took 2.4× as long as its 14×14 ones with the same MACs, and
     * moving them to one GEMM cut its training step from 284 to 258 ms. Small weights (LeNet-5's)
     * lose: the im2col's slices cost more than the narrow GEMMs. Where the step runs on the blocked
     * kernels ({@link BlockedConvolutions}), the Conv node is faster still: fashion-cnn's step took
     * 0.90 of the plain graph's time with these GEMMs kept and 0.81 without them.
     */
    static boolean gemmOverBatch(int[] mapSpatial, Value weight) {
        return positions(mapSpatial) <= 100 && weight.shape().elements() >= (1 << 18)
                && !BlockedConvolutions.blocks(weight.shape().dims());
    }

    /**
     * A convolution that {@link #gemmOverBatch} picks runs forward as W · im2col(X) with the batch inside the
     * columns, and the same columns serve the weight gradient; larger maps keep the Conv node. One whose
     * kernel covers its whole input runs as the dense layer it is (Inception-v3's auxiliary 5×5
     * convolution: 1.0 ms for the product against 4.6 for reordering its weights into blocks and the
     * blocked Conv, profiled at batch 4).
     */
    private static final class ConvRule implements GradientRule {
        @Override
        public List<Value> forward(GradientEmitter d, Node node, List<Value> inputs) {
            Value x = inputs.get(0);
            Value w = inputs.get(1);
            Geometry geo = Geometry.of(node, w.shape().tail(2));
            int[] outSpatial = node.outputs().get(0).shape().tail(2);
            int n = geo.spatial;
            if (geo.group == 1 && kernelCoversInput(geo, x.shape().tail(2))) {
                // a dense layer over the flattened input, as its gradients are (conv below)
                try (var s = d.g.scope(node.layer())) {
                    int maps = w.shape().dim(0);
                    Value flatW = d.reshape(w, maps, -1);                                     // M, C·K
                    Value y = d.op(Op.MAT_MUL, d.reshape(x, -1, flatW.shape().dim(1)), d.transpose(flatW, 1, 0));   // N, M
                    if (inputs.size() > 2 && inputs.get(2) != null) {
                        y = d.add(y, inputs.get(2));
                    }
                    long[] dims = new long[n + 2];
                    Arrays.fill(dims, 1);
                    dims[0] = -1;
                    dims[1] = maps;
                    return List.of(d.reshape(y, dims));
                }
            }
            if (geo.group != 1 || !gemmOverBatch(outSpatial, w)) {
                return d.copy(node, inputs);
            }
            try (var s = d.g.scope(node.layer())) {
                Value cols = columns(d, x, geo, outSpatial, 1);                          // 1, C·K, N·O
                d.save(node, "columns", cols);
                Value w2 = d.reshape(w, 1, w.shape().dim(0), -1);                         // 1, M, C·K
                Value y = batchFirst(d, d.op(Op.MAT_MUL, w2, cols), w.shape().dim(0), outSpatial);
                if (inputs.size() > 2 && inputs.get(2) != null) {
                    long[] perChannel = new long[n + 2];
                    java.util.Arrays.fill(perChannel, 1);
                    perChannel[1] = w.shape().dim(0);
                    y = d.add(y, d.reshape(inputs.get(2), perChannel));
                }
                return List.of(y);
            }
        }

        @Override
        public List<Value> backward(GradientEmitter d, Node node, List<Value> in, List<Value> out, List<Value> grads, boolean[] needed) {
            return conv(d, node, in, out, grads, needed);
        }
    }

    /** A GEMM's result over the batch, [.., maps, (n, position)], as maps of the batch: [N, maps, spatial...]. */
    private static Value batchFirst(GradientEmitter d, Value product, int maps, int[] spatial) {
        long[] channelsFirst = new long[spatial.length + 2];
        channelsFirst[0] = maps;
        channelsFirst[1] = -1;
        for (int i = 0; i < spatial.length; i++) {
            channelsFirst[2 + i] = spatial[i];
        }
        return d.transpose(d.reshape(product, channelsFirst), swapFirstTwo(spatial.length + 2));
    }

    private static long positions(int[] spatial) {
        long p = 1;
        for (int v : spatial) {
            p *= v;
        }
        return p;
    }

    private static List<Value> conv(GradientEmitter d, Node node, List<Value> in, List<Value> out, List<Value> grads, boolean[] needed) {
        Value x = in.get(0);
        Value w = in.get(1);
        Value g = grads.get(0);
        Geometry geo = Geometry.of(node, w.shape().tail(2));
        Value db = in.size() > 2 && in.get(2) != null && needed[2]
                ? d.reduceSum(g, false, GradientEmitter.allButChannels(g.shape().rank())) : null;
        if (geo.group == 1 && kernelCoversInput(geo, x.shape().tail(2))) {
            // One output position: the convolution is a dense layer over the flattened input, and so are its
            // gradients (the full-padding convolution for dX would multiply mostly padding: Inception-v3's
            // 5×5 auxiliary convolution took 15.7 ms that way, LeNet-5's C5 4.2 ms).
            int maps = w.shape().dim(0);
            Value rows = d.reshape(g, -1, maps);                                          // N, M
            Value flatW = d.reshape(w, maps, -1);                                         // M, C·K
            long[] xDims = x.shape().longDims();
            xDims[0] = -1;
            Value dxDense = needed[0] ? d.reshape(d.op(Op.MAT_MUL, rows, flatW), xDims) : null;
            Value dwDense = needed[1] ? d.reshape(d.op(Op.MAT_MUL, d.transpose(rows, 1, 0), d.reshape(x, -1, flatW.shape().dim(1))),
                    w.shape().longDims()) : null;
            return Arrays.asList(dxDense, dwDense, db);
        }
        Value dx = null;
        boolean unitStride = java.util.Arrays.stream(geo.strides).allMatch(v -> v == 1);
        if (needed[0] && unitStride && geo.complementaryPads() != null) {
            dx = inputGradientAsConv(d, g, w, x.shape().tail(2), geo);
        } else if (needed[0]) {
            // Y = conv(X, W) ⇒ dX = convᵀ(dY, W) with the same geometry; output_padding restores the
            // input rows a strided convolution's floor division skipped.
            int[] outputPadding = new int[geo.spatial];
            for (int i = 0; i < geo.spatial; i++) {
                int produced = geo.strides[i] * (g.shape().dim(i + 2) - 1) + (geo.kernel[i] - 1) * geo.dilations[i] + 1
                        - geo.pads[i] - geo.pads[i + geo.spatial];
                outputPadding[i] = x.shape().dim(i + 2) - produced;
            }
            dx = d.op(Op.CONV_TRANSPOSE, geo.attributes(outputPadding), g, w);
        }
        Value dw = needed[1] ? weightGradient(d, x, g, geo, w.shape().dims(), d.savedIfAny(node, "columns")) : null;
        return Arrays.asList(dx, dw, db);
    }

    /** Whether the kernel spans the whole unpadded input, undilated: one output position. */
    private static boolean kernelCoversInput(Geometry geo, int[] inSpatial) {
        for (int i = 0; i < geo.spatial; i++) {
            if (geo.kernel[i] != inSpatial[i] || geo.dilations[i] != 1 || geo.pads[i] != 0 || geo.pads[i + geo.spatial] != 0) {
                return false;
            }
        }
        return true;
    }

    /** The n×n matrix that reverses a vector's order: ones on the anti-diagonal. */
    private static Tensor reversal(int n) {
        float[] r = new float[n * n];
        for (int i = 0; i < n; i++) {
            r[i * n + (n - 1 - i)] = 1f;
        }
        return Tensor.of(Shape.of(n, n), r);
    }

    /**
     * For a stride-1 convolution, dX is an ordinary convolution of dY with the kernel flipped in
     * space and its input and output maps exchanged (per group), padded by (k − 1)·dil − pad on each
     * side: ONNX Runtime's plain Conv is its best-tuned kernel, faster than ConvTranspose's col2im
     * (on small maps with large weights a GEMM over the whole batch, see {@link #gemmOverBatch}).
     */
    private static Value inputGradientAsConv(GradientEmitter d, Value g, Value w, int[] inSpatial, Geometry geo) {
        int n = geo.spatial;
        int[] ws = w.shape().dims();                       // M, C/G, k...
        int groups = geo.group;
        int outPerGroup = ws[0] / groups;
        // Exchange each group's M/G and C/G axes, and flip the kernel in space. ONNX Runtime's
        // Transpose and Slice copy element by element behind an axis of 1, so the transpose leaves
        // out the axes of 1 (one group, a 1×1 kernel), and the flip, which reverses the kernel's
        // flattened taps, is a product with the reversed identity: 8.7 against 15 ms for a 512×512×3×3
        // kernel as a Slice with step −1 (and exact: each output is one tap times 1 plus zeros).
        long area = 1;
        for (int i = 0; i < n; i++) {
            area *= ws[2 + i];
        }
        List<Long> grouped = new ArrayList<>();
        if (groups > 1) {
            grouped.add((long) groups);
        }
        int swapAt = grouped.size();
        grouped.add((long) outPerGroup);
        grouped.add((long) ws[1]);
        if (area > 1) {
            grouped.add(area);
        }
        int[] perm = java.util.stream.IntStream.range(0, grouped.size()).toArray();
        perm[swapAt] = swapAt + 1;
        perm[swapAt + 1] = swapAt;
        Value wt = d.transpose(d.reshape(w, grouped.stream().mapToLong(Long::longValue).toArray()), perm);
        if (area > 1) {
            int taps = (int) area;
            wt = d.op(Op.MAT_MUL, wt, d.sharedConstant("reversal" + taps, () -> reversal(taps)));
        }
        long[] swapped = new long[n + 2];
        swapped[0] = (long) groups * ws[1];
        swapped[1] = outPerGroup;
        for (int i = 0; i < n; i++) {
            swapped[2 + i] = ws[2 + i];
        }
        Value flipped = d.reshape(wt, swapped);    // C, M/G, k... flipped
        int[] pads = geo.complementaryPads();
        Attributes at = Attributes.builder().put("kernel_shape", geo.kernel).put("strides", geo.strides).put("pads", pads)
                .put("dilations", geo.dilations).put("group", groups).build();
        if (groups == 1 && gemmOverBatch(inSpatial, w)) {
            // The same convolution as one GEMM over the batch: dXᵀ[C, (n, o)] = W̃[C, M·K] · im2col(dY).
            Geometry full = new Geometry(n, geo.kernel, geo.strides, pads, geo.dilations, groups);
            Value cols = columns(d, g, full, inSpatial, groups);                        // G, M/G·K, N·spatial
            Value w2 = d.reshape(flipped, groups, ws[1], -1);                           // G, C/G, M/G·K
            return batchFirst(d, d.op(Op.MAT_MUL, w2, cols), groups * ws[1], inSpatial);  // from G, C/G, N·spatial
        }
        return d.op(Op.CONV, at, g, flipped);
    }

    /**
     * dW[m, c, k] = Σ_n Σ_o X[n, group(m)·C/G + c, o·s + k·dil − pad] · dY[n, m, o]: for each kernel
     * tap k, the output gradient times the strided slice of the zero-padded input that tap meets, with
     * the batch inside the contraction (dY and X moved to [maps, N, positions]).
     *
     * <p>Four forms. With enough input maps ({@link #PRODUCT_MIN_MAPS}), ungrouped, 1-D or 2-D, and
     * columns of moderate size ({@link #LARGEST_COLUMNS}), one GEMM over im2col columns that a grouped
     * convolution writes ({@link #columnsByConvolution}). Larger, 2-D: one such GEMM per band of
     * output rows ({@link #weightGradientOverRowBands}); 1-D: up to three, each over some taps'
     * columns; beyond that, and 3-D, one GEMM per tap,
     * dW[:, :, k] = dYᵀ · slice_kᵀ, each slice copied once and freed after its product. With few
     * input maps (LeNet-5's, a stem's three colours), where a product would be too narrow for BLAS,
     * one convolution over the whole batch ({@link #weightGradientAsConv}), grouped ones included.
     * Depthwise convolutions, groups of 32 maps or more, 1×1 kernels and a forward pass's saved
     * columns take one GEMM per group over im2col columns, the slices stacked; a pointwise layer on
     * large maps, one product per image.
     */
    static Value weightGradient(GradientEmitter d, Value x, Value dy, Geometry geo, int[] weightShape, Value savedColumns) {
        int groups = geo.group;
        int channels = x.shape().dim(1);
        int outChannels = dy.shape().dim(1);
        if (channels % groups != 0) {
            throw new IllegalStateException("groups must divide the input maps");
        }
        Value dyT = d.transpose(dy, swapFirstTwo(dy.shape().rank()));                   // M, N, out spatial
        long[] shape = Arrays.stream(weightShape).asLongStream().toArray();
        int taps = taps(geo);
        int[] outSpatial = dy.shape().tail(2);
        long o = positions(outSpatial);                                                  // output positions an image
        if (savedColumns == null && groups == 1 && taps > 1 && channels >= PRODUCT_MIN_MAPS) {
            int tapsPerProduct = (int) Math.min(taps, LARGEST_COLUMNS / (channels * o));     // C·O: one tap's columns an image
            if (geo.spatial == 2 && tapsPerProduct < taps) {
                return weightGradientOverRowBands(d, x, dyT, geo, shape);
            }
            Value dyRows = d.reshape(dyT, outChannels, -1);                               // M, N·O
            if (geo.spatial <= 2 && tapsPerProduct > 1 && (taps + tapsPerProduct - 1) / tapsPerProduct <= MOST_COLUMN_PRODUCTS) {
                return weightGradientOverColumns(d, x, dyRows, geo, tapsPerProduct, o, shape);
            }
            Value[] perTap = new Value[taps];
            Taps slices = new Taps(d, x, geo, outSpatial);
            for (int k = 0; k < taps; k++) {
                Value slice = d.reshape(slices.slice(k), channels, -1);                    // C, N·O
                perTap[k] = d.op(Op.UNSQUEEZE, d.op(Op.MAT_MUL, dyRows, d.transpose(slice, 1, 0)), d.int64s(2));  // M, C, 1
            }
            return d.reshape(d.op(Op.CONCAT, Attributes.of("axis", 2), perTap), shape);
        }
        int perGroup = channels / groups;
        if (savedColumns == null && taps > 1 && (groups == 1 || perGroup > 1 && perGroup < PRODUCT_MIN_MAPS)) {
            Value dw = weightGradientAsConv(d, x, dyT, geo);
            if (dw != null) {
                return dw;
            }
        }
        if (savedColumns == null && groups == 1 && taps == 1 && Arrays.stream(geo.strides).allMatch(v -> v == 1)
                && Arrays.stream(geo.pads).allMatch(v -> v == 0) && 4L * outChannels * channels <= (outChannels + channels) * o) {
            // A pointwise layer on large maps: dW = Σ_n dY_n · X_nᵀ, one product per image on the tensors as
            // they lie, summed, where moving X and dY to [maps, N·O] copied both; the per-image products
            // [N, M, C] are at most a quarter of those copies. ResNet-50's 1×1 weight gradients in
            // layer1 and layer2 took 0.72 to 0.91 of the moved form's time (two A/B profiles, batch 8).
            Value perImage = d.op(Op.MAT_MUL, d.reshape(dy, -1, outChannels, o), d.transpose(d.reshape(x, -1, channels, o), 0, 2, 1));
            return d.reshape(d.reduceSum(perImage, false, 0), shape);                    // Σ_n [M, C]
        }
        Value cols = savedColumns != null ? savedColumns : columns(d, x, geo, dy.shape().tail(2), groups); // G, C/G·K, N·O
        Value dyGroups = d.reshape(dyT, groups, outChannels / groups, -1);              // G, M/G, N·O
        Value dw = d.op(Op.MAT_MUL, dyGroups, d.transpose(cols, 0, 2, 1));                // G, M/G, C/G·K
        return d.reshape(dw, shape);
    }

    /**
     * dW[m, c, k] = Σ_n Σ_o dYᵀ[m, n, o] · Xᵀ[c, n, s·o + dil·k − pad]: a convolution of Xᵀ (C images of N
     * maps) with dYᵀ as M kernels of N maps, dilated by the stride and strided by the dilation, its
     * output the kernel's extent. ONNX Runtime unfolds the input in its own im2col, one native pass,
     * where the columns form costs a Slice per tap and their Concat: on LeNet-5 at batch 64 the
     * backward kernels took 30.6 against 41.5 ms (profiled, docs/benchmarks.md). With many input maps
     * it loses (C products only as wide as the kernel's taps: ResNet-18's 64-map 3×3 layers 49 against
     * 27 ms), so it serves the few-map convolutions only. Grouped, each group's input maps are
     * images of N maps side by side, [C/G, G·N, spatial], and the convolution has the G groups
     * (LeNet-5's partial connections: 9 groups of 4 maps). Null where the end padding would have to be
     * negative (a strided convolution whose floor division skipped more than a stride's rows).
     */
    private static Value weightGradientAsConv(GradientEmitter d, Value x, Value dyT, Geometry geo) {
        int n = geo.spatial;
        int groups = geo.group;
        int[] outSpatial = dyT.shape().tail(2);
        int[] pads = new int[2 * n];
        for (int i = 0; i < n; i++) {
            int span = geo.strides[i] * (outSpatial[i] - 1) + 1;          // the input rows one kernel tap meets
            pads[i] = geo.pads[i];
            // the end padding that makes the output exactly the kernel: in + pads − span = dil·(k − 1)
            pads[i + n] = geo.dilations[i] * (geo.kernel[i] - 1) + span - x.shape().dim(2 + i) - geo.pads[i];
            if (pads[i + n] < 0) {
                return null;
            }
        }
        Attributes at = Attributes.builder().put("kernel_shape", outSpatial).put("strides", geo.dilations).put("pads", pads)
                .put("dilations", geo.strides).put("group", groups).build();
        int[] swap = swapFirstTwo(n + 2);
        Value images;
        if (groups == 1) {
            images = d.transpose(x, swap);                                              // C, N, spatial
        } else {
            // Group g's C/G maps as images of N maps each, side by side along the maps: [C/G, G·N, spatial],
            // so that a convolution with G groups pairs them with group g's M/G kernels only.
            int perGroup = x.shape().dim(1) / groups;
            long[] joined = new long[n + 2];
            joined[0] = perGroup;
            joined[1] = -1;
            for (int i = 0; i < n; i++) {
                joined[2 + i] = x.shape().dim(2 + i);
            }
            Value split = d.reshape(x, -1, groups, perGroup, Shape.of(x.shape().tail(2)).elements());   // N, G, C/G, positions
            images = d.reshape(d.transpose(split, 2, 1, 0, 3), joined);                           // C/G, G·N, spatial
        }
        Value dwT = d.op(Op.CONV, at, images, dyT);                                       // C/G, M, k...
        return d.transpose(dwT, swap);
    }

    /**
     * dW from the columns {@link #columnsByConvolution} writes, the taps taken {@code tapsPerProduct}
     * at a time: a product each, [C·count, M] or [M, C·count], joined along the taps.
     */
    private static Value weightGradientOverColumns(GradientEmitter d, Value x, Value dyRows, Geometry geo, int tapsPerProduct,
            long positions, long[] shape) {
        int channels = x.shape().dim(1);
        int outChannels = dyRows.shape().dim(0);
        int taps = taps(geo);
        // BLAS streams its first operand and packs the second: the larger goes first, so with more
        // positions than output maps the columns do, and the small [C·count, M] products are moved after.
        boolean columnsFirst = positions >= outChannels;
        Value dyCols = columnsFirst ? d.transpose(dyRows, 1, 0) : null;                  // N·O, M
        List<Value> parts = new ArrayList<>();
        for (int first = 0; first < taps; first += tapsPerProduct) {
            int count = Math.min(tapsPerProduct, taps - first);
            Value cols = columnsByConvolution(d, x, geo, first, count);                  // C·count, N·O
            parts.add(columnsFirst ? d.reshape(d.op(Op.MAT_MUL, cols, dyCols), channels, count, outChannels)
                    : d.reshape(d.op(Op.MAT_MUL, dyRows, d.transpose(cols, 1, 0)), outChannels, channels, count));
        }
        Value dw = parts.size() == 1 ? parts.get(0) : d.op(Op.CONCAT, Attributes.of("axis", columnsFirst ? 1 : 2), parts.toArray(Value[]::new));
        return d.reshape(columnsFirst ? d.transpose(dw, 2, 0, 1) : dw, shape);           // M, C, K
    }

    /**
     * dW over the columns of bands of output rows: a 2-D layer whose columns exceed
     * {@link #LARGEST_COLUMNS} an image takes them a band of output rows at a time, each band's
     * columns (all taps) written from the input rows it meets, one product each, the products summed.
     * Splitting the taps instead writes every column once per product (the one-hot convolution
     * unfolds all taps whichever it keeps), and one product per tap copies a padded input and a slice
     * per tap; a band's input is a slice of the input's rows with their halo, the layer's padding
     * kept only at the ends. On VGG-16-BN at batch 8 (2-core AVX2 EPYC, profiled) the backward kernels
     * of its 64-, 128- and 512-map layers took 220, 100 and 120 ms less than over per-tap slices or
     * tap splits, the 256-map ones 90 ms more (their bands' products have a quarter of the inner
     * dimension of the per-tap ones'): backward 9.51 → 9.18 s; Inception-v3's three 147- and 71-row
     * layers, tap splits before, took its step from 2.94 to 2.84 s (three alternated pairs); the
     * peaks did not move (3.00 → 3.02 GiB, 1.10 → 1.10).
     */
    private static Value weightGradientOverRowBands(GradientEmitter d, Value x, Value dyT, Geometry geo, long[] shape) {
        int channels = x.shape().dim(1);
        int outChannels = dyT.shape().dim(0);
        int taps = taps(geo);
        int[] outSpatial = dyT.shape().tail(2);
        int outRows = outSpatial[0];
        long perRow = (long) channels * taps * outSpatial[1];                           // one output row's columns an image
        int rowsPerBand = (int) Math.max(1, Math.min(outRows, LARGEST_COLUMNS / perRow));
        int bands = (outRows + rowsPerBand - 1) / rowsPerBand;
        rowsPerBand = (outRows + bands - 1) / bands;                                     // even bands, the last no larger
        int inRows = x.shape().dim(2);
        int reach = geo.dilations[0] * (geo.kernel[0] - 1);                              // input rows one column spans, less one
        boolean columnsFirst = (long) rowsPerBand * outSpatial[1] >= outChannels;
        Value xt = d.transpose(x, swapFirstTwo(4));                                      // C, N, H, W
        List<Value> parts = new ArrayList<>();
        for (int first = 0; first < outRows; first += rowsPerBand) {
            int end = Math.min(outRows, first + rowsPerBand);
            long top = (long) first * geo.strides[0] - geo.pads[0];                      // the band's first input row, maybe in the padding
            long bottom = (long) (end - 1) * geo.strides[0] - geo.pads[0] + reach + 1;   // one past its last
            long from = Math.max(0, top);
            long to = Math.min(inRows, bottom);
            int[] pads = {(int) (from - top), geo.pads[1], (int) (bottom - to), geo.pads[3]};
            Geometry band = new Geometry(2, geo.kernel, geo.strides, pads, geo.dilations, 1);
            Value rows = d.op(Op.SLICE, xt, d.int64s(from), d.int64s(to), d.int64s(2));   // C, N, band's input rows, W
            Value cols = columnsOfImages(d, rows, band, 0, taps);                         // C·K, N·band
            Value dyBand = d.reshape(d.op(Op.SLICE, dyT, d.int64s(first), d.int64s(end), d.int64s(2)), outChannels, -1); // M, N·band
            parts.add(columnsFirst ? d.op(Op.MAT_MUL, cols, d.transpose(dyBand, 1, 0))     // C·K, M
                    : d.op(Op.MAT_MUL, dyBand, d.transpose(cols, 1, 0)));                  // M, C·K
        }
        Value dw = d.sum(parts);
        return columnsFirst ? d.reshape(d.transpose(d.reshape(dw, channels, taps, outChannels), 2, 0, 1), shape) : d.reshape(dw, shape);
    }

    /**
     * Per image, the most im2col column entries one product of {@link #columnsByConvolution} takes,
     * 2 M floats (8 MB an image): a 2-D layer with more takes bands of output rows
     * ({@link #weightGradientOverRowBands}), a 1-D one its taps in up to
     * {@link #MOST_COLUMN_PRODUCTS} products, each over the columns of some taps, and beyond that one
     * product per tap. At 1 M, GoogLeNet's 64-map 56×56 layer (1.8 M an image) in one product had
     * raised its step's peak from 904 to 959–961 MiB (12-01); with the activations recomputed and
     * glibc's mmap threshold set (12-02) its peak was 889–899 MiB either way, and the one product took
     * ResNet-18's step 0.96 of the two products' time (four alternated pairs on a Xeon, 600, 617, 576,
     * 561 against 593, 581, 538, 552 ms), ResNet-50's 0.99.
     */
    static final long LARGEST_COLUMNS = 1L << 21;

    /**
     * The most products a 1-D weight gradient over columns is split into by taps, each unfolding
     * every tap again (2-D layers split by rows instead). Five had taken in VGG-16's 512-map 28×28
     * layers too, before the row bands: its step 17 % faster in one A/B pair, but its peak 4.58
     * against 4.46 GiB.
     */
    static final int MOST_COLUMN_PRODUCTS = 3;

    /**
     * im2col as one convolution, [C·count, N·O]: Xᵀ as one image of C maps over the extent N × spatial,
     * convolved, grouped by map, with one-hot kernels for taps first … first + count − 1 of each map
     * (kernel 1 along N, the layer's geometry along the rest), so output map c·count + j is what tap
     * first + j meets of map c. ONNX Runtime writes the columns once, in its own unfolding; the Slice
     * per tap and their Concat copied the input twice over. Then the weight gradient is one product
     * for these taps, where one per tap read the output gradient once each. ResNet-18's 3×3 weight
     * gradients at batch 8, 2 threads, all taps in one product, took 0.64 to 0.71 of the per-tap
     * form's time in its 64- and 128-map stages, 0.74 to 0.85 in the 256- and 512-map ones (two A/B
     * profiles; docs/benchmarks.md).
     */
    static Value columnsByConvolution(GradientEmitter d, Value x, Geometry geo, int first, int count) {
        return columnsOfImages(d, d.transpose(x, swapFirstTwo(geo.spatial + 2)), geo, first, count);
    }

    /** {@link #columnsByConvolution} of the input with its first two axes already exchanged, [C, N, spatial]. */
    private static Value columnsOfImages(GradientEmitter d, Value xt, Geometry geo, int first, int count) {
        int n = geo.spatial;
        int channels = xt.shape().dim(0);
        int taps = taps(geo);
        int[] inSpatial = xt.shape().tail(2);
        long[] image = new long[n + 3];                                                  // 1, C, N, spatial
        image[0] = 1;
        image[1] = channels;
        image[2] = -1;
        int[] kernel = new int[n + 1];
        int[] strides = new int[n + 1];
        int[] dilations = new int[n + 1];
        int[] pads = new int[2 * (n + 1)];
        kernel[0] = strides[0] = dilations[0] = 1;
        for (int i = 0; i < n; i++) {
            image[3 + i] = inSpatial[i];
            kernel[1 + i] = geo.kernel[i];
            strides[1 + i] = geo.strides[i];
            dilations[1 + i] = geo.dilations[i];
            pads[1 + i] = geo.pads[i];
            pads[n + 2 + i] = geo.pads[n + i];
        }
        Value images = d.reshape(xt, image);
        int[] kernelDims = new int[n + 3];
        kernelDims[0] = channels * count;
        kernelDims[1] = 1;
        System.arraycopy(kernel, 0, kernelDims, 2, n + 1);
        Value oneHot = d.sharedConstant("one-hot-taps/" + first + "/" + Arrays.toString(kernelDims), () -> {
            float[] w = new float[channels * count * taps];
            for (int i = 0; i < channels * count; i++) {
                w[i * taps + first + i % count] = 1f;
            }
            return Tensor.of(Shape.of(kernelDims), w);
        });
        Attributes at = Attributes.builder().put("kernel_shape", kernel).put("strides", strides).put("pads", pads)
                .put("dilations", dilations).put("group", channels).build();
        return d.reshape(d.op(Op.CONV, at, images, oneHot), (long) channels * count, -1);
    }

    /**
     * Input maps from which an ungrouped weight gradient is products, over the columns or per tap,
     * rather than a convolution with the output gradient as kernels ({@link #weightGradientAsConv}):
     * a product has C columns a tap, and below 32 BLAS runs it at a fraction of its speed (ResNet's
     * 3-map stem and LeNet-5's 1- and 6-map convolutions take the convolution).
     */
    static final int PRODUCT_MIN_MAPS = 32;

    private static int taps(Geometry geo) {
        int taps = 1;
        for (int k : geo.kernel) {
            taps *= k;
        }
        return taps;
    }

    /**
     * The input slices the kernel taps of a convolution meet, from X moved to [C, N, spatial] and
     * zero-padded. A strided convolution's taps read every s-th position: rather than one strided
     * copy per tap, the padded input is split once into its s^n phases (positions ≡ r mod s), and
     * each tap's slice is a contiguous window of one phase.
     */
    private static final class Taps {
        private final GradientEmitter d;
        private final Geometry geo;
        private final int[] outSpatial;
        private final Value padded;
        private final java.util.Map<java.util.List<Integer>, Value> phases = new java.util.HashMap<>();
        private final boolean strided;

        Taps(GradientEmitter d, Value x, Geometry geo, int[] outSpatial) {
            this.d = d;
            this.geo = geo;
            this.outSpatial = outSpatial;
            int n = geo.spatial;
            Value xt = d.transpose(x, swapFirstTwo(n + 2));                              // C, N, spatial
            if (Arrays.stream(geo.pads).anyMatch(p -> p != 0)) {
                long[] pads = new long[2 * (n + 2)];
                for (int i = 0; i < n; i++) {
                    pads[2 + i] = geo.pads[i];
                    pads[n + 2 + 2 + i] = geo.pads[i + n];
                }
                xt = d.op(Op.PAD, Attributes.of("mode", "constant"), xt, d.int64s(pads));
            }
            this.padded = xt;
            this.strided = Arrays.stream(geo.strides).anyMatch(v -> v > 1);
        }

        /** [C, N, out spatial]: what tap {@code k} (row-major over the kernel) meets at every output position. */
        Value slice(int k) {
            int n = geo.spatial;
            int[] tap = new int[n];
            int rem = k;
            for (int i = n - 1; i >= 0; i--) {
                tap[i] = rem % geo.kernel[i];
                rem /= geo.kernel[i];
            }
            long[] starts = new long[n];
            long[] ends = new long[n];
            long[] axes = new long[n];
            long[] steps = new long[n];
            Value source = padded;
            if (strided) {
                java.util.List<Integer> phase = new java.util.ArrayList<>();
                for (int i = 0; i < n; i++) {
                    phase.add(tap[i] * geo.dilations[i] % geo.strides[i]);
                }
                source = phases.computeIfAbsent(phase, this::phase);
            }
            for (int i = 0; i < n; i++) {
                long offset = (long) tap[i] * geo.dilations[i];
                starts[i] = strided ? offset / geo.strides[i] : offset;
                ends[i] = starts[i] + (strided ? outSpatial[i] : (long) (outSpatial[i] - 1) * geo.strides[i] + 1);
                axes[i] = 2 + i;
                steps[i] = 1;
            }
            return d.op(Op.SLICE, source, d.int64s(starts), d.int64s(ends), d.int64s(axes), d.int64s(steps));
        }

        private Value phase(java.util.List<Integer> residues) {
            int n = geo.spatial;
            long[] starts = new long[n];
            long[] ends = new long[n];
            long[] axes = new long[n];
            long[] steps = new long[n];
            for (int i = 0; i < n; i++) {
                starts[i] = residues.get(i);
                ends[i] = Long.MAX_VALUE;
                axes[i] = 2 + i;
                steps[i] = geo.strides[i];
            }
            return d.op(Op.SLICE, padded, d.int64s(starts), d.int64s(ends), d.int64s(axes), d.int64s(steps));
        }
    }

    /**
     * im2col with the batch inside the columns: [G, C/G·K, N·O], entry (g, c·K + k, (n, o)) the input
     * value that kernel tap k of group g's channel c meets at output position o of image n (zero in
     * the padding).
     */
    static Value columns(GradientEmitter d, Value x, Geometry geo, int[] outSpatial, int groups) {
        int n = geo.spatial;
        int channels = x.shape().dim(1);
        int taps = taps(geo);
        boolean whole = taps == 1 && Arrays.stream(geo.strides).allMatch(s -> s == 1) && Arrays.stream(geo.pads).allMatch(p -> p == 0);
        Value stacked;
        if (whole) {
            stacked = d.transpose(x, swapFirstTwo(n + 2));                               // a 1×1 stride-1 kernel sees everything
        } else {
            Taps slices = new Taps(d, x, geo, outSpatial);
            Value[] perTap = new Value[taps];
            for (int k = 0; k < taps; k++) {
                Value slice = slices.slice(k);
                perTap[k] = taps == 1 ? slice : d.op(Op.UNSQUEEZE, slice, d.int64s(1));    // C, 1, N, out spatial
            }
            stacked = taps == 1 ? perTap[0] : d.op(Op.CONCAT, Attributes.of("axis", 1), perTap); // C, K, N, out spatial
        }
        return d.reshape(stacked, groups, (long) channels / groups * taps, -1);
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

    /**
     * Y = convᵀ(X, W) is the adjoint of a convolution with the same geometry, so dX = conv(dY, W),
     * and dW is that convolution's weight gradient with the roles of input and output exchanged.
     */
    private static List<Value> convTranspose(GradientEmitter d, Node node, List<Value> in, List<Value> out, List<Value> grads,
            boolean[] needed) {
        Value x = in.get(0);
        Value w = in.get(1);
        Value g = grads.get(0);
        Geometry geo = Geometry.of(node, w.shape().tail(2));
        Value dx = needed[0] ? d.op(Op.CONV, geo.attributes(null), g, w) : null;
        Value dw = needed[1] ? weightGradient(d, g, x, geo, w.shape().dims(), null) : null;
        Value db = in.size() > 2 && in.get(2) != null && needed[2]
                ? d.reduceSum(g, false, GradientEmitter.allButChannels(g.shape().rank())) : null;
        return Arrays.asList(dx, dw, db);
    }

}
