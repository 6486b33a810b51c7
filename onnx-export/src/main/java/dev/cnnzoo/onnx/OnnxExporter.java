package dev.cnnzoo.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.DType;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Parameter;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.io.AtomicFile;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a {@link Graph} as a standard ONNX model (protobuf) that ONNX Runtime, the {@code onnx}
 * checker, Netron and other importers load.
 *
 * <p>Opsets {@value #MIN_OPSET} to {@value #MAX_OPSET}: the graph language emits the opset-13
 * forms of its operators (axes of ReduceSum, Squeeze and Unsqueeze as inputs, Dropout's ratio as
 * an input), which stay valid up to 21 except that the other Reduce operators take their axes as an
 * input from opset 18, which the exporter rewrites. {@code ScatterND} with a reduction needs
 * opset 16. Opset 17 is the default: the newest that Debian's onnx 1.12 checker validates.
 */
public final class OnnxExporter {
    public static final int MIN_OPSET = 13;
    public static final int MAX_OPSET = 21;
    public static final int DEFAULT_OPSET = 17;
    /** The symbolic batch dimension's name. */
    public static final String BATCH_PARAM = "N";
    /** Tensors under this many bytes stay inside the model file even when weights go external (ONNX's default). */
    private static final int EXTERNAL_MIN_BYTES = 1024;

    private OnnxExporter() {
    }

    /** The model as one protobuf message, weights inside. */
    public static ModelProto toProto(Graph graph, Weights weights, ExportOptions options) {
        return new Writer(prepare(graph, options), weights, options, null).model();
    }

    public static byte[] toBytes(Graph graph, Weights weights, ExportOptions options) {
        return toProto(graph, weights, options).toByteArray();
    }

    /**
     * Writes the model to {@code file}, atomically. When the weights pass the options' threshold
     * they go to {@code <file>.data} beside it, referenced as ONNX external data.
     *
     * @return the files written
     */
    public static List<Path> write(Graph graph, Weights weights, Path file, ExportOptions options) throws IOException {
        Graph g = prepare(graph, options);
        long bytes = g.parameters().values().stream().mapToLong(p -> p.shape().elements() * 4).sum();
        if (bytes <= options.externalDataThreshold() || options.weightsAsInputs()) {
            ModelProto model = new Writer(g, weights, options, null).model();
            AtomicFile.write(file, model::writeTo);
            return List.of(file);
        }
        Path data = file.resolveSibling(file.getFileName() + ".data");
        ExternalData external = new ExternalData(data.getFileName().toString());
        ModelProto model = new Writer(g, weights, options, external).model();
        // Both files complete before either is renamed: a kill leaves the old pair or the new one.
        Map<Path, AtomicFile.Writer> files = new java.util.LinkedHashMap<>();
        files.put(data, external::writeTo);
        files.put(file, model::writeTo);
        AtomicFile.writeAll(files);
        return List.of(file, data);
    }

    private static Graph prepare(Graph graph, ExportOptions options) {
        if (options.opset() < MIN_OPSET || options.opset() > MAX_OPSET) {
            throw new ZooException("opset " + options.opset() + " is outside the range the exporter writes, "
                    + MIN_OPSET + " to " + MAX_OPSET);
        }
        return options.inferenceForm() ? graph.inferenceForm(options.auxiliary()) : graph;
    }

    /** Initializer data that goes to the side file, in order. */
    private static final class ExternalData {
        private final String location;
        private final List<float[]> chunks = new ArrayList<>();
        private long offset;

        ExternalData(String location) {
            this.location = location;
        }

        TensorProto.Builder place(TensorProto.Builder t, float[] data) {
            long length = data.length * 4L;
            t.setDataLocation(TensorProto.DataLocation.EXTERNAL)
                    .addExternalData(entry("location", location))
                    .addExternalData(entry("offset", Long.toString(offset)))
                    .addExternalData(entry("length", Long.toString(length)));
            chunks.add(data);
            offset += length;
            return t;
        }

        void writeTo(OutputStream out) throws IOException {
            ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (float[] a : chunks) {
                for (int i = 0; i < a.length; i += buf.capacity() / 4) {
                    int n = Math.min(buf.capacity() / 4, a.length - i);
                    buf.clear();
                    buf.asFloatBuffer().put(a, i, n);
                    out.write(buf.array(), 0, n * 4);
                }
            }
        }
    }

    private static final class Writer {
        private final Graph graph;
        private final Weights weights;
        private final ExportOptions options;
        private final ExternalData external;
        private final GraphProto.Builder g = GraphProto.newBuilder();

        Writer(Graph graph, Weights weights, ExportOptions options, ExternalData external) {
            this.graph = graph;
            // Finiteness is checked where weights are loaded, under the caller's policy; integer tensors never fit.
            this.weights = weights == null ? null : weights.bind(graph, dev.cnnzoo.weights.WeightChecks.allowingNonFinite());
            this.options = options;
            this.external = external;
        }

        ModelProto model() {
            g.setName(graph.name());
            for (Value v : graph.inputs()) {
                g.addInput(valueInfo(v));
            }
            for (Parameter p : graph.parameters().values()) {
                if (options.weightsAsInputs()) {
                    g.addInput(valueInfo(p.value()));
                } else {
                    g.addInitializer(initializer(p.name(), requireWeight(p), true));
                }
            }
            graph.constants().forEach((name, data) -> g.addInitializer(initializer(name, data, false)));
            for (Node n : graph.nodes()) {
                g.addNode(node(n));
            }
            Set<String> outputNames = new HashSet<>();
            for (Graph.Output o : graph.outputs()) {
                g.addOutput(valueInfo(o.value()));
                outputNames.add(o.name());
            }
            for (Node n : graph.nodes()) {
                for (Value v : n.outputs()) {
                    if (!outputNames.contains(v.name())) {
                        g.addValueInfo(valueInfo(v));
                    }
                }
            }
            ModelProto.Builder m = ModelProto.newBuilder()
                    .setIrVersion(irVersion(options.opset()))
                    .setProducerName("cnn-zoo")
                    .setProducerVersion(Version.get())
                    .setDomain("dev.cnnzoo")
                    .setModelVersion(1)
                    .setDocString(options.docString())
                    .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(options.opset()))
                    .setGraph(g);
            // In key order: the options hold an unordered map, and the same export should be the same bytes.
            new java.util.TreeMap<>(options.metadata()).forEach((k, v) -> m.addMetadataProps(entry(k, v)));
            return m.build();
        }

        private Tensor requireWeight(Parameter p) {
            if (weights == null) {
                throw new IllegalArgumentException("no weights given for " + graph.name());
            }
            return weights.get(p.name());
        }

        private NodeProto node(Node n) {
            NodeProto.Builder b = NodeProto.newBuilder().setName(n.name()).setOpType(n.op());
            List<String> inputs = new ArrayList<>();
            for (Value v : n.inputs()) {
                inputs.add(v == null ? "" : v.name());
            }
            Map<String, Object> attributes = n.attributes().asMap();
            int axesInputSince = n.operator().axesInputSince();
            if (axesInputSince > 0 && options.opset() >= axesInputSince && attributes.containsKey("axes")) {
                // The opset-13 form keeps axes in an attribute; from axesInputSince (ReduceMean: 18) they are an input.
                String axesName = n.name() + "/axes";
                g.addInitializer(initializer(axesName, Tensor.int64s((long[]) attributes.get("axes")), false));
                inputs.add(axesName);
                attributes = new java.util.LinkedHashMap<>(attributes);
                attributes.remove("axes");
            }
            if (n.is(Op.SCATTER_ND) && attributes.containsKey("reduction") && options.opset() < 16) {
                throw new ZooException("node " + n.name() + " needs opset 16 or later (" + n.operator().opType() + " with a reduction); asked for "
                        + options.opset());
            }
            b.addAllInput(inputs);
            n.outputs().forEach(v -> b.addOutput(v.name()));
            attributes.forEach((k, v) -> b.addAttribute(attribute(k, v)));
            return b.build();
        }

        private TensorProto initializer(String name, Tensor t, boolean mayGoExternal) {
            TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(t.dtype().onnxCode());
            for (int d : t.shape().dims()) {
                b.addDims(d);
            }
            if (mayGoExternal && external != null && t.isFloating() && t.elements() * 4 >= EXTERNAL_MIN_BYTES) {
                return external.place(b, t.floats()).build();
            }
            return b.setRawData(rawBytes(t)).build();
        }

        private ValueInfoProto valueInfo(Value v) {
            TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
            for (int d : v.shape().dims()) {
                shape.addDim(d == Shape.BATCH ? TensorShapeProto.Dimension.newBuilder().setDimParam(BATCH_PARAM)
                        : d < 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam(Shape.dimName(d))
                        : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
            }
            TypeProto type = TypeProto.newBuilder().setTensorType(
                    TypeProto.Tensor.newBuilder().setElemType(v.dtype().onnxCode()).setShape(shape)).build();
            return ValueInfoProto.newBuilder().setName(v.name()).setType(type).build();
        }
    }

    /** ONNX IR version that goes with an opset (IR 8 for opset 17, 9 for 18–20, 10 for 21). */
    static int irVersion(int opset) {
        return opset <= 17 ? 8 : opset <= 20 ? 9 : 10;
    }

    static AttributeProto attribute(String name, Object v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name);
        if (v instanceof Long l) {
            a.setType(AttributeProto.AttributeType.INT).setI(l);
        } else if (v instanceof Float f) {
            a.setType(AttributeProto.AttributeType.FLOAT).setF(f);
        } else if (v instanceof String s) {
            a.setType(AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8(s));
        } else if (v instanceof long[] ints) {
            a.setType(AttributeProto.AttributeType.INTS);
            for (long i : ints) {
                a.addInts(i);
            }
        } else if (v instanceof float[] floats) {
            a.setType(AttributeProto.AttributeType.FLOATS);
            for (float f : floats) {
                a.addFloats(f);
            }
        } else if (v instanceof Tensor t) {
            TensorProto.Builder tp = TensorProto.newBuilder().setDataType(t.dtype().onnxCode()).setRawData(rawBytes(t));
            for (int d : t.shape().dims()) {
                tp.addDims(d);
            }
            a.setType(AttributeProto.AttributeType.TENSOR).setT(tp);
        } else {
            throw new IllegalArgumentException("attribute " + name + " of unsupported type " + v.getClass());
        }
        return a.build();
    }

    static ByteString rawBytes(Tensor t) {
        int n = Math.toIntExact(t.elements());
        ByteBuffer buf = ByteBuffer.allocate(n * t.dtype().bytes()).order(ByteOrder.LITTLE_ENDIAN);
        switch (t.dtype()) {
            case FLOAT -> buf.asFloatBuffer().put(t.floats());
            case INT64 -> buf.asLongBuffer().put(t.longs());
            case INT32 -> {
                for (long v : t.longs()) {
                    buf.putInt((int) v);
                }
            }
            case BOOL, UINT8 -> {
                for (long v : t.longs()) {
                    buf.put((byte) v);
                }
            }
            default -> throw new IllegalArgumentException("cannot write " + t.dtype() + " tensors");
        }
        return ByteString.copyFrom(buf.array());
    }

    static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }

    /** Reads a model's {@code metadata_props}. */
    public static Map<String, String> metadata(ModelProto model) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        model.getMetadataPropsList().forEach(e -> m.put(e.getKey(), e.getValue()));
        return m;
    }

    /** DType of an ONNX element type code, for readers of foreign models. */
    public static DType dtype(int onnxCode) {
        return DType.fromOnnxCode(onnxCode);
    }
}
