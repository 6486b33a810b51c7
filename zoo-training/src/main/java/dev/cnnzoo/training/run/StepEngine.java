package dev.cnnzoo.training.run;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtSession;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.runtime.StagingBuffers;
import dev.cnnzoo.training.Checkpoint;
import dev.cnnzoo.training.Optimizer;
import dev.cnnzoo.training.OptimizerGraph;
import dev.cnnzoo.training.TrainingArtifacts;
import dev.cnnzoo.training.TrainingGraph;
import dev.cnnzoo.training.data.BatchLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Runs training steps on ONNX Runtime sessions of a network's training artifacts.
 *
 * <p>The weights, running statistics and optimizer state live as native tensors between steps:
 * a step's {@code _updated} outputs are the next step's inputs, so on the CPU nothing but the
 * batch, the loss and the logits crosses into Java. (ONNX Runtime's Java API has no I/O binding,
 * so on CUDA each run copies its inputs to the device and its outputs back.)
 *
 * <p>Two modes: {@link Mode#FUSED} runs the fused train-and-update model once per step;
 * {@link Mode#SEPARATE} runs {@code training_model.onnx} then {@code optimizer_model.onnx}, ONNX
 * Runtime's own layout.
 *
 * <p>The trainable parameters and the optimizer's per-parameter state (Adam's moments, SGD's
 * momentum) are updated in place, as PyTorch's optimizers do: the run writes each
 * {@code <name>_updated} output into the tensor it read as {@code <name>}. A model graph cannot say
 * this itself (ONNX values are immutable), so without it a step held all three twice, old and new:
 * for VGG-16 with Adam, 1.6 GB more than PyTorch. It is safe because every other reader of the old
 * value runs first: a moment's one reader is the chain that computes its new value, and a
 * parameter's update waits for its readers in the backward pass (the step graph's
 * {@code optimizer.order} nodes). A step whose loss is not finite has therefore already changed the
 * weights: stop there (as {@link Trainer} does) and resume from the last checkpoint.
 */
public final class StepEngine implements AutoCloseable {
    public enum Mode { FUSED, SEPARATE }

    /** One step's figures. */
    public record StepResult(double loss, int correct, int batch) {
    }

    /**
     * Where one replica's rows sit in a data-parallel step's global batch: each of several engines
     * (processes, machines) steps on its shard of the same global batch, their weights kept equal.
     * Dropout masks are the global batch's rows, so a shard sees what one process would.
     */
    public record Shard(int firstRow, int globalBatch) {
    }

    /**
     * Combines the replicas' gradients and running statistics of a data-parallel step: returns the
     * element-wise mean of each tensor over every replica, identical on each (an all-reduce). Each
     * replica's gradient is its shard's mean, so with equal shards the mean over replicas is the
     * global batch's gradient.
     */
    public interface Combiner {
        Map<String, Tensor> mean(Map<String, Tensor> local);
    }

    private final TrainingArtifacts artifacts;
    private final Mode mode;
    private final InferenceSession step;
    private final InferenceSession training;
    private final InferenceSession optimizerSession;
    /** The evaluation model's session, opened by the first evaluation: a benchmark or a run without one never pays for it. */
    private InferenceSession eval;
    private final RuntimeOptions runtime;
    private final Optimizer optimizer;
    private final long seed;
    /** Every tensor carried from step to step, by input name. */
    private final Map<String, OnnxTensor> carried = new LinkedHashMap<>();
    /** Native tensors and results owned by the engine, closed when replaced. */
    private final List<AutoCloseable> owned = new ArrayList<>();
    private long stepIndex;
    private final String logitsName;
    /** Outputs written in place into the carried tensor of the same name without {@code _updated}. */
    private final Map<String, OnnxTensor> inPlace = new LinkedHashMap<>();
    /** The outputs of the updating session (the step, or the optimizer) that come back as new tensors. */
    private final Set<String> updateOutputs;
    /** Where each step's batch, labels, masks and scalars are written for ONNX Runtime, reused across steps. */
    private final StagingBuffers staging = new StagingBuffers();

