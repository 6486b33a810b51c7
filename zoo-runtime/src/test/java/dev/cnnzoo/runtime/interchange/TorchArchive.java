package dev.cnnzoo.runtime.interchange;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes {@code torch.save}-shaped archives opcode by opcode (pickle protocol 2, as
 * {@code torch.save} writes), so the reader's checks run without Python: a pickle can name any
 * global and any strides here, which PyTorch itself would not write.
 */
final class TorchArchive {
    private final ByteArrayOutputStream pickle = new ByteArrayOutputStream();
    private final Map<String, byte[]> storages = new LinkedHashMap<>();
    private String byteOrder;

    TorchArchive() {
        op(0x80).op(2);
    }

    TorchArchive op(int code) {
        pickle.write(code);
        return this;
    }

    /** GLOBAL (or, with {@code 'i'}, INST): an opcode followed by a module and a name, each ending in a newline. */
    TorchArchive named(int opcode, String module, String name) {
        op(opcode);
        pickle.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
        return this;
    }

    TorchArchive global(String module, String name) {
        return named('c', module, name);
    }

    TorchArchive string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X');
        pickle.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
        pickle.writeBytes(b);
        return this;
    }

    TorchArchive integer(long v) {
        op('J');
        pickle.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(Math.toIntExact(v)).array());
        return this;
    }

    TorchArchive tuple(long... values) {
        op('(');
        for (long v : values) {
            integer(v);
        }
        return op('t');
    }

    /** Starts a state dict: {@code OrderedDict()}, then a mark for its items. */
    TorchArchive beginDict() {
        return global("collections", "OrderedDict").op(')').op('R').op('(');
    }

    TorchArchive endDict() {
        return op('u');
    }

    /** {@code key: _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())}. */
    TorchArchive tensor(String key, String storageClass, String storageKey, long storageElements, long offset, long[] size, long[] stride) {
        string(key);
        global("torch._utils", "_rebuild_tensor_v2").op('(');
        op('(').string("storage").global("torch", storageClass).string(storageKey).string("cpu").integer(storageElements).op('t').op('Q');
        integer(offset).tuple(size).tuple(stride).op(0x89);
        global("collections", "OrderedDict").op(')').op('R');
        return op('t').op('R');
    }

    TorchArchive storage(String key, byte[] data) {
        storages.put(key, data);
        return this;
    }

    TorchArchive byteOrder(String order) {
        byteOrder = order;
        return this;
    }

    byte[] pickle() {
        return pickle.toByteArray();
    }

    /** Ends the pickle and writes the archive as {@code torch.save} lays it out ({@code archive/data.pkl}, {@code archive/data/K}). */
    Path write(Path file) throws IOException {
        op('.');
        try (OutputStream o = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(o)) {
            entry(zip, "archive/data.pkl", pickle.toByteArray());
            for (Map.Entry<String, byte[]> e : storages.entrySet()) {
                entry(zip, "archive/data/" + e.getKey(), e.getValue());
            }
            if (byteOrder != null) {
                entry(zip, "archive/byteorder", byteOrder.getBytes(StandardCharsets.US_ASCII));
            }
            entry(zip, "archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        }
        return file;
    }

    private static void entry(ZipOutputStream zip, String name, byte[] data) throws IOException {
        zip.putNextEntry(new ZipEntry(name));
        zip.write(data);
        zip.closeEntry();
    }

    static byte[] floats(ByteOrder order, float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(order);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    static byte[] shorts(int... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int s : v) {
            b.putShort((short) s);
        }
        return b.array();
    }

    static byte[] doubles(double... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (double d : v) {
            b.putDouble(d);
        }
        return b.array();
    }

    static byte[] longs(long... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long l : v) {
            b.putLong(l);
        }
        return b.array();
    }
}
