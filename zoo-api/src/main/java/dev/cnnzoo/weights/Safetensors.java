package dev.cnnzoo.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.DType;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.io.AtomicFile;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The safetensors format (Hugging Face; what timm publishes weights in): an 8-byte little-endian
 * header length, a JSON header mapping each name to its dtype, shape and byte range, an optional
 * {@code __metadata__} map of strings, then the raw little-endian data.
 *
 * <p>Reads F32, F16, BF16, F64 (as float) and I64, I32, I8, U8, BOOL (as integers); writes F32,
 * and I64 for integer tensors.
 */
public final class Safetensors {
    /** Duplicate keys are an error: Jackson would otherwise keep the last tensor of a name silently. */
    private static final ObjectMapper JSON = new ObjectMapper().enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private static final String METADATA = "__metadata__";
    /** Headers above this are refused as corrupt rather than read into memory. */
    private static final long MAX_HEADER = 100L << 20;

    /** What a file holds. */
    public record Contents(Weights weights, Map<String, String> metadata) {
    }

    private Safetensors() {
    }

    public static Weights read(Path file) {
        return readWithMetadata(file).weights();
    }

    /** Reads a safetensors image held in memory; {@code name} says where it came from in errors. */
    public static Weights read(byte[] bytes, String name) {
        try {
            return read(new Source(name, bytes.length, (buf, pos) -> {
                int n = Math.min(buf.remaining(), (int) (bytes.length - pos));
                if (n <= 0) {
                    return -1;
                }
                buf.put(bytes, (int) pos, n);
                return n;
            })).weights();
        } catch (IOException e) {
            throw new ZooException("cannot read " + name + ": " + e.getMessage(), e);
        }
    }

    /** Reads every tensor and the metadata; a malformed file is a {@link ZooException} naming the file and the fault. */
    public static Contents readWithMetadata(Path file) {
        if (java.nio.file.Files.isDirectory(file)) {
            throw new ZooException("weights file " + file + " is a folder, not a safetensors file");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return read(new Source(file.toString(), ch.size(), ch::read));
        } catch (NoSuchFileException e) {
            throw new ZooException("weights file " + file + " does not exist");
        } catch (IOException e) {
            throw dev.cnnzoo.io.FileProblems.of(e, "read weights file", file);
        }
    }

    /** Positional reads from a file or a byte array. */
    private record Source(String name, long size, Reader reader) {
        interface Reader {
            int read(ByteBuffer dst, long position) throws IOException;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private static Contents read(Source ch) throws IOException {
        String file = ch.name();
        long size = ch.size();
        if (size < 8) {
            throw corrupt(file, "it is " + size + " bytes long, shorter than the 8-byte header length");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0);
        long headerLen = lenBuf.flip().getLong();
        if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > size) {
            throw corrupt(file, "its header length " + headerLen + " does not fit a file of " + size + " bytes");
        }
        ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
        readFully(ch, headerBuf, 8);
        JsonNode header;
        try {
            header = JSON.readTree(new String(headerBuf.array(), StandardCharsets.UTF_8));
        } catch (com.fasterxml.jackson.core.JsonParseException e) {
            if (e.getOriginalMessage().startsWith("Duplicate field")) {
                throw corrupt(file, "its header names a tensor twice (" + e.getOriginalMessage().substring("Duplicate field ".length())
                        + "); which copy is meant cannot be told");
            }
            throw corrupt(file, "its header is not JSON (" + e.getOriginalMessage() + ")");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw corrupt(file, "its header is not JSON (" + e.getOriginalMessage() + ")");
        }
        if (header == null || !header.isObject()) {
            throw corrupt(file, "its header is not a JSON object");
        }
        long dataStart = 8 + headerLen;
        long dataSize = size - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals(METADATA)) {
                e.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            tensors.put(e.getKey(), readTensor(file, ch, e.getKey(), e.getValue(), dataStart, dataSize));
        }
        return new Contents(Weights.of(tensors), metadata);
    }