    public StepEngine(TrainingArtifacts artifacts, Checkpoint start, RuntimeOptions runtime, Mode mode, long seed) {
        this(artifacts, start, runtime, mode, seed, null);
    }

    /**
     * @param profile where ONNX Runtime's profiler writes the step's (or, separate, the training
     *                model's) profile: a path prefix to which it appends the date and {@code .json};
     *                null for none. {@link #endProfiling} finishes it.
     */
    public StepEngine(TrainingArtifacts artifacts, Checkpoint start, RuntimeOptions runtime, Mode mode, long seed, Path profile) {
        this.artifacts = artifacts;
        this.mode = mode;
        this.optimizer = artifacts.spec().optimizer();
        this.seed = seed;
        this.stepIndex = start.step();
        this.logitsName = artifacts.model().graph().mainOutput().name();
        boolean arena = cpuArena(artifacts);
        this.step = mode == Mode.FUSED
                ? InferenceSession.openRepeated(forRuntime(artifacts.stepModel(), runtime), forSize(artifacts.stepGraph(), runtime), profile, arena)
                : null;
        this.training = mode == Mode.SEPARATE
                ? InferenceSession.openRepeated(forRuntime(artifacts.trainingModel(), runtime), forSize(artifacts.training().graph(), runtime),
                        profile, arena) : null;
        this.optimizerSession = mode == Mode.SEPARATE
                ? InferenceSession.openRepeated(artifacts.optimizerModel(), forSize(artifacts.optimizerGraph(), runtime), null) : null;
        this.runtime = runtime;
        for (Map.Entry<String, Tensor> e : start.tensors().entrySet()) {
            OnnxTensor t = InferenceSession.nativeTensor(e.getValue());
            owned.add(t);
            carried.put(e.getKey(), t);
        }
        List<String> trainable = artifacts.training().trainable();
        for (String p : trainable) {
            inPlace.put(p + TrainingGraph.UPDATED, carried.get(p));
            for (String s : optimizer.stateNames()) {
                String name = p + "." + s;
                if (!carried.containsKey(name)) {
                    if (start.step() != 0) {
                        throw new ZooException("the checkpoint of step " + start.step() + " lacks the optimizer state '" + name + "'");
                    }
                    OnnxTensor zeros = InferenceSession.nativeZeros(Shape.of(start.tensors().get(p).shape().dims()));
                    owned.add(zeros);
                    carried.put(name, zeros);
                }
            }
        }
        for (String s : OptimizerGraph.stateTensorNames(optimizer, trainable)) {
            if (!optimizer.globalStateNames().contains(s)) {
                inPlace.put(s + TrainingGraph.UPDATED, carried.get(s));
            }
        }
        this.updateOutputs = new java.util.LinkedHashSet<>();
        for (InferenceSession.Port p : (mode == Mode.FUSED ? step : optimizerSession).outputs()) {
            if (!inPlace.containsKey(p.name())) {
                updateOutputs.add(p.name());
            }
        }
    }

    /** Stops the profiler (when the engine was opened with one) and returns the profile it wrote. */
    public Path endProfiling() {
        return (mode == Mode.FUSED ? step : training).endProfiling();
    }

    /**
     * Graphs of more nodes than this open without ONNX Runtime's graph optimisations, whose cost
     * grows faster than the graph: preact-resnet1001's fused step (112,498 nodes) opens in 55 s
     * without them and had not opened after 4 minutes with the basic level alone.
     */
    static final int LARGEST_OPTIMISED_GRAPH = 50_000;

    /** On the CPU, the model with its convolutions on ONNX Runtime's blocked kernels ({@link dev.cnnzoo.training.BlockedConvolutions}). */
    private static byte[] forRuntime(byte[] model, RuntimeOptions runtime) {
        return runtime.device() == dev.cnnzoo.runtime.Device.CPU && runtime.optimize() ? dev.cnnzoo.training.BlockedConvolutions.forThisCpu(model) : model;
    }

