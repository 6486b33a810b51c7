package dev.cnnzoo.runtime.interchange;

import dev.cnnzoo.api.ZooException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The kinds of weights file {@link WeightImport} reads, told apart by their first bytes; the name
 * counts only when the bytes match no format, to choose which reader explains what is wrong.
 */
public enum WeightFileFormat {
    /** The zoo's own format (and timm's, Hugging Face's): an 8-byte header length, then a JSON header. */
    SAFETENSORS,
    /** {@code torch.save}: a zip archive (PyTorch ≥ 1.6), or a bare pickle or tar archive (the legacy formats). */
    PYTORCH,
    /** Keras's HDF5 weights ({@code save_weights} or a whole saved model). */
    KERAS,
    /** An ONNX model's initializers. */
    ONNX,
    /** Bytes of none of the above. */
    UNKNOWN;

    private static final byte[] HDF5 = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

    public static WeightFileFormat of(Path file) {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(1032);
        } catch (IOException e) {
            throw new ZooException("cannot read " + file + ": " + e.getMessage(), e);
        }
        // HDF5's signature sits at byte 0, or after a user block of 512, 1024, ... bytes.
        for (int at = 0; at + HDF5.length <= head.length; at = at == 0 ? 512 : at * 2) {
            if (Arrays.equals(head, at, at + HDF5.length, HDF5, 0, HDF5.length)) {
                return KERAS;
            }
        }
        if (isZip(head) || isLegacyPyTorch(head)) {
            return PYTORCH;
        }
        if (head.length >= 9 && head[8] == '{') {
            return SAFETENSORS;
        }
        // Content says nothing: the name picks the reader whose error will make sense.
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        if (name.endsWith(".pth") || name.endsWith(".pt")) {
            return PYTORCH;
        }
        if (name.endsWith(".h5") || name.endsWith(".hdf5")) {
            return KERAS;
        }
        // An ONNX ModelProto starts with field 1 (ir_version) as a varint: tag byte 0x08.
        return name.endsWith(".onnx") || (head.length > 0 && head[0] == 0x08) ? ONNX : UNKNOWN;
    }

    /** A zip archive's local file header. */
    static boolean isZip(byte[] head) {
        return head.length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
    }

    /**
     * PyTorch's formats before the zip archive: a bare pickle stream (protocol 2 to 5; the file
     * starts with its magic number), or, before 0.4, a tar archive.
     */
    static boolean isLegacyPyTorch(byte[] head) {
        boolean pickle = head.length >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 2 && head[1] <= 5;
        boolean tar = head.length >= 262 && new String(head, 257, 5, StandardCharsets.US_ASCII).equals("ustar");
        return pickle || tar;
    }
}