    private static Tensor readTensor(String file, Source ch, String name, JsonNode info, long dataStart, long dataSize)
            throws IOException {
        JsonNode dtypeNode = info.get("dtype");
        JsonNode shapeNode = info.get("shape");
        JsonNode offsets = info.get("data_offsets");
        if (dtypeNode == null || shapeNode == null || offsets == null || !shapeNode.isArray() || offsets.size() != 2) {
            throw corrupt(file, "tensor '" + name + "' lacks dtype, shape or data_offsets");
        }
        long[] dims = new long[shapeNode.size()];
        long n = 1;
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
                throw corrupt(file, "tensor '" + name + "' has a dimension that is not a non-negative whole number: " + shapeNode);
            }
            dims[i] = d.asLong();
            try {
                n = Math.multiplyExact(n, dims[i]);
            } catch (ArithmeticException e) {
                throw corrupt(file, "tensor '" + name + "' has shape " + shapeNode + ", whose element count overflows a 64-bit integer");
            }
        }
        if (n > Integer.MAX_VALUE || java.util.Arrays.stream(dims).anyMatch(d -> d > Integer.MAX_VALUE)) {
            throw new ZooException("tensor '" + name + "' in " + file + " has shape " + shapeNode + ": " + n
                    + " elements, more than a Java array holds (2^31 - 1)");
        }
        Shape shape = Shape.of(dims);
        long begin = offsets.get(0).asLong();
        long end = offsets.get(1).asLong();
        String dtype = dtypeNode.asText();
        int width = switch (dtype) {
            case "F64", "I64" -> 8;
            case "F32", "I32" -> 4;
            case "F16", "BF16" -> 2;
            case "I8", "U8", "BOOL" -> 1;
            default -> throw corrupt(file, "tensor '" + name + "' has dtype " + dtype + ", which the zoo does not read");
        };
        if (begin < 0 || end < begin || end > dataSize || end - begin != n * width) {
            throw corrupt(file, "tensor '" + name + "' (" + dtype + " " + shape + ") claims bytes [" + begin + ", " + end
                    + ") of a " + dataSize + "-byte data section");
        }
        ByteBuffer raw = ByteBuffer.allocate((int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, raw, dataStart + begin);
        raw.flip();
        int count = (int) n;
        switch (dtype) {
            case "F32" -> {
                float[] a = new float[count];
                raw.asFloatBuffer().get(a);
                return Tensor.of(shape, a);
            }
            case "F64" -> {
                float[] a = new float[count];
                for (int i = 0; i < count; i++) {
                    a[i] = (float) raw.getDouble();
                }
                return Tensor.of(shape, a);
            }
            case "F16" -> {
                float[] a = new float[count];
                for (int i = 0; i < count; i++) {
                    a[i] = halfToFloat(raw.getShort());
                }
                return Tensor.of(shape, a);
            }
            case "BF16" -> {
                float[] a = new float[count];
                for (int i = 0; i < count; i++) {
                    a[i] = Float.intBitsToFloat((raw.getShort() & 0xffff) << 16);
                }
                return Tensor.of(shape, a);
            }
            default -> {
                long[] a = new long[count];
                for (int i = 0; i < count; i++) {
                    a[i] = switch (width) {
                        case 8 -> raw.getLong();
                        case 4 -> raw.getInt();
                        default -> dtype.equals("I8") ? raw.get() : raw.get() & 0xff;
                    };
                }
                return dtype.equals("BOOL") ? Tensor.ofBools(shape, a) : Tensor.ofLongs(shape, a);
            }
        }
    }

    /** Writes {@code weights} (atomically) with optional string metadata. */
    public static void write(Path file, Weights weights, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject(METADATA);
            new java.util.TreeMap<>(metadata).forEach(meta::put);        // key order: the same weights give the same bytes
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : weights.asMap().entrySet()) {
            Tensor t = e.getValue();
            long bytes = t.elements() * (t.isFloating() ? 4 : 8);
            ObjectNode info = header.putObject(e.getKey());
            info.put("dtype", t.isFloating() ? "F32" : t.dtype() == DType.BOOL ? "BOOL" : "I64");
            var shape = info.putArray("shape");
            for (int d : t.shape().dims()) {
                shape.add(d);
            }
            if (t.dtype() == DType.BOOL) {
                bytes = t.elements();
            }
            info.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] headerBytes = JSON.writeValueAsBytes(header);
        // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
        int padded = (headerBytes.length + 7) / 8 * 8;
        byte[] headerPadded = java.util.Arrays.copyOf(headerBytes, padded);
        java.util.Arrays.fill(headerPadded, headerBytes.length, padded, (byte) ' ');
        AtomicFile.write(file, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(headerPadded);
            for (Tensor t : weights.asMap().values()) {
                writeData(out, t);
            }
        });
    }

    private static void writeData(OutputStream out, Tensor t) throws IOException {
        final int chunk = 1 << 16;
        if (t.isFloating()) {
            float[] a = t.floats();
            ByteBuffer buf = ByteBuffer.allocate(chunk * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < a.length; i += chunk) {
                int n = Math.min(chunk, a.length - i);
                buf.clear();
                buf.asFloatBuffer().put(a, i, n);
                out.write(buf.array(), 0, n * 4);
            }
        } else if (t.dtype() == DType.BOOL) {
            for (long v : t.longs()) {
                out.write(v != 0 ? 1 : 0);
            }
        } else {
            long[] a = t.longs();
            ByteBuffer buf = ByteBuffer.allocate(chunk * 8).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < a.length; i += chunk) {
                int n = Math.min(chunk, a.length - i);
                buf.clear();
                buf.asLongBuffer().put(a, i, n);
                out.write(buf.array(), 0, n * 8);
            }
        }
    }

    /** IEEE 754 binary16 to float (Float.float16ToFloat arrived only in Java 20). */
    static float halfToFloat(short half) {
        int h = half & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    private static void readFully(Source ch, ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.reader().read(buf, pos);
            if (n < 0) {
                throw corrupt(ch.name(), "it ends at byte " + pos + ", before the data its header describes (a truncated file?)");
            }
            pos += n;
        }
    }

    private static ZooException corrupt(String file, String why) {
        return new ZooException(file + " is not a valid safetensors file: " + why);
    }
}
