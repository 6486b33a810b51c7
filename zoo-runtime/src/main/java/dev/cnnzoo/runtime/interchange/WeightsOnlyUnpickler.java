package dev.cnnzoo.runtime.interchange;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import net.razorvine.pickle.IObjectConstructor;
import net.razorvine.pickle.Opcodes;
import net.razorvine.pickle.PickleException;
import net.razorvine.pickle.PickleUtils;
import net.razorvine.pickle.Unpickler;

/**
 * Reads the {@code data.pkl} of a PyTorch checkpoint the way {@code torch.load(weights_only=True)}
 * does: a pickle may name only the Python globals PyTorch's weights-only unpickler accepts
 * (PyTorch 1.13, {@code torch/_weights_only_unpickler.py}: {@code collections.OrderedDict}, the
 * {@code torch._utils._rebuild_*} functions, {@code torch.nn.parameter.Parameter}, the storage and
 * tensor classes, the dtypes, {@code torch.Size}, {@code torch.Tensor},
 * {@code torch.serialization._get_layout}), plus two that later PyTorch releases accept and that only
 * carry data: {@code torch._utils._rebuild_parameter_with_state} and {@code torch.device}. Any other
 * global is refused with its name before anything is built: a pickle can name {@code os.system} or
 * {@code builtins.eval} and Python's unpickler would call it. Nothing here ever executes a global;
 * each allowed one is a Java function that builds plain data: {@link StorageRef} and
 * {@link TensorRef} for tensors, {@link LinkedHashMap} for dicts (in the file's order), {@code
 * Object[]} for tuples, {@link List} for lists.
 */
final class WeightsOnlyUnpickler extends Unpickler {
    /** The element types of PyTorch's typed storages: name, bytes per element, whether floating. */
    enum StorageType {
        FLOAT("FloatStorage", 4, true), HALF("HalfStorage", 2, true), BFLOAT16("BFloat16Storage", 2, true), DOUBLE("DoubleStorage", 8, true),
        LONG("LongStorage", 8, false), INT("IntStorage", 4, false), SHORT("ShortStorage", 2, false), CHAR("CharStorage", 1, false),
        BYTE("ByteStorage", 1, false), BOOL("BoolStorage", 1, false),
        /** Complex, quantized and untyped storages: allowed by PyTorch, but no float32 weight comes from them. */
        OTHER("", 1, false);

        final String storageName;
        final int bytes;
        final boolean floating;

        StorageType(String storageName, int bytes, boolean floating) {
            this.storageName = storageName;
            this.bytes = bytes;
            this.floating = floating;
        }
    }

    /** A storage named by a persistent id: the zip entry {@code data/<key>}, its element type and count. */
    record StorageRef(String key, StorageType type, String typeName, long elements) {
    }

    /** A tensor built by {@code _rebuild_tensor[_v2]}: a strided view of a storage, in elements. */
    record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {
    }

    /** An allowed global: its qualified name and what calling it builds. */
    private record Global(String name, Function<Object[], Object> call) implements IObjectConstructor {
        @Override
        public Object construct(Object[] args) {
            return call.apply(args);
        }
    }

    /** A storage class, which a persistent id names and nothing calls. */
    private record StorageClass(String name, StorageType type) implements IObjectConstructor {
        @Override
        public Object construct(Object[] args) {
            throw new PickleException("the pickle calls the storage class " + name + ", which a checkpoint never does");
        }
    }

    private static final Map<String, IObjectConstructor> ALLOWED = allowed();

    /** The names this reader accepts, for the documentation and tests. */
    static Set<String> allowedGlobals() {
        return ALLOWED.keySet();
    }

    /** Unpickles {@code pickle}, refusing any global off the allowlist. */
    Object read(byte[] pickle) throws IOException {
        return load(new ByteArrayInputStream(pickle));
    }

