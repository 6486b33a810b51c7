package dev.cnnzoo.runtime;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.DType;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An ONNX model (the zoo's or any other) opened in ONNX Runtime. Inputs and outputs are host
 * {@link Tensor}s; every native tensor a run creates is closed before the run returns, so a session
 * can run indefinitely without native memory growth. Close the session to free the model.
 */
public final class InferenceSession implements AutoCloseable {
    /** An input or output: its name, element type and shape (−1 for a dynamic dimension). */
    public record Port(String name, DType dtype, long[] shape) {
        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(name).append(' ').append(dtype).append(' ');
            for (int i = 0; i < shape.length; i++) {
                sb.append(i == 0 ? "" : "×").append(shape[i] < 0 ? "N" : Long.toString(shape[i]));
            }
            return sb.toString();
        }
    }

    private final OrtEnvironment env;
    private final OrtSession session;
    private final List<Port> inputs;
    private final List<Port> outputs;
    private final Device device;

    private InferenceSession(OrtSession session, Device device) throws OrtException {
        this.env = OrtEnvironment.getEnvironment();
        this.session = session;
        this.device = device;
        this.inputs = ports(session.getInputInfo());
        this.outputs = ports(session.getOutputInfo());
    }

    /** Opens an ONNX file; a missing or unreadable file is a {@link ZooException} naming it. */
    public static InferenceSession open(Path model, RuntimeOptions options) {
        if (Files.isDirectory(model)) {
            throw new ZooException("model file " + model + " is a folder, not an ONNX file");
        }
        if (!Files.isRegularFile(model)) {
            throw new ZooException("model file " + model + " does not exist");
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = sessionOptions(options)) {
            return new InferenceSession(env.createSession(model.toString(), so), options.device());
        } catch (OrtException e) {
            throw new ZooException("ONNX Runtime cannot load " + model + onDevice(options) + ": " + e.getMessage(), e);
        }
    }

    /** Opens a model held in memory (an export that was never written to disk). */
    public static InferenceSession open(byte[] model, RuntimeOptions options) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = sessionOptions(options)) {
            return new InferenceSession(env.createSession(model, so), options.device());
        } catch (OrtException e) {
            throw new ZooException("ONNX Runtime cannot load the model" + onDevice(options) + ": " + e.getMessage(), e);
        }
    }

    /**
     * Opens a model held in memory that runs the same way many times over (a training step), with
     * ONNX Runtime's memory pattern off and, when {@code profile} is given, its profiler on.
     *
     * <p>The memory pattern pre-plans one block for all of a run's intermediate tensors from what the
     * first run allocated; the first run's arena chunks stay besides it, so a training step held
     * both: ResNet-18's step at batch 8 peaked at 1.15 GB resident with it and 0.87 GB without, no
     * slower (docs/benchmarks.md, "Where the memory goes").
     *
     * @param profile where ONNX Runtime writes its profile (a prefix: it appends the date and
     *                {@code .json}), or null for none; {@link #endProfiling} finishes it
     */
    public static InferenceSession openRepeated(byte[] model, RuntimeOptions options, Path profile) {
        return openRepeated(model, options, profile, true);
    }

    /**
     * As {@link #openRepeated(byte[], RuntimeOptions, Path)}, with ONNX Runtime's CPU arena on or
     * off. Off, each tensor is allocated from the C library and given back when freed (the large ones
     * are mapped and unmapped): slower where a run allocates much, but a late request larger than any
     * block the run freed does not make the arena take a new region that it keeps.
     */
    public static InferenceSession openRepeated(byte[] model, RuntimeOptions options, Path profile, boolean cpuArena) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = sessionOptions(options)) {
            so.setMemoryPatternOptimization(false);
            if (!cpuArena) {
                so.setCPUArenaAllocator(false);
            }
            if (profile != null) {
                so.enableProfiling(profile.toString());
            }
            return new InferenceSession(env.createSession(model, so), options.device());
        } catch (OrtException e) {
            throw new ZooException("ONNX Runtime cannot load the model" + onDevice(options) + ": " + e.getMessage(), e);
        }
    }

    /** Stops the profiler of a session opened with one and returns the file it wrote. */
    public Path endProfiling() {
        try {
            return Path.of(session.endProfiling());
        } catch (OrtException e) {
            throw new ZooException("ONNX Runtime could not finish its profile: " + e.getMessage(), e);
        }
    }

    /** On CUDA a load failure is most often the device's: say which, and the way out. */
    private static String onDevice(RuntimeOptions options) {
        return options.device() == Device.CUDA ? " on CUDA device " + options.deviceId() + " (is an NVIDIA GPU with its driver present? "
                + "the CPU runs without one)" : "";
    }

    static OrtSession.SessionOptions sessionOptions(RuntimeOptions options) throws OrtException {
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        try {
            if (options.threads() > 0) {
                so.setIntraOpNumThreads(options.threads());
                so.setInterOpNumThreads(1);
            }
            so.setOptimizationLevel(options.optimize() ? OrtSession.SessionOptions.OptLevel.ALL_OPT
                    : OrtSession.SessionOptions.OptLevel.NO_OPT);
            if (options.device() == Device.CUDA) {
                Devices.requireCuda(options.deviceId());
                try {
                    so.addCUDA(options.deviceId());
                } catch (OrtException e) {
                    throw Devices.cudaDidNotStart(options.deviceId(), e);
                }
            }
            return so;
        } catch (RuntimeException | OrtException e) {
            so.close();
            throw e;
        }
    }

    public List<Port> inputs() {
        return inputs;
    }

    public List<Port> outputs() {
        return outputs;
    }

    public Device device() {
        return device;
    }

    /** The model's {@code metadata_props} (a zoo export records its id, preprocessing and input there). */
    public Map<String, String> metadata() {
        try {
            return Map.copyOf(session.getMetadata().getCustomMetadata());
        } catch (OrtException e) {
            throw new ZooException("ONNX Runtime cannot read the model's metadata: " + e.getMessage(), e);
        }
    }

    /** Runs the model on a single-input model and returns its first output. */
    public Tensor run(Tensor input) {
        if (inputs.size() != 1) {
            throw new ZooException("the model has " + inputs.size() + " inputs " + inputs.stream().map(Port::name).toList()
                    + "; pass them by name");
        }
        return run(Map.of(inputs.get(0).name(), input)).get(outputs.get(0).name());
    }

    /** Runs the model and returns every output by name. */
    public Map<String, Tensor> run(Map<String, Tensor> feeds) {
        return run(feeds, null);
    }

    /** Runs the model and returns the named outputs (all when {@code wanted} is null). */
    public Map<String, Tensor> run(Map<String, Tensor> feeds, Set<String> wanted) {
        checkFeeds(feeds);
        Map<String, OnnxTensor> native_ = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Tensor> e : feeds.entrySet()) {
                native_.put(e.getKey(), toNative(env, e.getValue()));
            }
            OrtSession.Result result = wanted == null ? session.run(native_) : session.run(native_, wanted);
            try (result) {
                Map<String, Tensor> out = new LinkedHashMap<>();
                for (Map.Entry<String, OnnxValue> e : result) {
                    out.put(e.getKey(), fromNative((OnnxTensor) e.getValue()));
                }
                return out;
            }
        } catch (OrtException e) {
            throw new ZooException("ONNX Runtime failed to run the model: " + e.getMessage(), e);
        } finally {
            native_.values().forEach(OnnxTensor::close);
        }
    }

    /**
     * Runs on native tensors and returns ONNX Runtime's result, which the caller must close (its
     * tensors can feed the next run directly: the trainer keeps its weights native between steps).
     */
    public OrtSession.Result runNative(Map<String, ? extends ai.onnxruntime.OnnxTensorLike> feeds, Set<String> wanted) {
        try {
            return wanted == null ? session.run(feeds) : session.run(feeds, wanted);
        } catch (OrtException e) {
            throw new ZooException("ONNX Runtime failed to run the model: " + e.getMessage(), e);
        }
    }

    /**
     * As {@link #runNative(Map, Set)}, with some outputs written into tensors the caller gives
     * ({@code pinned}, by output name) rather than into new ones; those are absent from the result.
     * A pinned output may be one of the feeds: a value the graph replaces (an optimizer's moment)
     * is then updated in place, provided every other reader of that input precedes, through the
     * graph's data dependencies, the node that writes the output.
     */
    public OrtSession.Result runNative(Map<String, ? extends ai.onnxruntime.OnnxTensorLike> feeds, Set<String> wanted,
            Map<String, ? extends OnnxValue> pinned) {
        try {
            return session.run(feeds, wanted, pinned);
        } catch (OrtException e) {
            throw new ZooException("ONNX Runtime failed to run the model: " + e.getMessage(), e);
        }
    }

    /** A native tensor holding {@code t}'s data; the caller closes it. */
    public static OnnxTensor nativeTensor(Tensor t) {
        try {
            return toNative(OrtEnvironment.getEnvironment(), t);
        } catch (OrtException e) {
            throw new ZooException("cannot create a native tensor: " + e.getMessage(), e);
        }
    }

    /** A native FLOAT tensor of zeros in memory of its own (no Java array behind it); the caller closes it. */
    public static OnnxTensor nativeZeros(Shape shape) {
        java.nio.FloatBuffer zeros = ByteBuffer.allocateDirect(Math.multiplyExact(Math.toIntExact(shape.elements()), Float.BYTES))
                .order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
        try {
            return OnnxTensor.createTensor(OrtEnvironment.getEnvironment(), zeros, shape.longDims());
        } catch (OrtException e) {
            throw new ZooException("cannot create a native tensor: " + e.getMessage(), e);
        }
    }

    /** A host copy of a native tensor. */
    public static Tensor hostTensor(OnnxTensor t) {
        return fromNative(t);
    }

    private void checkFeeds(Map<String, Tensor> feeds) {
        for (Port p : inputs) {
            Tensor t = feeds.get(p.name());
            if (t == null) {
                throw new ZooException("no value given for the model's input '" + p.name() + "' (" + p + ")");
            }
            int[] dims = t.shape().dims();
            boolean fits = dims.length == p.shape().length;
            for (int i = 0; fits && i < dims.length; i++) {
                fits = p.shape()[i] < 0 || p.shape()[i] == dims[i];
            }
            if (!fits) {
                throw new ZooException("input '" + p.name() + "' has shape " + t.shape() + " but the model expects "
                        + p.toString().substring(p.name().length() + 1));
            }
        }
        for (String name : feeds.keySet()) {
            if (inputs.stream().noneMatch(p -> p.name().equals(name))) {
                throw new ZooException("the model has no input named '" + name + "'; its inputs are "
                        + inputs.stream().map(Port::name).toList());
            }
        }
    }

    static OnnxTensor toNative(OrtEnvironment env, Tensor t) throws OrtException {
        long[] shape = t.shape().longDims();
        return switch (t.dtype()) {
            case FLOAT -> OnnxTensor.createTensor(env, FloatBuffer.wrap(t.floats()), shape);
            case INT64 -> OnnxTensor.createTensor(env, LongBuffer.wrap(t.longs()), shape);
            case BOOL -> {
                ByteBuffer b = ByteBuffer.allocateDirect(t.longs().length);
                for (long v : t.longs()) {
                    b.put((byte) (v != 0 ? 1 : 0));
                }
                b.flip();
                yield OnnxTensor.createTensor(env, b, shape, OnnxJavaType.BOOL);
            }
            default -> throw new ZooException("cannot feed a " + t.dtype() + " tensor");
        };
    }

    static Tensor fromNative(OnnxTensor t) {
        TensorInfo info = t.getInfo();
        Shape shape = Shape.of(info.getShape());
        return switch (info.type) {
            case FLOAT -> {
                FloatBuffer fb = t.getFloatBuffer();
                float[] a = new float[fb.remaining()];
                fb.get(a);
                yield Tensor.of(shape, a);
            }
            case DOUBLE -> {
                var db = t.getDoubleBuffer();
                float[] a = new float[db.remaining()];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) db.get(i);
                }
                yield Tensor.of(shape, a);
            }
            case INT64 -> {
                LongBuffer lb = t.getLongBuffer();
                long[] a = new long[lb.remaining()];
                lb.get(a);
                yield Tensor.ofLongs(shape, a);
            }
            case INT32 -> {
                var ib = t.getIntBuffer();
                long[] a = new long[ib.remaining()];
                for (int i = 0; i < a.length; i++) {
                    a[i] = ib.get(i);
                }
                yield Tensor.ofLongs(shape, a);
            }
            case BOOL, UINT8, INT8 -> {
                ByteBuffer bb = t.getByteBuffer();
                long[] a = new long[bb.remaining()];
                for (int i = 0; i < a.length; i++) {
                    a[i] = info.type == OnnxJavaType.INT8 ? bb.get(i) : bb.get(i) & 0xff;
                }
                yield info.type == OnnxJavaType.BOOL ? Tensor.ofBools(shape, a) : Tensor.ofLongs(shape, a);
            }
            default -> throw new ZooException("cannot read an output of type " + info.type);
        };
    }

    private static List<Port> ports(Map<String, NodeInfo> infos) {
        List<Port> ports = new ArrayList<>();
        for (NodeInfo n : infos.values()) {
            if (n.getInfo() instanceof TensorInfo ti) {
                DType dtype = switch (ti.type) {
                    case FLOAT -> DType.FLOAT;
                    case INT64 -> DType.INT64;
                    case INT32 -> DType.INT32;
                    case BOOL -> DType.BOOL;
                    case DOUBLE -> DType.DOUBLE;
                    case UINT8 -> DType.UINT8;
                    default -> DType.FLOAT;
                };
                ports.add(new Port(n.getName(), dtype, ti.getShape()));
            } else {
                throw new ZooException("the model's " + n.getName() + " is not a tensor; the zoo runs tensor models only");
            }
        }
        return List.copyOf(ports);
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new ZooException("closing the ONNX Runtime session failed: " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "InferenceSession(" + device + ", inputs " + inputs + ", outputs " + outputs + ")";
    }
}
