package dev.cnnzoo.runtime.interchange;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Parameter;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.WeightChecks;
import dev.cnnzoo.weights.Weights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Weights from another tool's file, mapped onto a zoo model: an ONNX file's initializers (a
 * {@code torch.onnx.export} of the torchvision network, say), a state dict with torchvision's or
 * timm's names (safetensors, or a {@code torch.save} checkpoint read by {@link PyTorchCheckpoint}),
 * or Keras's HDF5 weights (read by {@link KerasWeights}, mapped by layer name and order and
 * transposed to the zoo's layouts by {@link KerasMapping}). The zoo names its parameters as
 * torchvision does wherever torchvision has the network, and timm as its reference otherwise, so
 * most tensors map by name.
 *
 * <p>In order, a zoo parameter takes:
 * <ol>
 *   <li>the tensor of the same name, also after dropping a wrapper's prefix ({@code module.},
 *       {@code model.}) or taking timm's head names ({@code head.fc}, {@code pre_logits.fc1}...);</li>
 *   <li>in an ONNX file, the initializer that the node of its module uses in its role: PyTorch ≥ 1.13
 *       names nodes by module path ({@code /layer1/layer1.0/conv1/Conv}), so a convolution's weight
 *       is found even where the exporter renamed it ({@code onnx::Conv_497});</li>
 *   <li>for a batch norm that the exporter folded into the convolution before it (PyTorch does in
 *       eval mode): the convolution takes the folded weight, and the batch norm becomes the identity
 *       plus the folded bias (γ = 1, β = bias, mean 0, variance 1 − ε), which computes exactly what
 *       the file computes; where the zoo's convolution has a bias of its own (VGG-BN), that bias
 *       takes the folded one and the batch norm is the plain identity.</li>
 * </ol>
 * Shapes must agree, except that a dense layer takes a convolution's [out, in, h, w] weight
 * flattened (timm writes VGG's first classifier layer as a 7×7 convolution). A shape mismatch is an
 * error naming the tensor; so is a zoo parameter nothing maps to, unless the import is partial,
 * when it keeps its seeded initial value (a classifier for other classes). Auxiliary classifiers,
 * which only the training form has, keep their initial values when nothing maps to them: an
 * inference export (torchvision's GoogLeNet and Inception v3 in eval mode) has none.
 */
public final class WeightImport {
    /** How a zoo parameter got its value. */
    public enum How {
        NAME("by name"), NODE("by the node using it"), ORDER("by Keras layer order"), FOLDED("restored from a folded batch norm"),
        INITIAL("seeded initial value");

        private final String text;

        How(String text) {
            this.text = text;
        }

        @Override
        public String toString() {
            return text;
        }
    }

    /**
     * What an import did.
     *
     * @param weights  every parameter of the model
     * @param how      per zoo parameter, how it got its value
     * @param sources  per zoo parameter, the tensor it came from (absent for folded and initial ones)
     * @param unused   source tensors that nothing took (PyTorch's num_batches_tracked counters left out)
     * @param counters how many num_batches_tracked counters were left out
     * @param kept     with a partial import, the parameters left at their initial values, and why
     * @param notes    what the reading converted or assumed (a state dict's key, float16 widened, a Keras bias folded)
     */
    public record Report(Weights weights, Map<String, How> how, Map<String, String> sources, List<String> unused, int counters,
            List<String> kept, List<String> notes) {
        public long count(How h) {
            return how.values().stream().filter(h::equals).count();
        }
    }

    /** timm's names for heads the zoo names torchvision's way. */
    private static final Map<String, List<String>> TIMM_PREFIXES = Map.of(
            "head.fc.", List.of("fc.", "classifier.6.", "last_linear.", "classif."),
            "pre_logits.fc1.", List.of("classifier.0."),
            "pre_logits.fc2.", List.of("classifier.3."));
    private static final List<String> WRAPPERS = List.of("module.", "model.", "_orig_mod.");

    private final Model model;
    private final Graph graph;
    private final String fileName;
    private final boolean partial;
    private final WeightChecks checks;
    private final Map<String, Tensor> result = new LinkedHashMap<>();
    private final Map<String, How> how = new LinkedHashMap<>();
    private final Map<String, String> sources = new LinkedHashMap<>();
    private final Set<String> used = new HashSet<>();
    private final List<String> kept = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    /** Said of a mismatched tensor whose file layout differs from the zoo's (Keras's kernels, shown transposed). */
    private String layoutNote = "";
    /** Biases of convolutions whose batch norm the file folded, by the zoo convolution's path (step 3). */
    private final Map<String, String> foldedBias = new HashMap<>();

    private WeightImport(Model model, String fileName, boolean partial, WeightChecks checks) {
        this.model = model;
        this.graph = model.graph();
        this.fileName = fileName;
        this.partial = partial;
        this.checks = checks;
    }

    /**
     * Imports {@code file} (ONNX, safetensors, a PyTorch checkpoint or Keras HDF5 weights, told
     * apart by content: {@link WeightFileFormat}) into {@code model}.
     *
     * @param partial keep initial values where nothing maps instead of failing
     */
    public static Report from(Path file, Model model, boolean partial) {
        return from(file, model, partial, WeightChecks.strict());
    }

    /**
     * {@link #from(Path, Model, boolean)}, every tensor taken checked by {@code checks} (floating
     * point; finite unless allowed), named as the file names it.
     */
    public static Report from(Path file, Model model, boolean partial, WeightChecks checks) {
        if (Files.isDirectory(file)) {
            throw new ZooException("weights file " + file + " is a folder");
        }
        if (!Files.isRegularFile(file)) {
            throw new ZooException("weights file " + file + " does not exist");
        }
        WeightImport w = new WeightImport(model, file.getFileName().toString(), partial, checks);
        switch (WeightFileFormat.of(file)) {
            case SAFETENSORS -> {
                return w.stateDict(Safetensors.read(file).asMap());
            }
            case PYTORCH -> {
                PyTorchCheckpoint.Contents c = PyTorchCheckpoint.readContents(file);
                w.notes.addAll(c.notes());
                return w.stateDict(c.weights().asMap());
            }
            case KERAS -> {
                KerasMapping.Result keras = KerasMapping.map(KerasWeights.open(file), w.graph);
                w.notes.addAll(keras.notes());
                w.layoutNote = " (in the zoo's layout)";
                for (KerasMapping.Mapped m : keras.tensors()) {
                    if (m.target() == null) {
                        w.used.add(m.source());         // a bias folded into a batch norm
                    } else if (!w.result.containsKey(m.target())) {
                        w.place(m.target(), m.value(), m.source(), m.byOrder() ? How.ORDER : How.NAME, false);
                    }
                }
                return w.finish(keras.source());
            }
            case UNKNOWN -> throw new ZooException(file + " is in none of the weight formats the zoo reads (safetensors, PyTorch, Keras HDF5, ONNX)");
            default -> {     // ONNX
                OnnxWeights onnx = OnnxWeights.read(file);
                w.byName(onnx.tensors());
                w.byNode(onnx);
                w.restoreFoldedBatchNorms(onnx.tensors());
                return w.finish(onnx.tensors());
            }
        }
    }

    /** A state dict: by name, then any batch norm folded into its convolution. */
    private Report stateDict(Map<String, Tensor> tensors) {
        byName(tensors);
        restoreFoldedBatchNorms(tensors);
        return finish(tensors);
    }

    // ---- 1. names ---------------------------------------------------------------------------

    private void byName(Map<String, Tensor> tensors) {
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            String target = zooName(name);
            if (target != null && !result.containsKey(target)) {
                place(target, e.getValue(), name, How.NAME, false);
            } else if (target == null && name.endsWith(".bias")) {
                // A bias the zoo's convolution lacks: the file folded the batch norm after it (step 3).
                String weight = zooName(name.substring(0, name.length() - ".bias".length()) + ".weight");
                if (weight != null) {
                    foldedBias.put(weight.substring(0, weight.length() - ".weight".length()), name);
                }
            }
        }
    }

    /** The zoo parameter a source name stands for, if any: itself, without a wrapper's prefix, or timm's head name. */
    private String zooName(String name) {
        Map<String, Parameter> params = graph.parameters();
        List<String> bases = new ArrayList<>(List.of(name));
        for (String wrapper : WRAPPERS) {
            if (name.startsWith(wrapper)) {
                bases.add(name.substring(wrapper.length()));
            }
        }
        for (String base : bases) {
            if (params.containsKey(base)) {
                return base;
            }
            for (Map.Entry<String, List<String>> e : TIMM_PREFIXES.entrySet()) {
                if (base.startsWith(e.getKey())) {
                    for (String zooPrefix : e.getValue()) {
                        String candidate = zooPrefix + base.substring(e.getKey().length());
                        if (params.containsKey(candidate)) {
                            return candidate;
                        }
                    }
                }
            }
        }
        return null;
    }

    // ---- 2. nodes ---------------------------------------------------------------------------

    private void byNode(OnnxWeights onnx) {
        for (OnnxWeights.Use u : onnx.uses()) {
            String path = modulePath(u.node());
            String role = role(u.op(), u.input());
            if (path == null || role == null) {
                continue;       // (one initializer may serve several nodes: PyTorch shares equal tensors)
            }
            String target = resolve(path, role);
            Tensor t = onnx.tensors().get(u.initializer());
            boolean transpose = u.op() == Op.MAT_MUL || (u.op() == Op.GEMM && u.input() == 1 && u.intAttributes().getOrDefault("transB", 0L) == 0);
            if (target != null && !result.containsKey(target)) {
                place(target, transpose ? transpose(t) : t, u.initializer(), How.NODE, false);
            } else if (target == null && role.equals("bias") && (u.op() == Op.CONV || u.op() == Op.CONV_TRANSPOSE)) {
                String weight = resolve(path, "weight");
                if (weight != null) {
                    foldedBias.put(weight.substring(0, weight.length() - ".weight".length()), u.initializer());
                }
            }
        }
    }

    /** The zoo parameter {@code path.role}, also after dropping up to two leading components of a wrapper. */
    private String resolve(String path, String role) {
        String p = path;
        for (int drop = 0; drop <= 2 && p != null; drop++) {
            if (graph.parameters().containsKey(p + "." + role)) {
                return p + "." + role;
            }
            int dot = p.indexOf('.');
            p = dot < 0 ? null : p.substring(dot + 1);
        }
        return null;
    }

    /**
     * The module path in a PyTorch ≥ 1.13 node name: {@code /layer1/layer1.0/downsample/downsample.0/Conv}
     * is module {@code layer1.0.downsample.0} (a container's children repeat its name with their index).
     */
    static String modulePath(String nodeName) {
        if (!nodeName.startsWith("/")) {
            return null;
        }
        String[] parts = nodeName.substring(1).split("/");
        List<String> path = new ArrayList<>();
        for (int i = 0; i < parts.length - 1; i++) {
            String part = parts[i];
            if (!path.isEmpty() && part.startsWith(path.get(path.size() - 1) + ".")) {
                path.set(path.size() - 1, part);
            } else {
                path.add(part);
            }
        }
        return path.isEmpty() ? null : String.join(".", path);
    }

    /** The PyTorch parameter a node input holds. */
    private static String role(Op op, int input) {
        return switch (op) {
            case CONV, CONV_TRANSPOSE, GEMM -> input == 1 ? "weight" : input == 2 ? "bias" : null;
            case MAT_MUL -> input == 1 ? "weight" : null;
            case BATCH_NORMALIZATION -> switch (input) {
                case 1 -> "weight";
                case 2 -> "bias";
                case 3 -> "running_mean";
                case 4 -> "running_var";
                default -> null;
            };
            default -> null;
        };
    }

    // ---- 3. folded batch norms --------------------------------------------------------------

    /**
     * A zoo convolution with a mapped weight, followed by a batch norm nothing mapped to: the file
     * folded that batch norm into the convolution, so the batch norm passes the folded bias on.
     */
    private void restoreFoldedBatchNorms(Map<String, Tensor> tensors) {
        for (Node n : graph.nodes()) {
            if (!n.is(Op.CONV) || n.inputs().size() < 2 || !how.containsKey(n.input(1).name())) {
                continue;
            }
            List<Node> consumers = graph.consumers(n.output());
            if (consumers.size() != 1 || !consumers.get(0).is(Op.BATCH_NORMALIZATION)) {
                continue;
            }
            Node bn = consumers.get(0);
            List<String> names = bn.inputs().subList(1, 5).stream().map(Value::name).toList();
            if (names.stream().anyMatch(result::containsKey)) {
                continue;
            }
            String convPath = n.input(1).name().substring(0, n.input(1).name().length() - ".weight".length());
            String biasName = foldedBias.get(convPath);
            // The evidence of folding: a bias the zoo's convolution lacks, or, where the zoo's has one
            // (VGG-BN), a weight the exporter renamed (found through its node, step 2). Otherwise the
            // file simply lacks the batch norm, and the import says so.
            boolean renamedWithBias = n.inputs().size() > 2 && n.input(2) != null && how.get(n.input(1).name()) == How.NODE
                    && result.containsKey(n.input(2).name());
            if (biasName == null && !renamedWithBias) {
                continue;
            }
            int channels = bn.input(1).shape().dim(0);
            Tensor bias = biasName != null ? tensors.get(biasName) : Tensor.zeros(Shape.of(channels));   // else the conv's bias carries it
            float epsilon = bn.attributes().getFloat("epsilon", 1e-5f);
            float[] ones = new float[channels];
            java.util.Arrays.fill(ones, 1f);
            float[] variance = new float[channels];
            java.util.Arrays.fill(variance, 1f - epsilon);       // (x − 0)/√(1 − ε + ε) = x
            place(names.get(0), Tensor.of(Shape.of(channels), ones), null, How.FOLDED, true);
            place(names.get(1), bias, biasName, How.FOLDED, true);
            place(names.get(2), Tensor.zeros(Shape.of(channels)), null, How.FOLDED, true);
            place(names.get(3), Tensor.of(Shape.of(channels), variance), null, How.FOLDED, true);
        }
    }

    // ---- placing and finishing --------------------------------------------------------------

    private void place(String target, Tensor t, String source, How h, boolean synthetic) {
        Shape want = graph.parameters().get(target).shape();
        Tensor value = t;
        if (!t.shape().equals(want)) {
            if (flattensToDense(t.shape(), want)) {
                value = t.reshape(want);
            } else if (partial) {
                kept.add(target + " (" + t.shape() + " in " + fileName + (source != null ? " as '" + source + "'" : "") + layoutNote + ", " + want
                        + " in " + model.id() + ")");
                return;
            } else {
                throw new WeightsMismatchException("tensor '" + source + "' is " + t.shape() + " in " + fileName + layoutNote + " but " + model.id() + "'s '"
                        + target + "' is " + want, target + "'s initial value");
            }
        }
        checks.check(source != null ? source : target, value);          // named as the file names it
        result.put(target, value);
        how.put(target, h);
        if (source != null) {
            sources.put(target, source);
            used.add(source);
        }
    }

    /** A convolution weight [out, c, h, w] whose flattening is a dense weight [out, c·h·w]. */
    private static boolean flattensToDense(Shape from, Shape to) {
        return from.rank() == 4 && to.rank() == 2 && from.dim(0) == to.dim(0) && from.elements() == to.elements();
    }

    private static Tensor transpose(Tensor t) {
        if (t.shape().rank() != 2) {
            return t;
        }
        int r = t.shape().dim(0);
        int c = t.shape().dim(1);
        float[] a = t.floats();
        float[] out = new float[a.length];
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < c; j++) {
                out[j * r + i] = a[i * c + j];
            }
        }
        return Tensor.of(Shape.of(c, r), out);
    }

    private Report finish(Map<String, Tensor> source) {
        List<String> missing = new ArrayList<>();
        Weights initial = null;             // drawn only if some tensor keeps its initial value
        Set<String> deployed = null;
        int auxiliary = 0;
        Map<String, Tensor> ordered = new LinkedHashMap<>();
        for (Parameter p : graph.parameters().values()) {
            Tensor t = result.get(p.name());
            if (t == null) {
                if (initial == null) {
                    initial = Weights.initial(graph, model.config().seed());
                    // Auxiliary classifiers exist only in the training form: an inference export has none to give.
                    deployed = graph.inferenceForm(false).parameters().keySet();
                }
                boolean auxOnly = !deployed.contains(p.name());
                if (!partial && !auxOnly) {
                    missing.add(p.name() + " (" + p.shape() + ")");
                    continue;
                }
                t = initial.get(p.name());
                how.put(p.name(), How.INITIAL);
                if (auxOnly) {
                    auxiliary++;
                } else if (kept.stream().noneMatch(k -> k.startsWith(p.name() + " ("))) {
                    kept.add(p.name() + " (nothing in " + fileName + " maps to it)");
                }
            }
            ordered.put(p.name(), t);
        }
        if (auxiliary > 0) {
            kept.add(auxiliary + " tensors of the auxiliary classifiers (training only; nothing in " + fileName + " maps to them)");
        }
        if (!missing.isEmpty()) {
            throw new WeightsMismatchException(fileName + " has nothing for " + missing.size() + " of " + model.id() + "'s "
                    + graph.parameters().size() + " tensors: " + String.join(", ", missing.subList(0, Math.min(8, missing.size())))
                    + (missing.size() > 8 ? ", …" : ""), "their initial values");
        }
        List<String> unused = new ArrayList<>();
        int counters = 0;
        for (Map.Entry<String, Tensor> e : source.entrySet()) {
            if (used.contains(e.getKey())) {
                continue;
            }
            if (e.getKey().endsWith("num_batches_tracked")) {
                counters++;
            } else {
                unused.add(e.getKey() + " (" + e.getValue().shape() + ")");
            }
        }
        Map<String, How> howOrdered = new LinkedHashMap<>();
        Map<String, String> sourcesOrdered = new LinkedHashMap<>();
        for (String name : ordered.keySet()) {
            howOrdered.put(name, how.get(name));
            if (sources.containsKey(name)) {
                sourcesOrdered.put(name, sources.get(name));
            }
        }
        return new Report(Weights.of(ordered), howOrdered, sourcesOrdered, unused, counters, kept, notes);
    }
}
