package dev.cnnzoo.onnx;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import dev.cnnzoo.api.ZooException;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reading ONNX files, the zoo's or anyone's, as protobuf messages, and the values of their tensors.
 * Initializers kept as external data are read from their side files into the message, so the model
 * stands alone in memory (a rewrite can then change and write it without the side files).
 */
public final class OnnxFiles {
    private OnnxFiles() {
    }

    /**
     * The model in {@code file} with its external data read in.
     *
     * @throws ZooException when the file is missing, is not an ONNX model, or its side files cannot be read
     */
    public static ModelProto read(Path file) {
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
        boolean external = model.getGraph().getInitializerList().stream()
                .anyMatch(t -> t.getDataLocation() == TensorProto.DataLocation.EXTERNAL);
        if (!external) {
            return model;
        }
        ModelProto.Builder b = model.toBuilder();
        for (TensorProto.Builder t : b.getGraphBuilder().getInitializerBuilderList()) {
            if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
                ByteBuffer bytes = externalBytes(t.build(), file);
                t.clearExternalData().setDataLocation(TensorProto.DataLocation.DEFAULT).setRawData(ByteString.copyFrom(bytes));
            }
        }
        return b.build();
    }

    /** Whether an element type is a floating-point one (float, double, half, bfloat16). */
    public static boolean isFloating(int dataType) {
        return dataType == TensorProto.DataType.FLOAT_VALUE || dataType == TensorProto.DataType.DOUBLE_VALUE
                || dataType == TensorProto.DataType.FLOAT16_VALUE || dataType == TensorProto.DataType.BFLOAT16_VALUE;
    }

    /** The number of elements a tensor's dimensions hold. */
    public static int elements(TensorProto t) {
        long n = 1;
        for (long d : t.getDimsList()) {
            n *= d;
        }
        return Math.toIntExact(n);
    }

    /**
     * A floating-point tensor's values as floats, from its raw bytes or its typed fields.
     *
     * @throws IllegalArgumentException for a tensor of another type, or one still held as external data
     */
    public static float[] floats(TensorProto t) {
        int type = t.getDataType();
        if (!isFloating(type)) {
            throw new IllegalArgumentException("tensor '" + t.getName() + "' is not floating point (ONNX type " + type + ")");
        }
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            throw new IllegalArgumentException("tensor '" + t.getName() + "' is external data; read the model with OnnxFiles.read");
        }
        int n = elements(t);
        float[] out = new float[n];
        if (!t.getRawData().isEmpty()) {
            ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                out[i] = switch (type) {
                    case TensorProto.DataType.FLOAT_VALUE -> raw.getFloat();
                    case TensorProto.DataType.DOUBLE_VALUE -> (float) raw.getDouble();
                    case TensorProto.DataType.FLOAT16_VALUE -> halfToFloat(raw.getShort());
                    default -> Float.intBitsToFloat((raw.getShort() & 0xffff) << 16);
                };
            }
            return out;
        }
        for (int i = 0; i < n; i++) {
            out[i] = switch (type) {
                case TensorProto.DataType.FLOAT_VALUE -> t.getFloatData(i);
                case TensorProto.DataType.DOUBLE_VALUE -> (float) t.getDoubleData(i);
                case TensorProto.DataType.FLOAT16_VALUE -> halfToFloat((short) t.getInt32Data(i));
                default -> Float.intBitsToFloat((t.getInt32Data(i) & 0xffff) << 16);
            };
        }
        return out;
    }

    /** An integer tensor's values (INT64, INT32, INT8, UINT8), from its raw bytes or its typed fields. */
    public static long[] longs(TensorProto t) {
        int n = elements(t);
        long[] out = new long[n];
        int type = t.getDataType();
        if (!t.getRawData().isEmpty()) {
            ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                out[i] = switch (type) {
                    case TensorProto.DataType.INT64_VALUE -> raw.getLong();
                    case TensorProto.DataType.INT32_VALUE -> raw.getInt();
                    case TensorProto.DataType.INT8_VALUE -> raw.get();
                    case TensorProto.DataType.UINT8_VALUE -> raw.get() & 0xff;
                    default -> throw new IllegalArgumentException("tensor '" + t.getName() + "' is not an integer tensor (ONNX type " + type + ")");
                };
            }
            return out;
        }
        for (int i = 0; i < n; i++) {
            out[i] = type == TensorProto.DataType.INT64_VALUE ? t.getInt64Data(i) : t.getInt32Data(i);
        }
        return out;
    }

    /** A FLOAT tensor named {@code name} with raw little-endian data. */
    public static TensorProto floatTensor(String name, long[] dims, float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return tensor(name, TensorProto.DataType.FLOAT_VALUE, dims, b.array());
    }

    /** A tensor of the given element type from its raw little-endian bytes. */
    public static TensorProto tensor(String name, int dataType, long[] dims, byte[] raw) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(dataType).setRawData(ByteString.copyFrom(raw));
        for (long d : dims) {
            t.addDims(d);
        }
        return t.build();
    }

    /** IEEE 754 binary16 to float (Java 17 has no Float.float16ToFloat). */
    public static float halfToFloat(short h) {
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

    private static ByteBuffer externalBytes(TensorProto t, Path file) {
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