    /**
     * ONNX Runtime's CPU arena stays on unless the training graph defers gradients
     * ({@link TrainingGraph#deferredGradients}). Those gradients and their updates come at the end of
     * the backward pass in blocks larger than anything the pass freed (VGG-16's fc1, 392 MiB); the
     * arena then takes new regions and keeps them. VGG-16-BN at batch 8: peak 4.26 GiB with the arena,
     * 3.79 without, steps 5.3–5.7 against 5.7–6.0 s (docs/benchmarks.md). For every other network of
     * the zoo's benchmark the arena holds less than malloc does.
     */
    static boolean cpuArena(TrainingArtifacts artifacts) {
        return artifacts.training().deferredGradients().isEmpty();
    }

    private static RuntimeOptions forSize(Graph graph, RuntimeOptions runtime) {
        return graph.nodes().size() > LARGEST_OPTIMISED_GRAPH ? runtime.optimize(false) : runtime;
    }

    /** Steps taken so far (the next step is {@code stepsTaken() + 1}). */
    public long stepsTaken() {
        return stepIndex;
    }

    /**
     * One step on a batch: forward in training mode, backward, optimizer update.
     *
     * @param images N×C×H×W, already normalised and augmented
     * @param labels N class indices
     */
    public StepResult step(Tensor images, long[] labels, double learningRate) {
        return step(images, labels, learningRate, null, null);
    }

    /**
     * One data-parallel step on this replica's shard of a global batch.
     *
     * @param shard    where the rows sit in the global batch (null: they are the whole batch)
     * @param combiner averages the gradients and running statistics over the replicas before the
     *                 optimizer runs (null: none); needs {@link Mode#SEPARATE}. Every replica must
     *                 call it each step, so a non-finite loss is left for the caller to judge.
     */
    public StepResult step(Tensor images, long[] labels, double learningRate, Shard shard, Combiner combiner) {
        if (combiner != null && mode != Mode.SEPARATE) {
            throw new IllegalArgumentException("combining gradients across replicas needs Mode.SEPARATE");
        }
        long t = stepIndex + 1;
        int n = images.shape().dim(0);
        List<OnnxTensor> inputs = new ArrayList<>();
        Map<String, OnnxTensorLike> feeds = new HashMap<>();
        try {
            feeds.put("input", track(inputs, staging.tensor("input", images)));
            feeds.put(TrainingGraph.LABELS, track(inputs, staging.tensor(TrainingGraph.LABELS, Tensor.ofLongs(Shape.of(n), labels))));
            for (TrainingGraph.DropoutMask m : artifacts.training().masks()) {
                Tensor mask = shard == null ? mask(m, n, t) : rows(mask(m, shard.globalBatch(), t), shard.firstRow(), n);
                feeds.put(m.input(), track(inputs, staging.tensor(m.input(), mask)));
            }
            OnnxTensor lr = track(inputs, staging.tensor("learning rate", Tensor.scalar((float) learningRate)));
            OnnxTensor stepTensor = track(inputs, staging.tensor("step", Tensor.ofLongs(Shape.scalar(), new long[] {t})));
            StepResult r = mode == Mode.FUSED ? fused(feeds, lr, stepTensor, labels) : separate(feeds, lr, stepTensor, labels, combiner);
            stepIndex = t;
            return r;
        } finally {
            inputs.forEach(OnnxTensor::close);
        }
    }

    /** Rows {@code [first, first + n)} of a batch-first tensor. */
    private static Tensor rows(Tensor t, int first, int n) {
        int per = t.floats().length / t.shape().dim(0);
        int[] dims = t.shape().dims().clone();
        dims[0] = n;
        return Tensor.of(Shape.of(dims), java.util.Arrays.copyOfRange(t.floats(), first * per, (first + n) * per));
    }