    private static Map<String, IObjectConstructor> allowed() {
        Map<String, IObjectConstructor> m = new LinkedHashMap<>();
        m.put("collections.OrderedDict", new Global("collections.OrderedDict", WeightsOnlyUnpickler::orderedDict));
        for (String f : List.of("_rebuild_tensor", "_rebuild_tensor_v2")) {
            m.put("torch._utils." + f, new Global(f, WeightsOnlyUnpickler::rebuildTensor));
        }
        // A parameter is its tensor here: requires_grad, hooks and any state are training-time attributes.
        for (String f : List.of("torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state", "torch.nn.parameter.Parameter")) {
            m.put(f, new Global(f, args -> {
                if (args.length == 0 || !(args[0] instanceof TensorRef)) {
                    throw new PickleException(f + " was given no tensor");
                }
                return args[0];
            }));
        }
        m.put("torch.Size", new Global("torch.Size", args -> args.length == 0 ? new Object[0] : args[0]));
        m.put("torch.device", new Global("torch.device", args -> args.length == 0 ? "" : String.valueOf(args[0])));
        for (String f : List.of("_rebuild_sparse_tensor", "_rebuild_sparse_csr_tensor", "_rebuild_meta_tensor_no_storage")) {
            m.put("torch._utils." + f, unsupported("torch._utils." + f, "sparse and meta tensors hold no dense weights"));
        }
        m.put("torch.serialization._get_layout", unsupported("torch.serialization._get_layout", "only sparse tensors use it"));
        m.put("torch.Tensor", unsupported("torch.Tensor", "the legacy tensor form; re-save with PyTorch ≥ 1.6"));
        for (String dtype : List.of("complex32", "complex64", "complex128", "float16", "float32", "float64", "int8", "int16", "int32", "int64",
                "bfloat16", "uint8", "bool")) {
            m.put("torch." + dtype, unsupported("torch." + dtype, "a dtype is data, not a function"));
        }
        List<String> storages = new ArrayList<>();
        for (StorageType t : StorageType.values()) {
            if (t != StorageType.OTHER) {
                storages.add(t.storageName);
            }
        }
        storages.addAll(List.of("ComplexFloatStorage", "ComplexDoubleStorage", "QUInt8Storage", "QInt8Storage", "QInt32Storage",
                "QUInt4x2Storage", "QUInt2x4Storage"));
        for (String s : storages) {
            StorageType type = typeOf(s);
            for (String module : List.of("torch.", "torch.cuda.")) {
                m.put(module + s, new StorageClass(module + s, type));
            }
            String tensor = s.replace("Storage", "Tensor");
            if (!s.startsWith("Q") && !s.startsWith("Complex")) {
                for (String module : List.of("torch.", "torch.cuda.", "torch.sparse.", "torch.cuda.sparse.")) {
                    m.put(module + tensor, unsupported(module + tensor, "the legacy tensor form; re-save with PyTorch ≥ 1.6"));
                }
            }
        }
        for (String s : List.of("torch.storage.TypedStorage", "torch.storage.UntypedStorage", "torch.UntypedStorage")) {
            m.put(s, new StorageClass(s, StorageType.OTHER));
        }
        return Map.copyOf(m);
    }

    private static StorageType typeOf(String storageName) {
        for (StorageType t : StorageType.values()) {
            if (t.storageName.equals(storageName)) {
                return t;
            }
        }
        return StorageType.OTHER;
    }

    private static IObjectConstructor unsupported(String name, String why) {
        return new Global(name, args -> {
            throw new PickleException("the pickle calls " + name + ", which the zoo does not read (" + why + ")");
        });
    }

    private static Object orderedDict(Object[] args) {
        Map<Object, Object> m = new LinkedHashMap<>();
        if (args.length > 0 && args[0] instanceof List<?> pairs) {
            for (Object p : pairs) {
                if (p instanceof Object[] kv && kv.length == 2) {
                    m.put(kv[0], kv[1]);
                }
            }
        }
        return m;
    }

    /** {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])}. */
    private static Object rebuildTensor(Object[] args) {
        if (args.length < 4 || !(args[0] instanceof StorageRef storage)) {
            throw new PickleException("_rebuild_tensor was not given a storage, an offset, a size and a stride");
        }
        long[] size = longs(args[2], "size");
        long[] stride = longs(args[3], "stride");
        if (size.length != stride.length) {
            throw new PickleException("a tensor has " + size.length + " sizes but " + stride.length + " strides");
        }
        return new TensorRef(storage, number(args[1], "storage offset"), size, stride);
    }

    private static long[] longs(Object tuple, String what) {
        Object[] items = tuple instanceof Object[] a ? a : tuple instanceof List<?> l ? l.toArray() : null;
        if (items == null) {
            throw new PickleException("a tensor's " + what + " is not a tuple");
        }
        long[] out = new long[items.length];
        for (int i = 0; i < items.length; i++) {
            out[i] = number(items[i], what);
        }
        return out;
    }

    private static long number(Object o, String what) {
        if (o instanceof Integer || o instanceof Long || o instanceof Short || o instanceof Byte) {
            return ((Number) o).longValue();
        }
        throw new PickleException("a tensor's " + what + " is " + (o instanceof java.math.BigInteger ? "too large" : "not an integer"));
    }

    // ---- the opcodes that name globals or reach into objects ----------------------------------

