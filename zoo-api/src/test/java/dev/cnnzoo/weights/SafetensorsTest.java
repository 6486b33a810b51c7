package dev.cnnzoo.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path dir;

    private static Graph smallNet() {
        Net net = new Net("small");
        var x = net.input(3, 8, 8);
        x = net.batchNorm("bn", net.conv("conv", x, Conv.of(4, 3).noBias()));
        net.output("out", net.dense("fc", net.flatten(x), 2));
        return net.build();
    }

    @Test
    void roundTripIsBitIdentical() throws IOException {
        Weights w = Weights.initial(smallNet(), 7);
        Map<String, Tensor> all = new LinkedHashMap<>(w.asMap());
        all.put("counter", Tensor.int64s(3, -1, 1L << 40));
        Weights original = Weights.of(all);
        Path file = dir.resolve("w.safetensors");
        Safetensors.write(file, original, Map.of("format", "pt", "zoo.id", "small"));
        Safetensors.Contents back = Safetensors.readWithMetadata(file);
        assertTrue(back.weights().bitEquals(original));
        assertEquals("small", back.metadata().get("zoo.id"));
        // The data section starts 8-byte aligned, as the reference implementation writes it.
        long headerLength = ByteBuffer.wrap(Files.readAllBytes(file), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLength % 8);
        assertFalse(Files.list(dir).anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary file left");
    }

    @Test
    void readsHalfPrecision() throws IOException {
        // 1.0, -2.0, 0.5, 65504 (largest half), 2^-24 (smallest subnormal) as IEEE binary16.
        short[] halves = {0x3c00, (short) 0xc000, 0x3800, 0x7bff, 0x0001};
        String header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[5],\"data_offsets\":[0,10]}}";
        ByteBuffer b = ByteBuffer.allocate(8 + header.length() + 10).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length()).put(header.getBytes(StandardCharsets.UTF_8));
        for (short h : halves) {
            b.putShort(h);
        }
        Path file = dir.resolve("half.safetensors");
        Files.write(file, b.array());
        assertArrayEquals(new float[] {1f, -2f, 0.5f, 65504f, 0x1p-24f}, Safetensors.read(file).get("h").floats());
    }

    @Test
    void corruptFilesAreNamed() throws IOException {
        Path tiny = dir.resolve("tiny.safetensors");
        Files.write(tiny, new byte[] {1, 2, 3});
        assertTrue(assertThrows(ZooException.class, () -> Safetensors.read(tiny)).getMessage()
                .contains("tiny.safetensors is not a valid safetensors file"));

        Path huge = dir.resolve("huge.safetensors");
        Files.write(huge, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
        assertTrue(assertThrows(ZooException.class, () -> Safetensors.read(huge)).getMessage().contains("header length"));

        Path truncated = dir.resolve("truncated.safetensors");
        Safetensors.write(truncated, Weights.initial(smallNet(), 1), Map.of());
        byte[] bytes = Files.readAllBytes(truncated);
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length - 5));
        String msg = assertThrows(ZooException.class, () -> Safetensors.read(truncated)).getMessage();
        assertTrue(msg.contains("claims bytes"), msg);

        assertTrue(assertThrows(ZooException.class, () -> Safetensors.read(dir.resolve("absent.safetensors"))).getMessage()
                .contains("does not exist"));
    }

    /** A safetensors file with this JSON header and {@code data} bytes after it. */
    private Path raw(String name, String header, int data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path file = dir.resolve(name);
        Files.write(file, b.array());
        return file;
    }

    @Test
    void aTensorNameThatAppearsTwiceIsRefusedNotSilentlyTheLastCopy() throws IOException {
        Path file = raw("twice.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8);
        String msg = assertThrows(ZooException.class, () -> Safetensors.read(file)).getMessage();
        assertEquals(file + " is not a valid safetensors file: its header names a tensor twice ('w'); which copy is meant cannot be told", msg);
    }

    @Test
    void shapesWhoseElementCountOverflowsAreRefused() throws IOException {
        Path overflow = raw("overflow.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
                + "\"data_offsets\":[0,4]}}", 4);
        String msg = assertThrows(ZooException.class, () -> Safetensors.read(overflow)).getMessage();
        assertTrue(msg.contains("tensor 'w' has shape [4294967296,4294967296,4294967296], whose element count overflows"), msg);

        Path tooBig = raw("big.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[65536,65536],\"data_offsets\":[0,4]}}", 4);
        msg = assertThrows(ZooException.class, () -> Safetensors.read(tooBig)).getMessage();
        assertTrue(msg.contains("4294967296 elements, more than a Java array holds"), msg);

        Path negative = raw("negative.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1,4],\"data_offsets\":[0,4]}}", 4);
        msg = assertThrows(ZooException.class, () -> Safetensors.read(negative)).getMessage();
        assertTrue(msg.contains("not a non-negative whole number"), msg);
    }

    @Test
    void floatTypesAreWidenedToFloat32() throws IOException {
        // bfloat16 1.5 (0x3fc0), float64 -0.25: both read as float32.
        String header = "{\"b\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[0,2]},"
                + "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[2,10]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + 10).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).putShort((short) 0x3fc0).putDouble(-0.25);
        Path file = dir.resolve("widened.safetensors");
        Files.write(file, b.array());
        Weights w = Safetensors.read(file);
        assertEquals(dev.cnnzoo.graph.DType.FLOAT, w.get("b").dtype());
        assertArrayEquals(new float[] {1.5f}, w.get("b").floats());
        assertArrayEquals(new float[] {-0.25f}, w.get("d").floats());
    }

    @Test
    void aFolderOrATruncatedFileIsNamedAsSuch() throws IOException {
        String msg = assertThrows(ZooException.class, () -> Safetensors.read(dir)).getMessage();
        assertEquals("weights file " + dir + " is a folder, not a safetensors file", msg);
        Path cut = raw("cut.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
        byte[] bytes = Files.readAllBytes(cut);
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 3));
        msg = assertThrows(ZooException.class, () -> Safetensors.read(cut)).getMessage();
        assertTrue(msg.startsWith(cut + " is not a valid safetensors file"), msg);
    }

    @Test
    void bindNamesMissingAndMismatchedTensors() {
        Graph g = smallNet();
        Weights w = Weights.initial(g, 1);
        Map<String, Tensor> lacking = new LinkedHashMap<>(w.asMap());
        lacking.remove("bn.running_var");
        String msg = assertThrows(ZooException.class, () -> Weights.of(lacking).bind(g)).getMessage();
        assertTrue(msg.contains("bn.running_var (4)"), msg);

        Weights wrong = w.with("fc.weight", Tensor.zeros(Shape.of(3, 144)));
        msg = assertThrows(ZooException.class, () -> wrong.bind(g)).getMessage();
        assertEquals("tensor 'fc.weight' has shape 3×144 in the weights but 2×144 in small", msg);

        assertEquals(java.util.List.of("extra"), w.with("extra", Tensor.scalar(1)).unused(g));
    }

    @Test
    void initialWeightsAreDeterministicPerSeedAndName() {
        Graph g = smallNet();
        assertTrue(Weights.initial(g, 3).bitEquals(Weights.initial(g, 3)));
        assertFalse(Weights.initial(g, 3).bitEquals(Weights.initial(g, 4)));
        assertArrayEquals(new float[] {1, 1, 1, 1}, Weights.initial(g, 3).get("bn.weight").floats());
    }
}
