package dev.cnnzoo.onnx.quantize;

import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.cnnzoo.onnx.OnnxFiles;
import dev.cnnzoo.onnx.quantize.EditableGraph.Node;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Rewrites that leave a float graph computing the same function in the form quantization wants:
 * batch norms and constant per-channel scales and shifts that follow a convolution are folded into
 * its weights and bias (what ONNX Runtime's own optimizer does at load time, done before
 * quantization so that the folded weights are the ones quantized), constants are made
 * initializers, {@code Identity} copies of initializers (PyTorch's exporter writes one per shared
 * tensor) are read through, average pools whose every window divides by the full window become
 * depthwise convolutions, and LRN becomes its formula with the window's sum of squares as a 1×1
 * convolution (ONNX Runtime has no integer LRN, and its float one is slow: GoogLeNet's two took
 * about 60 % of the float model's time).
 */
final class FloatPreparation {
    private FloatPreparation() {
    }

    /** Rewrites the graph in place, folding until nothing more folds; returns what was rewritten, how often. */
    static Map<String, Integer> prepare(EditableGraph g) {
        Map<String, Integer> done = new LinkedHashMap<>();
        count(done, "Constant nodes made initializers", constantsToInitializers(g));
        count(done, "Identity copies of initializers read through", identitiesOfInitializers(g));
        count(done, "average pools made depthwise convolutions", averagePoolsAsDepthwiseConvolutions(g));
        count(done, "local response normalisations written as their formula", localResponseNormsAsFormula(g));
        int batchNorms = 0;
        int affine = 0;
        boolean changed = true;
        while (changed) {
            changed = false;
            for (Node n : List.copyOf(g.nodes)) {
                if (n.isOnnx("Conv") && g.nodes.contains(n)) {
                    if (foldBatchNorm(g, n)) {
                        batchNorms++;
                        changed = true;
                    } else if (foldChannelAffine(g, n)) {
                        affine++;
                        changed = true;
                    }
                }
            }
        }
        count(done, "batch norms folded into convolutions", batchNorms);
        count(done, "constant scales and shifts folded into convolutions", affine);
        g.dropUnusedInitializers();
        return done;
    }

    private static void count(Map<String, Integer> done, String what, int n) {
        if (n > 0) {
            done.put(what, n);
        }
    }

    private static int constantsToInitializers(EditableGraph g) {
        int count = 0;
        for (Node n : List.copyOf(g.nodes)) {
            if (n.isOnnx("Constant") && n.attributes.size() == 1 && n.attribute("value").isPresent() && !g.isGraphOutput(n.outputs.get(0))) {
                TensorProto value = n.attribute("value").get().getT().toBuilder().setName(n.outputs.get(0)).build();
                g.initializers.put(value.getName(), value);
                g.nodes.remove(n);
                count++;
            }
        }
        return count;
    }

    private static int identitiesOfInitializers(EditableGraph g) {
        int count = 0;
        for (Node n : List.copyOf(g.nodes)) {
            if (n.isOnnx("Identity") && g.isInitializer(n.input(0)) && !g.isGraphOutput(n.outputs.get(0))) {
                g.renameUses(n.outputs.get(0), n.input(0));
                g.nodes.remove(n);
                count++;
            }
        }
        return count;
    }

    /**
     * An average pool that divides every window by its full size (no padding, or padding counted)
     * is a depthwise convolution whose weights are all 1/(window size): the same function, and in
     * integers much faster in ONNX Runtime, whose QLinearAveragePool is a plain loop while its
     * depthwise QLinearConv is vectorised (Inception v3's nine 3×3 pools: 268 ms of a 580 ms run
     * as QLinearAveragePool, ORT 1.24 profile, batch 1, two threads). 1/(window size) is exact
     * in int8 at scale 1/(127 · size), so nothing is lost.
     */
    private static int averagePoolsAsDepthwiseConvolutions(EditableGraph g) {
        int count = 0;
        for (int i = 0; i < g.nodes.size(); i++) {
            Node n = g.nodes.get(i);
            if (!n.isOnnx("AveragePool") || n.outputs.size() != 1 || n.intAttribute("ceil_mode", 0) != 0) {
                continue;
            }
            long[] kernel = ints(n, "kernel_shape");
            long[] pads = ints(n, "pads");
            boolean padded = pads != null && java.util.Arrays.stream(pads).anyMatch(p -> p != 0);
            boolean autoPad = n.attribute("auto_pad").map(a -> !a.getS().toStringUtf8().equals("NOTSET")).orElse(false);
            if (kernel == null || kernel.length != 2 || autoPad || (padded && n.intAttribute("count_include_pad", 0) == 0)
                    || n.attribute("dilations").isPresent()) {
                continue;
            }
            int channels = channelsOf(g, n.input(0));
            if (channels <= 0) {
                continue;
            }
            int window = (int) (kernel[0] * kernel[1]);
            float[] w = new float[channels * window];
            java.util.Arrays.fill(w, 1f / window);
            String weight = g.freshName(n.name + ".weight");
            g.initializers.put(weight, OnnxFiles.floatTensor(weight, new long[] {channels, 1, kernel[0], kernel[1]}, w));
            List<AttributeProto> attributes = new java.util.ArrayList<>();
            attributes.add(intsAttribute("kernel_shape", kernel));
            attributes.add(intsAttribute("strides", ints(n, "strides") != null ? ints(n, "strides") : new long[] {1, 1}));
            attributes.add(intsAttribute("pads", pads != null ? pads : new long[4]));
            attributes.add(AttributeProto.newBuilder().setName("group").setType(AttributeProto.AttributeType.INT).setI(channels).build());
            g.nodes.set(i, new Node(n.name, "Conv", "", List.of(n.input(0), weight), n.outputs, attributes));
            count++;
        }
        return count;
    }

    /**
     * LRN as ONNX defines it, y = x / (bias + alpha/size · Σ x²)^beta with the sum over the channel
     * window [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉], written Mul(x, x) → Conv → Pow → Div: the 1×1
     * convolution's banded weight (alpha/size inside the window) and bias (bias) give the
     * denominator's base in one GEMM, which quantizes like any convolution; Pow and Div stay float.
     */
    private static int localResponseNormsAsFormula(EditableGraph g) {
        int count = 0;
        for (int i = 0; i < g.nodes.size(); i++) {
            Node n = g.nodes.get(i);
            int channels = n.isOnnx("LRN") && n.outputs.size() == 1 ? channelsOf(g, n.input(0)) : -1;
            if (channels <= 0) {
                continue;
            }
            int size = (int) n.intAttribute("size", 0);
            float alpha = n.floatAttribute("alpha", 1e-4f);
            float beta = n.floatAttribute("beta", 0.75f);
            float bias = n.floatAttribute("bias", 1f);
            int below = (size - 1) / 2;
            int above = size - 1 - below;
            float[] w = new float[channels * channels];
            for (int out = 0; out < channels; out++) {
                for (int in = Math.max(0, out - below); in <= Math.min(channels - 1, out + above); in++) {
                    w[out * channels + in] = alpha / size;
                }
            }
            float[] b = new float[channels];
            java.util.Arrays.fill(b, bias);
            String x = n.input(0);
            String weight = g.freshName(n.name + ".window");
            String shift = g.freshName(n.name + ".bias");
            String exponent = g.freshName(n.name + ".beta");
            g.initializers.put(weight, OnnxFiles.floatTensor(weight, new long[] {channels, channels, 1, 1}, w));
            g.initializers.put(shift, OnnxFiles.floatTensor(shift, new long[] {channels}, b));
            g.initializers.put(exponent, OnnxFiles.floatTensor(exponent, new long[0], new float[] {beta}));
            String squares = g.freshName(n.name + ".squares");
            String base = g.freshName(n.name + ".base");
            String denominator = g.freshName(n.name + ".denominator");
            List<Node> formula = List.of(
                    new Node(g.freshName(n.name + "/squares"), "Mul", "", List.of(x, x), List.of(squares), List.of()),
                    new Node(g.freshName(n.name + "/window_sum"), "Conv", "", List.of(squares, weight, shift), List.of(base), List.of()),
                    new Node(g.freshName(n.name + "/power"), "Pow", "", List.of(base, exponent), List.of(denominator), List.of()),
                    new Node(g.freshName(n.name + "/divide"), "Div", "", List.of(x, denominator), n.outputs, List.of()));
            g.nodes.remove(i);
            g.nodes.addAll(i, formula);
            i += formula.size() - 1;
            count++;
        }
        return count;
    }

    private static long[] ints(Node n, String key) {
        return n.attribute(key).map(a -> a.getIntsList().stream().mapToLong(Long::longValue).toArray()).orElse(null);
    }

    private static AttributeProto intsAttribute(String key, long[] values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(key).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    /** The channel count of an N×C×… tensor from its value info, or −1 when unknown. */
    private static int channelsOf(EditableGraph g, String tensor) {
        ValueInfoProto v = g.valueInfo.get(tensor);
        if (v == null) {
            v = g.inputs().stream().filter(x -> x.getName().equals(tensor)).findFirst().orElse(null);
        }
        if (v == null || v.getType().getTensorType().getShape().getDimCount() < 2) {
            return -1;
        }
        var dim = v.getType().getTensorType().getShape().getDim(1);
        return dim.hasDimValue() ? (int) dim.getDimValue() : -1;
    }

    /** The single consumer of a convolution's output, when nothing else reads it. */
    private static Node soleConsumer(EditableGraph g, Node conv) {
        String y = conv.outputs.get(0);
        List<Node> readers = g.consumersOf(y);
        return readers.size() == 1 && !g.isGraphOutput(y) ? readers.get(0) : null;
    }

    /** Conv → BatchNormalization (inference form, constant statistics) becomes one Conv. */
    private static boolean foldBatchNorm(EditableGraph g, Node conv) {
        Node bn = soleConsumer(g, conv);
        if (bn == null || !bn.isOnnx("BatchNormalization") || bn.outputs.size() != 1 || !bn.input(0).equals(conv.outputs.get(0))
                || bn.intAttribute("training_mode", 0) != 0 || !hasConstantWeights(g, conv)) {
            return false;
        }
        for (int i = 1; i <= 4; i++) {
            if (!isFloatInitializer(g, bn.input(i))) {
                return false;
            }
        }
        float[] gamma = floats(g, bn.input(1));
        float[] beta = floats(g, bn.input(2));
        float[] mean = floats(g, bn.input(3));
        float[] variance = floats(g, bn.input(4));
        float epsilon = bn.floatAttribute("epsilon", 1e-5f);
        int m = outputChannels(g, conv);
        if (gamma.length != m || beta.length != m || mean.length != m || variance.length != m) {
            return false;
        }
        float[] scale = new float[m];
        float[] shift = new float[m];
        for (int c = 0; c < m; c++) {
            scale[c] = (float) (gamma[c] / Math.sqrt(variance[c] + (double) epsilon));
            shift[c] = beta[c] - mean[c] * scale[c];
        }
        replaceWeights(g, conv, scale, shift);
        conv.outputs.set(0, bn.outputs.get(0));
        g.nodes.remove(bn);
        return true;
    }

    /**
     * Conv → Mul or Add by a constant that is one value, or one value per output channel, becomes
     * one Conv (Inception-ResNet's residual scale, LeNet-5's scaled tanh's input gain).
     */
    private static boolean foldChannelAffine(EditableGraph g, Node conv) {
        Node next = soleConsumer(g, conv);
        if (next == null || !(next.isOnnx("Mul") || next.isOnnx("Add")) || next.inputs.size() != 2 || !hasConstantWeights(g, conv)) {
            return false;
        }
        String y = conv.outputs.get(0);
        String other = next.input(0).equals(y) ? next.input(1) : next.input(0);
        if (other.equals(y) || !isFloatInitializer(g, other)) {
            return false;
        }
        int m = outputChannels(g, conv);
        int spatial = (int) g.initializers.get(conv.input(1)).getDimsCount() - 2;
        float[] perChannel = perChannel(g.initializers.get(other), m, spatial);
        if (perChannel == null) {
            return false;
        }
        float[] scale = new float[m];
        float[] shift = new float[m];
        boolean mul = next.isOnnx("Mul");
        for (int c = 0; c < m; c++) {
            scale[c] = mul ? perChannel[c] : 1;
            shift[c] = mul ? 0 : perChannel[c];
        }
        replaceWeights(g, conv, scale, shift);
        conv.outputs.set(0, next.outputs.get(0));
        g.nodes.remove(next);
        return true;
    }

    /**
     * A constant's values per output channel when it broadcasts as one value, or one per channel,
     * over a convolution's N×M×spatial output; null when it varies along any other axis.
     */
    private static float[] perChannel(TensorProto t, int m, int spatial) {
        float[] v = OnnxFiles.floats(t);
        float[] out = new float[m];
        if (v.length == 1) {
            java.util.Arrays.fill(out, v[0]);
            return out;
        }
        List<Long> dims = t.getDimsList();
        int channelAxis = dims.size() - 1 - spatial;       // right-aligned broadcasting
        if (v.length != m || channelAxis < 0 || dims.get(channelAxis) != m) {
            return null;
        }
        return v;
    }

    /** W' = W · scale[c] per output channel c; b' = b · scale[c] + shift[c]. */
    private static void replaceWeights(EditableGraph g, Node conv, float[] scale, float[] shift) {
        TensorProto wt = g.initializers.get(conv.input(1));
        float[] w = OnnxFiles.floats(wt);
        int m = scale.length;
        int per = w.length / m;
        for (int c = 0; c < m; c++) {
            for (int i = 0; i < per; i++) {
                w[c * per + i] *= scale[c];
            }
        }
        float[] b = conv.input(2).isEmpty() ? new float[m] : floats(g, conv.input(2));
        for (int c = 0; c < m; c++) {
            b[c] = b[c] * scale[c] + shift[c];
        }
        long[] wDims = wt.getDimsList().stream().mapToLong(Long::longValue).toArray();
        String wName = ownName(g, conv, 1, conv.name + ".weight");
        String bName = conv.input(2).isEmpty() ? g.freshName(conv.name + ".bias") : ownName(g, conv, 2, conv.name + ".bias");
        g.initializers.put(wName, OnnxFiles.floatTensor(wName, wDims, w));
        g.initializers.put(bName, OnnxFiles.floatTensor(bName, new long[] {m}, b));
        conv.inputs.set(1, wName);
        while (conv.inputs.size() < 3) {
            conv.inputs.add("");
        }
        conv.inputs.set(2, bName);
    }

    /** The initializer's own name when only this node reads it, else a fresh one (a shared tensor must keep its value). */
    private static String ownName(EditableGraph g, Node n, int input, String base) {
        String name = n.input(input);
        long readers = g.nodes.stream().filter(x -> x.inputs.contains(name)).count();
        return readers == 1 && !g.isGraphOutput(name) ? name : g.freshName(base);
    }

    static boolean hasConstantWeights(EditableGraph g, Node conv) {
        return isFloatInitializer(g, conv.input(1)) && (conv.input(2).isEmpty() || isFloatInitializer(g, conv.input(2)));
    }

    static boolean isFloatInitializer(EditableGraph g, String name) {
        TensorProto t = g.initializers.get(name);
        return t != null && t.getDataType() == TensorProto.DataType.FLOAT_VALUE;
    }

    static int outputChannels(EditableGraph g, Node conv) {
        return Math.toIntExact(g.initializers.get(conv.input(1)).getDims(0));
    }

    private static float[] floats(EditableGraph g, String name) {
        return OnnxFiles.floats(g.initializers.get(name));
    }
}