    /**
     * Replaces carried tensors (weights, optimizer state, running statistics) by name: replicas
     * averaging their parameters every few steps load the averages here. The tensors the step
     * updates in place take the new values into their own memory (the step's pinned outputs stay
     * valid); the others are swapped for new ones.
     */
    public void replace(Map<String, Tensor> tensors) {
        Map<String, OnnxTensor> next = new HashMap<>();
        List<AutoCloseable> created = new ArrayList<>();
        Set<Object> pinned = identitySet(inPlace.values());
        tensors.forEach((name, value) -> {
            OnnxTensor current = carried.get(name);
            if (current != null && pinned.contains(current)) {
                // The step writes into this very tensor: it keeps its memory, which takes the new values.
                overwrite(name, current, value);
                return;
            }
            OnnxTensor t = InferenceSession.nativeTensor(value);
            created.add(t);
            next.put(name, t);
        });
        replaceCarried(next, created);
    }

    private static void overwrite(String name, OnnxTensor target, Tensor value) {
        java.nio.Buffer buffer = target.getBufferRef().orElseThrow(
                () -> new IllegalStateException("the in-place tensor '" + name + "' has no buffer of its own"));
        java.nio.FloatBuffer floats = buffer instanceof java.nio.ByteBuffer bytes
                ? bytes.duplicate().order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer() : ((java.nio.FloatBuffer) buffer).duplicate();
        floats.rewind();
        if (floats.remaining() != value.floats().length) {
            throw new ZooException("'" + name + "' holds " + floats.remaining() + " values; " + value.floats().length + " were given");
        }
        floats.put(value.floats());
    }

    private StepResult fused(Map<String, OnnxTensorLike> feeds, OnnxTensor lr, OnnxTensor stepTensor, long[] labels) {
        feeds.put(OptimizerGraph.LEARNING_RATE, lr);
        feeds.put(OptimizerGraph.STEP, stepTensor);
        feeds.putAll(carried);
        OrtSession.Result result = step.runNative(feeds, updateOutputs, inPlace);
        double loss = scalar(result, TrainingGraph.LOSS);
        if (!Double.isFinite(loss)) {
            result.close();
            return new StepResult(loss, 0, labels.length);
        }
        adopt(result);
        return new StepResult(loss, correct(result, labels), labels.length);
    }

    private StepResult separate(Map<String, OnnxTensorLike> feeds, OnnxTensor lr, OnnxTensor stepTensor, long[] labels, Combiner combiner) {
        TrainingGraph tg = artifacts.training();
        for (String name : tg.trainable()) {
            feeds.put(name, carried.get(name));
        }
        for (String name : tg.frozen()) {
            feeds.put(name, carried.get(name));
        }
        for (String name : tg.state()) {
            feeds.put(name, carried.get(name));
        }
        OrtSession.Result grads = training.runNative(feeds, null);
        double loss = scalar(grads, TrainingGraph.LOSS);
        if (!Double.isFinite(loss) && combiner == null) {
            grads.close();
            return new StepResult(loss, 0, labels.length);
        }
        int correct = correct(grads, labels);
        // The gradients and new running statistics: this engine's own, or the replicas' means.
        Map<String, OnnxTensor> gradients = new HashMap<>();
        Map<String, OnnxTensor> state = new HashMap<>();
        for (String p : tg.trainable()) {
            gradients.put(p, get(grads, p + TrainingGraph.GRAD));
        }
        for (String s : tg.state()) {
            state.put(s, get(grads, s + TrainingGraph.UPDATED));
        }
        List<AutoCloseable> owners = new ArrayList<>(List.of(grads));
        if (combiner != null) {
            combine(combiner, gradients, state, owners);
        }
        Map<String, OnnxTensorLike> opt = new HashMap<>();
        opt.put(OptimizerGraph.LEARNING_RATE, lr);
        opt.put(OptimizerGraph.STEP, stepTensor);
        for (String p : tg.trainable()) {
            opt.put(p, carried.get(p));
            opt.put(p + TrainingGraph.GRAD, gradients.get(p));
        }
        for (String s : OptimizerGraph.stateTensorNames(optimizer, tg.trainable())) {
            opt.put(s, carried.get(s));
        }
        OrtSession.Result updated = optimizerSession.runNative(opt, updateOutputs, inPlace);
        owners.add(updated);
        // The training result (or the combined tensors) still holds the new running statistics; keep it alongside.
        Map<String, OnnxTensor> next = new HashMap<>(state);
        for (Map.Entry<String, Optional<ai.onnxruntime.OnnxValue>> e : entries(updated)) {
            String name = e.getKey().substring(0, e.getKey().length() - TrainingGraph.UPDATED.length());
            next.put(name, (OnnxTensor) e.getValue().orElseThrow());
        }
        replaceCarried(next, owners);
        return new StepResult(loss, correct, labels.length);
    }