    @Override
    protected Object dispatch(short key) throws IOException {
        switch (key) {
            case Opcodes.GLOBAL -> {
                String module = PickleUtils.readline(input);
                String name = PickleUtils.readline(input);
                stack.add(global(module, name));
            }
            case Opcodes.STACK_GLOBAL -> {
                Object name = stack.pop();
                Object module = stack.pop();
                stack.add(global(String.valueOf(module), String.valueOf(name)));
            }
            case Opcodes.INST -> {
                String module = PickleUtils.readline(input);
                String name = PickleUtils.readline(input);
                IObjectConstructor g = global(module, name);
                stack.add(g.construct(stack.pop_all_since_marker().toArray()));
            }
            case Opcodes.EXT1, Opcodes.EXT2, Opcodes.EXT4 -> throw new RefusedGlobal("an entry of Python's extension registry (copyreg)");
            case Opcodes.BUILD -> {
                Object state = stack.pop();
                Object target = stack.peek();
                // PyTorch builds only tensors, parameters and OrderedDicts; a state dict's attributes
                // (its _metadata: module versions) matter to nothing the zoo reads.
                if (!(target instanceof Map<?, ?>)) {
                    throw new PickleException("the pickle sets the state of a " + describe(target) + " (with " + describe(state)
                            + "); PyTorch's weights-only reader sets it only on dicts");
                }
            }
            case Opcodes.EMPTY_DICT -> stack.add(new LinkedHashMap<>());
            case Opcodes.DICT -> {
                Map<Object, Object> m = new LinkedHashMap<>();
                putPairs(m, stack.pop_all_since_marker());
                stack.add(m);
            }
            case Opcodes.SETITEMS -> {
                List<Object> items = stack.pop_all_since_marker();
                putPairs(dictOnTop(), items);
            }
            case Opcodes.SETITEM -> {
                Object value = stack.pop();
                Object k = stack.pop();
                dictOnTop().put(k, value);
            }
            case Opcodes.BINUNICODE, Opcodes.BINBYTES, Opcodes.BINSTRING, Opcodes.LONG4 -> {
                checkLength(4);
                return super.dispatch(key);
            }
            case Opcodes.BINUNICODE8, Opcodes.BINBYTES8, Opcodes.BYTEARRAY8 -> {
                checkLength(8);
                return super.dispatch(key);
            }
            default -> {
                return super.dispatch(key);
            }
        }
        return NO_RETURN_VALUE;
    }

    private IObjectConstructor global(String module, String name) {
        IObjectConstructor g = ALLOWED.get(module + "." + name);
        if (g == null) {
            throw new RefusedGlobal(module + "." + name);
        }
        return g;
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dictOnTop() {
        if (!(stack.peek() instanceof Map<?, ?> m)) {
            throw new PickleException("the pickle sets an item of a " + describe(stack.peek()) + ", not of a dict");
        }
        return (Map<Object, Object>) m;
    }

    private static void putPairs(Map<Object, Object> m, List<Object> items) {
        if (items.size() % 2 != 0) {
            throw new PickleException("a dict was given an odd number of keys and values");
        }
        for (int i = 0; i < items.size(); i += 2) {
            m.put(items.get(i), items.get(i + 1));
        }
    }

    /** A counted string or integer no longer than the rest of the pickle: no allocation on a length a file merely claims. */
    private void checkLength(int width) throws IOException {
        input.mark(width);
        byte[] raw = PickleUtils.readbytes(input, width);
        input.reset();
        long length = width == 4 ? PickleUtils.bytes_to_uint(raw, 0) : PickleUtils.bytes_to_long(raw, 0);
        if (length < 0 || length > input.available() - width) {
            throw new PickleException("a value claims " + length + " bytes but the pickle has " + (input.available() - width) + " left");
        }
    }

    /**
     * A storage: {@code ('storage', storage class, key, location, element count)}, the form every
     * {@code torch.save} since 1.6 writes (the key names the zip entry {@code data/<key>}).
     */
    @Override
    protected Object persistentLoad(Object pid) {
        if (!(pid instanceof Object[] t) || t.length < 5 || !"storage".equals(t[0])) {
            throw new PickleException("the pickle loads a persistent object " + describe(pid) + "; only storages are allowed");
        }
        if (!(t[1] instanceof StorageClass type)) {
            throw new PickleException("a storage's type is " + describe(t[1]) + ", not a storage class");
        }
        if (!(t[2] instanceof String storageKey) || storageKey.isEmpty() || !storageKey.matches("[A-Za-z0-9_.]+") || storageKey.contains("..")) {
            throw new PickleException("a storage's key is " + describe(t[2]) + ", not a plain name");
        }
        return new StorageRef(storageKey, type.type(), type.name(), number(t[4], "storage size"));
    }

    private static String describe(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof Global g) {
            return g.name();
        }
        if (o instanceof Object[] a) {
            return "tuple of " + a.length;
        }
        return o.getClass().getSimpleName();
    }

    /** A global off the allowlist: the name goes into the message. */
    static final class RefusedGlobal extends PickleException {
        private static final long serialVersionUID = 1L;
        final String global;

        RefusedGlobal(String global) {
            super(global);
            this.global = global;
        }
    }
}
