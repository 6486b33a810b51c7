package dev.cnnzoo.training;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.cnnzoo.graph.Attributes;
import dev.cnnzoo.graph.DType;
import dev.cnnzoo.graph.GraphBuilder;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.OnnxExporter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs a training model's convolutions on ONNX Runtime's blocked-layout (NCHWc) CPU kernels.
 *
 * <p>For inference ONNX Runtime moves 2-D convolutions to its NCHWc kernels itself, but only those
 * whose weights are constant initializers, since it reorders the weights once when the session
 * opens. In a training model the weights are inputs, and the input gradient's convolution reads
 * weights computed in the graph, so every convolution ran on the generic im2col-and-GEMM kernel,
 * 1.3 to 1.5× as slow (fashion-cnn's 128-map 3×3 convolution at batch 64: 29 against 20 ms). This
 * rewrite, applied to the bytes a session opens and never to the files the zoo writes (those stay
 * standard ONNX), does per step what ONNX Runtime does once: each such convolution becomes
 * {@code ReorderInput → com.microsoft.nchwc.Conv → ReorderOutput}, its weights reordered in the graph
 * from [O, C, kh, kw] into the kernel's [O/b, C/b, kh, kw, b(C), b(O)] blocks by Reshapes and
 * two of the kernel's own input reorders (two copies of the weights, small beside the activations).
 *
 * <p>The block size b is the CPU's (16 with AVX-512, 8 with AVX2), read from the model ONNX Runtime
 * itself optimises for a probe convolution; where it makes no NCHWc nodes (other CPUs, other
 * builds) nothing is rewritten. Convolutions whose maps are not multiples of b, grouped ones and
 * those with constant weights are left as they are.
 */
public final class BlockedConvolutions {
    static final String DOMAIN = "com.microsoft.nchwc";
    /**
     * The system property that, set to {@code false}, turns this off: sessions open on the standard
     * graph, and {@link ConvRules#gemmOverBatch} is chosen as for a CPU without the kernels.
     */
    public static final String ENABLED_PROPERTY = "cnnzoo.blockedConvolutions";

    private static volatile Integer blockSize;

    private BlockedConvolutions() {
    }

    /** The model to open: {@code model} with its convolutions blocked where this CPU has the kernels, else {@code model}. */
    public static byte[] forThisCpu(byte[] model) {
        return available() ? rewrite(model, blockSize()) : model;
    }

    /** Whether sessions opened through {@link #forThisCpu} run convolutions on the blocked kernels. */
    public static boolean available() {
        return Boolean.parseBoolean(System.getProperty(ENABLED_PROPERTY, "true")) && blockSize() > 1;
    }

    /** Whether an ungrouped 2-D convolution with weights of these dimensions [O, C, kh, kw] runs on this CPU's blocked kernels. */
    public static boolean blocks(int[] weightDims) {
        return available() && blocks(weightDims, blockSize());
    }

    private static boolean blocks(int[] weightDims, int block) {
        return weightDims.length == 4 && weightDims[0] % block == 0 && weightDims[1] % block == 0;
    }

    /** ONNX Runtime's NCHWc block size on this CPU, or 0 where it has none. */
    static int blockSize() {
        Integer b = blockSize;
        if (b == null) {
            synchronized (BlockedConvolutions.class) {
                b = blockSize;
                if (b == null) {
                    b = probe();
                    blockSize = b;
                }
            }
        }
        return b;
    }

    /**
     * Opens a session on a 32-map convolution with constant weights and one output map, with ONNX
     * Runtime writing the model it optimised: its NCHWc convolution pads the output maps to one block,
     * so the reordered weights' first dimension is the block size.
     */
    private static int probe() {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("cnnzoo-nchwc");
            Path optimised = dir.resolve("probe.onnx");
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
                so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                so.setSessionLogLevel(ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);   // not its note on hardware-specific files
                so.setOptimizedModelFilePath(optimised.toString());
                try (OrtSession ignored = env.createSession(probeModel(), so)) {
                    // opening writes the optimised model
                }
            }
            ModelProto m = ModelProto.parseFrom(Files.readAllBytes(optimised));
            Map<String, TensorProto> initializers = new HashMap<>();
            m.getGraph().getInitializerList().forEach(t -> initializers.put(t.getName(), t));
            for (NodeProto n : m.getGraph().getNodeList()) {
                if (n.getDomain().equals(DOMAIN) && n.getOpType().equals("Conv") && initializers.containsKey(n.getInput(1))) {
                    return (int) initializers.get(n.getInput(1)).getDims(0);
                }
            }
            return 0;
        } catch (OrtException | IOException | RuntimeException e) {
            return 0;   // no way to tell: keep the standard graph
        } finally {
            if (dir != null) {
                try (var files = Files.list(dir)) {
                    for (Path p : files.toList()) {
                        Files.deleteIfExists(p);
                    }
                    Files.deleteIfExists(dir);
                } catch (IOException ignored) {
                    // a temporary directory left behind is harmless
                }
            }
        }
    }

    private static byte[] probeModel() {
        int channels = 32;
        float[] weights = new float[channels * 9];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = 0.01f * (i % 7);
        }
        GraphBuilder g = new GraphBuilder("probe");
        Value x = g.input("x", DType.FLOAT, Shape.of(1, channels, 8, 8));
        Value w = g.constant(Tensor.of(Shape.of(1, channels, 3, 3), weights));
        g.output("y", g.op(Op.CONV, Attributes.builder().put("pads", new int[] {1, 1, 1, 1}).build(), x, w));
        return OnnxExporter.toBytes(g.build(), null, ExportOptions.defaults());
    }

    /** {@code model} with every convolution that qualifies on blocks of {@code block} maps. */
    static byte[] rewrite(byte[] model, int block) {
        ModelProto m;
        try {
            m = ModelProto.parseFrom(model);
        } catch (InvalidProtocolBufferException e) {
            return model;   // ONNX Runtime reports what is wrong with it
        }
        GraphProto g = m.getGraph();
        Map<String, List<Long>> shapes = new HashMap<>();
        for (List<ValueInfoProto> infos : List.of(g.getInputList(), g.getValueInfoList(), g.getOutputList())) {
            for (ValueInfoProto v : infos) {
                shapes.put(v.getName(), dims(v));
            }
        }
        Set<String> constants = new HashSet<>();
        g.getInitializerList().forEach(t -> constants.add(t.getName()));
        GraphProto.Builder out = g.toBuilder().clearNode();
        int rewritten = 0;
        for (NodeProto n : g.getNodeList()) {
            List<Long> w = n.getInputCount() > 1 ? shapes.get(n.getInput(1)) : null;
            List<Long> x = shapes.get(n.getInput(0));
            List<Long> y = shapes.get(n.getOutput(0));
            if (!n.getOpType().equals("Conv") || !n.getDomain().isEmpty() || w == null || x == null || y == null || w.size() != 4
                    || x.size() != 4 || constants.contains(n.getInput(1)) || group(n) != 1 || w.contains(-1L) || !x.get(1).equals(w.get(1))
                    || !blocks(w.stream().mapToInt(Long::intValue).toArray(), block)
                    || perImage(x) > LARGEST_MAPS || perImage(y) > LARGEST_MAPS) {
                out.addNode(n);
                continue;
            }
            String p = n.getName() + "/nchwc/";
            String weight = blockedWeights(out, p, n.getInput(1), w, block);
            List<String> convInputs = new ArrayList<>(List.of(reorder(out, p + "input", n.getInput(0)), weight));
            if (n.getInputCount() > 2 && !n.getInput(2).isEmpty()) {
                convInputs.add(n.getInput(2));
            }
            NodeProto.Builder conv = node(p + "conv", "Conv", DOMAIN, convInputs, p + "output").toBuilder();
            for (AttributeProto a : n.getAttributeList()) {
                conv.addAttribute(a);
            }
            out.addNode(conv.build());
            out.addNode(node(n.getName(), "ReorderOutput", DOMAIN, List.of(p + "output"), n.getOutput(0)).toBuilder()
                    .addAttribute(AttributeProto.newBuilder().setName("channels").setType(AttributeProto.AttributeType.INT).setI(w.get(0)))
                    .build());
            rewritten++;
        }
        if (rewritten == 0) {
            return model;
        }
        return m.toBuilder().setGraph(out)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(DOMAIN).setVersion(1)).build().toByteArray();
    }

    /**
     * [O, C, kh, kw] weights reordered into the blocked kernel's [O/b, C/b, kh, kw, b(C), b(O)], as
     * two of the kernel's own input reorders (NCHW to NCHWc, which moves a tensor's second axis, in
     * blocks of b, to the end): the weights read as O images of C maps over kh×kw give
     * [O, C/b, kh·kw, b(C)], and that read as O/b images of b maps over the rest gives the blocks.
     * As two products with the identity (a transpose each), ResNet-18's profiled step spent 20 ms
     * blocking its forward weights, 8 this way; 512×512×3×3 weights 2.9 against 1.5 ms in the
     * step, 2.0 against 0.9 in isolation (docs/benchmarks.md, "A Xeon with AMX").
     */
    private static String blockedWeights(GraphProto.Builder out, String p, String weight, List<Long> w, int block) {
        long o = w.get(0);
        long c = w.get(1);
        long taps = w.get(2) * w.get(3);
        String v = weight;
        if (taps > 1) {
            v = reorder(out, p + "inner", v);                                                     // O, C/b, kh·kw, b(C)
        }
        v = reorder(out, p + "outer", reshape(out, p + "outer_images", v, o / block, block, c * taps, 1));   // O/b, C/b·kh·kw·b(C), b(O)
        return reshape(out, p + "weight", v, o, c, w.get(2), w.get(3));
    }

    /** NCHW to the blocked NCHWc layout, the kernel's own reorder: [N, C, H, W] as [N, C/b, H, W, b]. */
    private static String reorder(GraphProto.Builder out, String name, String value) {
        out.addNode(node(name, "ReorderInput", DOMAIN, List.of(value), name));
        return name;
    }

    private static String reshape(GraphProto.Builder out, String name, String value, long... dims) {
        out.addInitializer(int64s(name + "_shape", dims));
        out.addNode(node(name, "Reshape", "", List.of(value, name + "_shape"), name));
        return name;
    }

    /**
     * Maps per image above which a convolution stays standard. The blocked form holds two more
     * tensors of its maps' size while it runs (the reordered input and output); at the backward
     * pass's peak, with VGG-16's 224×224×64 maps (103 MB at batch 8), ONNX Runtime's arena, which
     * grows by doubling, took another region for them: vgg16-bn's step peaked at 5.47 GiB where the
     * standard graph's peaked at 4.33 GiB. Below this (ResNets, Inceptions, GoogLeNet) the peaks
     * stayed within 7 %. 1.5 M rather than 2^20 takes in Inception-v3's 147×147×64 layer (1.38 M):
     * its convolution and input gradient 29 against 51 ms at batch 4, the peak unchanged (1.19 GiB);
     * VGG-16's 112×112×128 maps (1.6 M) stay out.
     */
    static final long LARGEST_MAPS = 3 << 19;

    private static long perImage(List<Long> dims) {
        long n = 1;
        for (int i = 1; i < dims.size(); i++) {
            n *= Math.max(1, dims.get(i));
        }
        return n;
    }

    private static long group(NodeProto n) {
        return n.getAttributeList().stream().filter(a -> a.getName().equals("group")).mapToLong(AttributeProto::getI).findFirst().orElse(1);
    }

    /** The dimensions of a value, -1 for a symbolic one. */
    private static List<Long> dims(ValueInfoProto v) {
        List<Long> dims = new ArrayList<>();
        for (TensorShapeProto.Dimension d : v.getType().getTensorType().getShape().getDimList()) {
            dims.add(d.hasDimValue() ? d.getDimValue() : -1L);
        }
        return dims;
    }

    private static NodeProto node(String name, String op, String domain, List<String> inputs, String output) {
        return NodeProto.newBuilder().setName(name).setOpType(op).setDomain(domain).addAllInput(inputs).addOutput(output).build();
    }

    private static TensorProto int64s(String name, long... values) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64.getNumber())
                .addDims(values.length);
        for (long v : values) {
            t.addInt64Data(v);
        }
        return t.build();
    }

}