    /** Replaces this engine's gradients and running statistics by the replicas' means, in place. */
    private static void combine(Combiner combiner, Map<String, OnnxTensor> gradients, Map<String, OnnxTensor> state,
            List<AutoCloseable> owners) {
        Map<String, Tensor> local = new LinkedHashMap<>();
        gradients.forEach((p, t) -> local.put(p + TrainingGraph.GRAD, InferenceSession.hostTensor(t)));
        state.forEach((s, t) -> local.put(s, InferenceSession.hostTensor(t)));
        Map<String, Tensor> mean = combiner.mean(local);
        for (String p : List.copyOf(gradients.keySet())) {
            OnnxTensor t = InferenceSession.nativeTensor(mean.get(p + TrainingGraph.GRAD));
            owners.add(t);
            gradients.put(p, t);
        }
        for (String s : List.copyOf(state.keySet())) {
            OnnxTensor t = InferenceSession.nativeTensor(mean.get(s));
            owners.add(t);
            state.put(s, t);
        }
    }

    /** Takes the {@code _updated} outputs of a fused step as the carried state. */
    private void adopt(OrtSession.Result result) {
        Map<String, OnnxTensor> next = new HashMap<>();
        for (Map.Entry<String, Optional<ai.onnxruntime.OnnxValue>> e : entries(result)) {
            if (e.getKey().endsWith(TrainingGraph.UPDATED)) {
                String name = e.getKey().substring(0, e.getKey().length() - TrainingGraph.UPDATED.length());
                next.put(name, (OnnxTensor) e.getValue().orElseThrow());
            }
        }
        replaceCarried(next, List.of(result));
    }

    private void replaceCarried(Map<String, OnnxTensor> next, List<? extends AutoCloseable> newOwners) {
        for (Map.Entry<String, OnnxTensor> e : next.entrySet()) {
            if (!carried.containsKey(e.getKey())) {
                throw new ZooException("a step produced '" + e.getKey() + "', which the engine does not carry");
            }
            carried.put(e.getKey(), e.getValue());
        }
        // Tensors not replaced (frozen parameters) stay in the previous owners; keep those alive.
        List<AutoCloseable> stillNeeded = new ArrayList<>();
        Set<Object> live = identitySet(carried.values());
        for (AutoCloseable o : owned) {
            if (o instanceof OnnxTensor t && live.contains(t)) {
                stillNeeded.add(o);
            } else if (o instanceof OrtSession.Result r && holdsAny(r, live)) {
                stillNeeded.add(o);
            } else {
                closeQuietly(o);
            }
        }
        owned.clear();
        owned.addAll(stillNeeded);
        owned.addAll(newOwners);
    }

    /** Whether closing {@code r} would close one of {@code live} (the pinned, in-place tensors are not the result's to close). */
    private static boolean holdsAny(OrtSession.Result r, Set<Object> live) {
        for (int i = 0; i < r.size(); i++) {
            if (r.isResultOwner(i) && live.contains(r.get(i))) {
                return true;
            }
        }
        return false;
    }

    /** Loss, correct predictions and batch size of a batch in inference mode (no update). */
    public StepResult evaluate(Tensor images, long[] labels) {
        int n = images.shape().dim(0);
        List<OnnxTensor> inputs = new ArrayList<>();
        Map<String, OnnxTensorLike> feeds = new HashMap<>();
        try {
            feeds.put("input", track(inputs, staging.tensor("input", images)));
            feeds.put(TrainingGraph.LABELS, track(inputs, staging.tensor(TrainingGraph.LABELS, Tensor.ofLongs(Shape.of(n), labels))));
            for (String w : artifacts.weightNames()) {
                feeds.put(w, carried.get(w));
            }
            if (eval == null) {
                eval = InferenceSession.open(forRuntime(artifacts.evalModel(), runtime), runtime);
            }
            try (OrtSession.Result r = eval.runNative(feeds, null)) {
                return new StepResult(scalar(r, TrainingGraph.LOSS), correct(r, labels), n);
            }
        } finally {
            inputs.forEach(OnnxTensor::close);
        }
    }

