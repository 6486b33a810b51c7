package dev.cnnzoo.runtime.interchange;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.runtime.interchange.WeightsOnlyUnpickler.StorageRef;
import dev.cnnzoo.runtime.interchange.WeightsOnlyUnpickler.StorageType;
import dev.cnnzoo.runtime.interchange.WeightsOnlyUnpickler.TensorRef;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A PyTorch checkpoint ({@code torch.save}, PyTorch ≥ 1.6): a zip archive holding
 * {@code <name>/data.pkl}, a pickle of the saved object whose tensors refer to storages, and one
 * entry {@code <name>/data/<key>} per storage with its raw elements ({@code <name>/byteorder} says
 * their byte order where PyTorch wrote it, little-endian otherwise).
 *
 * <p>The pickle is read with PyTorch's weights-only allowlist of globals
 * ({@link WeightsOnlyUnpickler}): nothing in the file is ever executed, and a file naming any other
 * global is refused with that global's name. The state dict is the dict of tensors at the top of
 * the file or under {@code state_dict}, {@code model_state_dict}, {@code model}, {@code module} or
 * {@code net} (how training scripts nest it beside the epoch and optimizer state). Every tensor's
 * offset, sizes and strides are checked against its storage before a byte is read; views are
 * copied out into row-major order; float16, bfloat16 and float64 are widened or narrowed to
 * float32; integer tensors (batch norm's {@code num_batches_tracked}) stay integers.
 */
public final class PyTorchCheckpoint {
    /** Where a state dict may sit in a checkpoint that holds more than one. */
    static final List<String> NESTING_KEYS = List.of("state_dict", "model_state_dict", "model", "module", "net");
    /** A state dict's pickle is a few hundred kilobytes; this bounds what a damaged size field can make us allocate. */
    private static final long MAX_PICKLE_BYTES = 256L << 20;
    private static final int CHUNK = 1 << 16;

    /**
     * What was read.
     *
     * @param weights  the state dict's tensors under the file's names, in the file's order
     * @param location where the state dict was: "" at the top, else its key path ({@code model})
     * @param storedAs how many tensors each storage type held ({@code HalfStorage} → 161)
     * @param views    how many tensors were strided views, copied out
     * @param skipped  entries of the state dict that are not tensors
     */
    public record Contents(Weights weights, String location, Map<String, Integer> storedAs, int views, List<String> skipped) {
        /** What a reader of the import should know: where the state dict was, what was converted, what was left out. */
        public List<String> notes() {
            List<String> notes = new ArrayList<>();
            if (!location.isEmpty()) {
                notes.add("state dict found under '" + location + "'");
            }
            storedAs.forEach((type, n) -> {
                if (!type.equals("FloatStorage") && !type.equals("LongStorage")) {
                    notes.add(n + (n == 1 ? " tensor" : " tensors") + " stored as " + type + (type.equals("HalfStorage") || type.equals("BFloat16Storage")
                            || type.equals("DoubleStorage") ? ", converted to float32" : ""));
                }
            });
            if (views > 0) {
                notes.add(views + " strided views copied out in row-major order");
            }
            if (!skipped.isEmpty()) {
                notes.add("not tensors, left out: " + String.join(", ", skipped));
            }
            return notes;
        }
    }

    private PyTorchCheckpoint() {
    }

    /** The state dict of {@code file}; see {@link #readContents} for what else is known about it. */
    public static Weights read(Path file) {
        return readContents(file).weights();
    }

    /**
     * Reads the state dict of a {@code torch.save} file.
     *
     * @throws ZooException naming the problem: a legacy or TorchScript file, a global off the
     *                      allowlist, a damaged archive, a tensor outside its storage, no state dict
     */
    public static Contents readContents(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ZooException("PyTorch checkpoint " + file + " does not exist");
        }
        String name = file.getFileName().toString();
        byte[] head = head(file, 512);
        if (!WeightFileFormat.isZip(head)) {
            if (WeightFileFormat.isLegacyPyTorch(head)) {
                throw new ZooException(name + " is in PyTorch's legacy (pre-1.6) format, which the zoo does not read; re-save it with "
                        + "PyTorch ≥ 1.6 as torch.save(torch.load(\"" + name + "\"), \"" + stem(name) + "-zip.pth\", "
                        + "_use_new_zipfile_serialization=True)");
            }
            throw new ZooException(name + " is not a PyTorch checkpoint (a torch.save file is a zip archive)");
        }
        try (ZipFile zip = new ZipFile(file.toFile())) {
            String prefix = archivePrefix(zip, name);
            byte[] pickle = entry(zip, prefix + "data.pkl", name);
            ByteOrder order = byteOrder(zip, prefix, name);
            Object root;
            try {
                root = new WeightsOnlyUnpickler().read(pickle);
            } catch (WeightsOnlyUnpickler.RefusedGlobal e) {
                throw new ZooException(name + " refers to the Python global '" + e.global + "', which a weights-only load refuses: the zoo "
                        + "accepts only what torch.load(weights_only=True) does (tensors, storages, OrderedDict, torch.Size), and nothing in "
                        + "the file was run. A whole pickled model names its classes this way; save its state_dict() instead");
            } catch (IOException | RuntimeException e) {
                throw new ZooException(name + ": data.pkl is not a pickle of tensors PyTorch wrote: " + e.getMessage(), e);
            }
            StateDict sd = locate(root, "", 0);
            if (sd == null) {
                throw new ZooException(name + " holds no state dict: no tensors at its top level or under " + quoted(NESTING_KEYS)
                        + (root instanceof Map<?, ?> m ? " (its top-level keys: " + keys(m) + ")" : " (it holds a " + typeName(root) + ")"));
            }
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            Map<String, Integer> storedAs = new TreeMap<>();
            int views = 0;
            for (Map.Entry<String, TensorRef> e : sd.tensors().entrySet()) {
                TensorRef t = e.getValue();
                tensors.put(e.getKey(), materialise(zip, prefix, name, e.getKey(), t, order));
                storedAs.merge(t.storage().typeName().substring(t.storage().typeName().lastIndexOf('.') + 1), 1, Integer::sum);
                if (!contiguous(t.size(), t.stride())) {
                    views++;
                }
            }
            return new Contents(Weights.of(tensors), sd.location(), storedAs, views, sd.skipped());
        } catch (ZipException e) {
            throw new ZooException(name + " is not a complete zip archive (truncated or damaged: " + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new ZooException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    // ---- the archive ------------------------------------------------------------------------

    /** The folder holding {@code data.pkl}; PyTorch names it after the file it saved to. */
    private static String archivePrefix(ZipFile zip, String name) {
        List<String> found = new ArrayList<>();
        boolean torchScript = false;
        for (ZipEntry e : Collections.list(zip.entries())) {
            String n = e.getName();
            if (n.endsWith("/data.pkl") && n.indexOf('/') == n.length() - "/data.pkl".length()) {
                found.add(n.substring(0, n.length() - "data.pkl".length()));
            }
            torchScript |= n.endsWith("/constants.pkl") || n.contains("/code/");
        }
        if (zip.getEntry("model.weights.h5") != null) {
            throw new ZooException(name + " is a Keras 3 .keras archive, which the zoo does not read; save the weights with Keras 2 or "
                    + "tf.keras as model.save_weights(\"w.h5\")");
        }
        if (torchScript) {
            throw new ZooException(name + " is a TorchScript archive (torch.jit.save), which the zoo does not read; save the model's "
                    + "state_dict() with torch.save instead");
        }
        if (found.size() != 1) {
            throw new ZooException(name + " is a zip archive but not a PyTorch checkpoint: it holds "
                    + (found.isEmpty() ? "no <name>/data.pkl" : found.size() + " data.pkl files"));
        }
        return found.get(0);
    }

    private static byte[] entry(ZipFile zip, String entryName, String name) throws IOException {
        ZipEntry e = zip.getEntry(entryName);
        if (e == null) {
            throw new ZooException(name + " lacks " + entryName);
        }
        if (e.getSize() > MAX_PICKLE_BYTES) {
            throw new ZooException(name + ": " + entryName + " claims " + e.getSize() + " bytes, more than a state dict's pickle takes");
        }
        try (InputStream in = zip.getInputStream(e)) {
            return in.readNBytes((int) MAX_PICKLE_BYTES);
        }
    }

    private static ByteOrder byteOrder(ZipFile zip, String prefix, String name) throws IOException {
        ZipEntry e = zip.getEntry(prefix + "byteorder");
        if (e == null) {
            return ByteOrder.LITTLE_ENDIAN;     // PyTorch before 2.1 wrote no byteorder and only little-endian data
        }
        String order = new String(entry(zip, prefix + "byteorder", name), StandardCharsets.US_ASCII).trim();
        return switch (order) {
            case "little" -> ByteOrder.LITTLE_ENDIAN;
            case "big" -> ByteOrder.BIG_ENDIAN;
            default -> throw new ZooException(name + ": byteorder says '" + order + "', neither 'little' nor 'big'");
        };
    }

    private static byte[] head(Path file, int n) {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(n);
        } catch (IOException e) {
            throw new ZooException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    // ---- the state dict ---------------------------------------------------------------------

    private record StateDict(String location, Map<String, TensorRef> tensors, List<String> skipped) {
    }

    /** The dict of tensors at {@code o}, or under one of {@link #NESTING_KEYS}, two levels deep at most. */
    private static StateDict locate(Object o, String path, int depth) {
        if (!(o instanceof Map<?, ?> m)) {
            return null;
        }
        Map<String, TensorRef> tensors = new LinkedHashMap<>();
        List<String> skipped = new ArrayList<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (e.getKey() instanceof String k && e.getValue() instanceof TensorRef t) {
                tensors.put(k, t);
            } else {
                skipped.add(String.valueOf(e.getKey()));
            }
        }
        if (!tensors.isEmpty()) {
            return new StateDict(path, tensors, skipped);
        }
        if (depth < 2) {
            for (String key : NESTING_KEYS) {
                StateDict inner = locate(m.get(key), path.isEmpty() ? key : path + "." + key, depth + 1);
                if (inner != null) {
                    return inner;
                }
            }
        }
        return null;
    }

    // ---- tensors ----------------------------------------------------------------------------

    /**
     * The tensor's elements, read from the part of its storage entry the view spans, after checking
     * that the view stays inside the storage and the entry holds what the view needs.
     */
    private static Tensor materialise(ZipFile zip, String prefix, String file, String tensor, TensorRef t, ByteOrder order) throws IOException {
        StorageRef s = t.storage();
        String where = "tensor '" + tensor + "' in " + file;
        if (s.type() == StorageType.OTHER) {
            throw new ZooException(where + " is stored as " + s.typeName() + ", which holds no float or integer weights the zoo reads");
        }
        long[] size = t.size();
        long[] stride = t.stride();
        String view = "(shape " + java.util.Arrays.toString(size) + ", strides " + java.util.Arrays.toString(stride) + ", offset " + t.offset() + ")";
        long elements = 1;
        long last = t.offset();
        try {
            for (int d = 0; d < size.length; d++) {
                if (size[d] < 0 || stride[d] < 0) {
                    throw new ZooException(where + " has a negative size or stride " + view);
                }
                elements = Math.multiplyExact(elements, size[d]);
                if (size[d] > 0) {
                    last = Math.addExact(last, Math.multiplyExact(size[d] - 1, stride[d]));
                }
            }
        } catch (ArithmeticException e) {
            throw new ZooException(where + " has sizes and strides past any storage " + view);
        }
        if (t.offset() < 0) {
            throw new ZooException(where + " starts at a negative storage offset " + view);
        }
        if (elements > Integer.MAX_VALUE) {
            throw new ZooException(where + " has " + elements + " elements, more than a Java array holds");
        }
        if (elements > 0 && last >= s.elements()) {
            throw new ZooException(where + " " + view + " reaches element " + (last + 1) + " of its storage data/" + s.key() + ", which holds "
                    + s.elements());
        }
        ZipEntry e = zip.getEntry(prefix + "data/" + s.key());
        if (e == null) {
            throw new ZooException(where + " lives in storage data/" + s.key() + ", which the archive lacks");
        }
        long span = elements == 0 ? 0 : last - t.offset() + 1;
        long needed = (t.offset() + span) * s.type().bytes;
        if (e.getSize() >= 0 && e.getSize() < needed) {
            throw new ZooException(where + " " + view + " needs " + needed + " bytes of storage data/" + s.key() + ", which holds only "
                    + e.getSize());
        }
        Shape shape = Shape.of(size);
        Window w = readWindow(zip, e, t.offset() * s.type().bytes, (int) span, s.type(), order, where, s.key());
        boolean dense = span == elements;            // row-major and gap-free: the window is the tensor
        if (s.type().floating) {
            float[] data = dense && contiguous(size, stride) ? w.floats : gatherFloats(w.floats, size, stride, (int) elements);
            return Tensor.of(shape, data);
        }
        long[] data = dense && contiguous(size, stride) ? w.longs : gatherLongs(w.longs, size, stride, (int) elements);
        return s.type() == StorageType.BOOL ? Tensor.ofBools(shape, data) : Tensor.ofLongs(shape, data);
    }

    private record Window(float[] floats, long[] longs) {
    }

    /** {@code count} elements from byte {@code skip} of a storage entry, decoded chunk by chunk. */
    private static Window readWindow(ZipFile zip, ZipEntry e, long skip, int count, StorageType type, ByteOrder order, String where, String key)
            throws IOException {
        float[] floats = type.floating ? new float[count] : null;
        long[] longs = type.floating ? null : new long[count];
        int width = type.bytes;
        byte[] chunk = new byte[CHUNK / width * width];
        try (InputStream in = zip.getInputStream(e)) {
            in.skipNBytes(skip);
            int done = 0;
            while (done < count) {
                int n = Math.min(chunk.length / width, count - done);
                int got = in.readNBytes(chunk, 0, n * width);
                if (got < n * width) {
                    throw new ZooException(where + ": storage data/" + key + " ends after " + (skip + (long) done * width + got) + " bytes, short of "
                            + "what the tensor needs");
                }
                ByteBuffer b = ByteBuffer.wrap(chunk, 0, n * width).order(order);
                for (int i = 0; i < n; i++) {
                    switch (type) {
                        case FLOAT -> floats[done + i] = b.getFloat();
                        case HALF -> floats[done + i] = dev.cnnzoo.onnx.OnnxFiles.halfToFloat(b.getShort());
                        case BFLOAT16 -> floats[done + i] = Float.intBitsToFloat((b.getShort() & 0xffff) << 16);
                        case DOUBLE -> floats[done + i] = (float) b.getDouble();
                        case LONG -> longs[done + i] = b.getLong();
                        case INT -> longs[done + i] = b.getInt();
                        case SHORT -> longs[done + i] = b.getShort();
                        case CHAR -> longs[done + i] = b.get();
                        case BYTE -> longs[done + i] = b.get() & 0xff;
                        case BOOL -> longs[done + i] = b.get() != 0 ? 1 : 0;
                        default -> throw new IllegalStateException(type.toString());
                    }
                }
                done += n;
            }
        } catch (java.io.EOFException ex) {
            throw new ZooException(where + ": storage data/" + key + " ends before the tensor's first element", ex);
        }
        return new Window(floats, longs);
    }

    /** Row-major strides, ignoring the stride of any axis of size 1 (PyTorch leaves those arbitrary). */
    static boolean contiguous(long[] size, long[] stride) {
        long expected = 1;
        for (int d = size.length - 1; d >= 0; d--) {
            if (size[d] != 1 && stride[d] != expected) {
                return false;
            }
            expected *= size[d];
        }
        return true;
    }

    /** Element {@code i} (row-major over {@code size}) of the view is {@code window[Σ index_d · stride_d]}. */
    private static float[] gatherFloats(float[] window, long[] size, long[] stride, int n) {
        float[] out = new float[n];
        int[] index = new int[size.length];
        long position = 0;
        for (int i = 0; i < n; i++) {
            out[i] = window[(int) position];
            position = advance(index, size, stride, position);
        }
        return out;
    }

    private static long[] gatherLongs(long[] window, long[] size, long[] stride, int n) {
        long[] out = new long[n];
        int[] index = new int[size.length];
        long position = 0;
        for (int i = 0; i < n; i++) {
            out[i] = window[(int) position];
            position = advance(index, size, stride, position);
        }
        return out;
    }

    /** Steps a row-major multi-index like an odometer, keeping its storage position in step. */
    private static long advance(int[] index, long[] size, long[] stride, long position) {
        for (int d = index.length - 1; d >= 0; d--) {
            if (++index[d] < size[d]) {
                return position + stride[d];
            }
            position -= (size[d] - 1) * stride[d];
            index[d] = 0;
        }
        return position;
    }

    // ---- messages ---------------------------------------------------------------------------

    private static String stem(String name) {
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    private static String quoted(List<String> keys) {
        return String.join(", ", keys.stream().map(k -> "'" + k + "'").toList());
    }

    private static String keys(Map<?, ?> m) {
        List<String> k = m.keySet().stream().map(String::valueOf).toList();
        return k.isEmpty() ? "none" : String.join(", ", k.subList(0, Math.min(12, k.size()))) + (k.size() > 12 ? ", …" : "");
    }

    private static String typeName(Object o) {
        return o == null ? "None" : o instanceof Object[] ? "tuple" : o instanceof List<?> ? "list" : o.getClass().getSimpleName();
    }
}
