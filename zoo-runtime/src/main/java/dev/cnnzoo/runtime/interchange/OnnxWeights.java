package dev.cnnzoo.runtime.interchange;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.CodedInputStream;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The floating-point initializers of an ONNX file and the nodes that use them: what
 * {@link WeightImport} maps onto a zoo model. Weights stored as external data are read from their
 * side files; {@code Identity} nodes (PyTorch's exporter writes one for each duplicate of a tensor)
 * are followed back to the initializer they copy.
 */
final class OnnxWeights {
    /** A node input that is a weight: the node, its operator, which input, and the initializer's name. */
    record Use(String node, Op op, int input, String initializer, Map<String, Long> intAttributes) {
    }

    private final Map<String, Tensor> tensors;
    private final List<Use> uses;

    private OnnxWeights(Map<String, Tensor> tensors, List<Use> uses) {
        this.tensors = tensors;
        this.uses = uses;
    }

    Map<String, Tensor> tensors() {
        return tensors;
    }

    List<Use> uses() {
        return uses;
    }

    static OnnxWeights read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ZooException("ONNX file " + file + " does not exist");
        }
        ModelProto model;
        try (InputStream in = Files.newInputStream(file)) {
            CodedInputStream coded = CodedInputStream.newInstance(in);
            coded.setSizeLimit(Integer.MAX_VALUE);
            coded.setRecursionLimit(1000);
            model = ModelProto.parseFrom(coded);
        } catch (IOException e) {
            throw new ZooException(file + " is not an ONNX model: " + e.getMessage(), e);
        }
        if (!model.hasGraph()) {
            throw new ZooException(file + " is not an ONNX model (it has no graph)");
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        java.util.Set<String> names = new java.util.HashSet<>();
        for (TensorProto t : model.getGraph().getInitializerList()) {
            if (!names.add(t.getName())) {
                throw new ZooException(file + " names the initializer '" + t.getName() + "' twice; which copy is meant cannot be told");
            }
            Tensor value = floats(t, file);
            if (value != null) {
                tensors.put(t.getName(), value);
            }
        }
        // Identity nodes copying an initializer: their output stands for it.
        Map<String, String> alias = new HashMap<>();
        for (NodeProto n : model.getGraph().getNodeList()) {
            if (Op.IDENTITY.opType().equals(n.getOpType()) && n.getInputCount() == 1 && n.getOutputCount() == 1) {
                String source = alias.getOrDefault(n.getInput(0), n.getInput(0));
                if (tensors.containsKey(source)) {
                    alias.put(n.getOutput(0), source);
                }
            }
        }
        List<Use> uses = new ArrayList<>();
        for (NodeProto n : model.getGraph().getNodeList()) {
            Op op = Op.find(n.getOpType()).orElse(null);
            if (op == null || op == Op.IDENTITY) {
                continue;       // an operator the zoo never writes holds none of its weights; identities are followed above
            }
            Map<String, Long> ints = new HashMap<>();
            for (AttributeProto a : n.getAttributeList()) {
                if (a.getType() == AttributeProto.AttributeType.INT) {
                    ints.put(a.getName(), a.getI());
                }
            }
            for (int i = 0; i < n.getInputCount(); i++) {
                String name = alias.getOrDefault(n.getInput(i), n.getInput(i));
                if (tensors.containsKey(name)) {
                    uses.add(new Use(n.getName(), op, i, name, ints));
                }
            }
        }
        return new OnnxWeights(tensors, uses);
    }

    /** A float, double or half-precision initializer as floats; null for integer tensors (shapes, indices). */
    private static Tensor floats(TensorProto t, Path file) {
        int type = t.getDataType();
        boolean floating = type == TensorProto.DataType.FLOAT_VALUE || type == TensorProto.DataType.DOUBLE_VALUE
                || type == TensorProto.DataType.FLOAT16_VALUE || type == TensorProto.DataType.BFLOAT16_VALUE;
        if (!floating) {
            return null;
        }
        long[] dims = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
        Shape shape = Tensor.holdableShape(file + ": initializer '" + t.getName() + "'", dims);
        int n = Math.toIntExact(shape.elements());
        float[] out = new float[n];
        ByteBuffer raw = null;
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            raw = external(t, file);
        } else if (!t.getRawData().isEmpty()) {
            raw = t.getRawData().asReadOnlyByteBuffer();
        }
        if (raw != null) {
            raw = raw.order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                out[i] = switch (type) {
                    case TensorProto.DataType.FLOAT_VALUE -> raw.getFloat();
                    case TensorProto.DataType.DOUBLE_VALUE -> (float) raw.getDouble();
                    case TensorProto.DataType.FLOAT16_VALUE -> halfToFloat(raw.getShort());
                    default -> Float.intBitsToFloat((raw.getShort() & 0xffff) << 16);
                };
            }
        } else {
            for (int i = 0; i < n; i++) {
                out[i] = switch (type) {
                    case TensorProto.DataType.FLOAT_VALUE -> t.getFloatData(i);
                    case TensorProto.DataType.DOUBLE_VALUE -> (float) t.getDoubleData(i);
                    case TensorProto.DataType.FLOAT16_VALUE -> halfToFloat((short) t.getInt32Data(i));
                    default -> Float.intBitsToFloat((t.getInt32Data(i) & 0xffff) << 16);
                };
            }
        }
        return Tensor.of(shape, out);
    }

    /** IEEE 754 binary16 to float (Java 17 has no Float.float16ToFloat). */
    static float halfToFloat(short h) {
        int sign = (h & 0x8000) << 16;
        int exponent = (h >> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | mantissa << 13);     // infinity or NaN
        }
        if (exponent == 0) {
            float subnormal = mantissa * 0x1p-24f;                               // 2^-14 · mantissa/1024
            return sign != 0 ? -subnormal : subnormal;
        }
        return Float.intBitsToFloat(sign | (exponent + 112) << 23 | mantissa << 13);
    }

    private static ByteBuffer external(TensorProto t, Path file) {
        String location = null;
        long offset = 0;
        long length = -1;
        for (StringStringEntryProto e : t.getExternalDataList()) {
            switch (e.getKey()) {
                case "location" -> location = e.getValue();
                case "offset" -> offset = Long.parseLong(e.getValue());
                case "length" -> length = Long.parseLong(e.getValue());
                default -> { }
            }
        }
        if (location == null) {
            throw new ZooException(file + ": initializer '" + t.getName() + "' is external but names no file");
        }
        Path data = file.toAbsolutePath().resolveSibling(location);
        try (RandomAccessFile f = new RandomAccessFile(data.toFile(), "r")) {
            if (length < 0) {
                length = f.length() - offset;
            }
            byte[] bytes = new byte[Math.toIntExact(length)];
            f.seek(offset);
            f.readFully(bytes);
            return ByteBuffer.wrap(bytes);
        } catch (IOException e) {
            throw new ZooException(file + ": cannot read the external data of '" + t.getName() + "' from " + data + ": " + e.getMessage(), e);
        }
    }
}