    /** Sums over evaluated batches: the loss summed over images, the images classified right, and the images. */
    public record Totals(double lossSum, long correct, long images) {
    }

    /** Evaluates every batch of {@code loader}'s evaluation pass (inference mode, no update). */
    public Totals evaluate(BatchLoader loader) {
        double loss = 0;
        long correct = 0;
        long seen = 0;
        for (Iterator<BatchLoader.Batch> it = loader.evaluation(); it.hasNext();) {
            BatchLoader.Batch b = it.next();
            StepResult r = evaluate(b.images(), b.labels());
            loss += r.loss() * r.batch();
            correct += r.correct();
            seen += r.batch();
        }
        return new Totals(loss, correct, seen);
    }

    /** A host copy of everything carried: the next checkpoint's tensors. */
    public Map<String, Tensor> snapshot() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        carried.forEach((name, t) -> out.put(name, InferenceSession.hostTensor(t)));
        return out;
    }

    /**
     * The dropout mask of layer {@code m} at step {@code t}: drawn from a stream seeded by the run's
     * seed, the step and the mask's name, so a resumed run repeats it exactly.
     */
    Tensor mask(TrainingGraph.DropoutMask m, int batch, long t) {
        long h = seed * 0x9E3779B97F4A7C15L + t;
        h = h * 31 + m.input().hashCode();
        SplittableRandom r = new SplittableRandom(h);
        float keep = (float) (1 / (1 - m.rate()));
        float[] a = new float[Math.toIntExact(m.shape().elements(batch))];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextDouble() < m.rate() ? 0f : keep;
        }
        return Tensor.of(m.shape().withBatch(batch), a);
    }

    private int correct(OrtSession.Result r, long[] labels) {
        Tensor logits = InferenceSession.hostTensor(get(r, logitsName));
        int classes = logits.shape().dim(1);
        float[] z = logits.floats();
        int hits = 0;
        for (int i = 0; i < labels.length; i++) {
            int best = 0;
            for (int k = 1; k < classes; k++) {
                if (z[i * classes + k] > z[i * classes + best]) {
                    best = k;
                }
            }
            if (best == labels[i]) {
                hits++;
            }
        }
        return hits;
    }

    private static double scalar(OrtSession.Result r, String name) {
        return InferenceSession.hostTensor(get(r, name)).floats()[0];
    }

    private static OnnxTensor get(OrtSession.Result r, String name) {
        return (OnnxTensor) r.get(name).orElseThrow(() -> new ZooException("the step produced no '" + name + "'"));
    }

    private static List<Map.Entry<String, Optional<ai.onnxruntime.OnnxValue>>> entries(OrtSession.Result r) {
        List<Map.Entry<String, Optional<ai.onnxruntime.OnnxValue>>> out = new ArrayList<>();
        for (Map.Entry<String, ai.onnxruntime.OnnxValue> e : r) {
            out.add(Map.entry(e.getKey(), Optional.of(e.getValue())));
        }
        return out;
    }

    private static OnnxTensor track(List<OnnxTensor> list, OnnxTensor t) {
        list.add(t);
        return t;
    }

    /** {@code values} as a set compared by identity: a lookup per tensor, where Map.containsValue scans every carried tensor. */
    private static Set<Object> identitySet(java.util.Collection<?> values) {
        Set<Object> set = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        set.addAll(values);
        return set;
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // closing native memory cannot fail in a way the caller could act on
        }
    }

    @Override
    public void close() {
        owned.forEach(StepEngine::closeQuietly);
        owned.clear();
        for (InferenceSession s : new InferenceSession[] {step, training, optimizerSession, eval}) {
            if (s != null) {
                s.close();
            }
        }
    }

}
