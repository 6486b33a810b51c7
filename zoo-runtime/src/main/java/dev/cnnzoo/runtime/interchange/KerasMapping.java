package dev.cnnzoo.runtime.interchange;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.runtime.interchange.KerasWeights.Layer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keras layers onto a zoo graph. A Keras layer goes to the zoo layer of the same kind
 * (convolution, depthwise, separable, dense, batch norm) that has
 * <ol>
 *   <li>its name: Xception's layers are named as Keras names them, and Keras ResNet's
 *       {@code convS_blockB_K_conv}/{@code _bn} are torchvision's {@code layer(S−1).(B−1).convK}/{@code bnK}
 *       ({@code K = 0}: the projection shortcut, {@code downsample.0}/{@code .1});</li>
 *   <li>else its place in order among the layers of that kind that step 1 left: VGG's
 *       {@code block1_conv1} … and {@code fc1, fc2, predictions}, Inception v3's
 *       {@code conv2d_N}/{@code batch_normalization_N} and Xception's unnamed shortcuts, the
 *       automatic names ordered by their number (the order Keras created them in). Only the
 *       layers of the zoo's inference form take part: auxiliary classifiers have no Keras
 *       counterpart.</li>
 * </ol>
 * Tensors are converted to the zoo's layouts: convolution kernels H×W×in×out to out×in×H×W,
 * depthwise kernels H×W×C×M to (C·M)×1×H×W, dense kernels in×out to out×in, with the rows of a
 * dense layer after a flattened feature map reordered from Keras's height×width×channels order to
 * the zoo's channels×height×width. A convolution bias the zoo's convolution lacks is folded into
 * the batch norm after it (its running mean less the bias); a batch norm without γ or β
 * ({@code scale=False}, Inception v3) gets 1 or 0. Where the file records a batch norm's ε
 * (whole-model files) and it differs from the zoo's, the running variance absorbs the difference,
 * which computes exactly what Keras computes.
 */
final class KerasMapping {
    enum Kind { CONV, DEPTHWISE, SEPARABLE, DENSE, BATCH_NORM }

    /** A zoo tensor's value from a Keras weight; {@code source} is the Keras weight's full name (null for a constant). */
    record Mapped(String target, Tensor value, String source, boolean byOrder) {
    }

    /**
     * @param tensors what each zoo tensor takes
     * @param source  every Keras weight under its full name, to list what nothing took
     * @param notes   conversions worth telling (folded biases, ε compensated, settings unknown)
     */
    record Result(List<Mapped> tensors, Map<String, Tensor> source, List<String> notes) {
    }

    /** A zoo layer: its kind, its module path, its node (for a separable convolution, the depthwise one and the pointwise one). */
    private record ZooLayer(Kind kind, String module, Node node, Node pointwise) {
    }

    private static final Pattern RESNET = Pattern.compile("conv(\\d)_block(\\d+)_(\\d)_(conv|bn)");
    private static final Pattern AUTOMATIC = Pattern.compile("(conv2d|batch_normalization|dense|depthwise_conv2d|separable_conv2d)(?:_(\\d+))?");

    private final KerasWeights keras;
    private final Graph graph;
    private final List<Mapped> out = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final Map<String, Mapped> byTarget = new HashMap<>();

    private KerasMapping(KerasWeights keras, Graph graph) {
        this.keras = keras;
        this.graph = graph;
    }

    static Result map(KerasWeights keras, Graph graph) {
        return new KerasMapping(keras, graph).run();
    }

    private Result run() {
        Set<String> deployed = graph.inferenceForm(false).parameters().keySet();
        List<ZooLayer> zoo = zooLayers();
        Map<String, ZooLayer> zooByModule = new LinkedHashMap<>();
        zoo.forEach(z -> zooByModule.put(z.module(), z));

        Map<String, Tensor> source = new LinkedHashMap<>();
        List<Layer> unmatched = new ArrayList<>();
        Map<Layer, ZooLayer> pairs = new LinkedHashMap<>();
        Set<ZooLayer> taken = new HashSet<>();
        for (Layer l : keras.layers()) {
            l.weights().forEach((k, t) -> source.put(l.sources().get(k), t));
            Kind kind = kind(l);
            if (kind == null) {
                continue;                   // listed as unused by what nothing took
            }
            ZooLayer z = zooByModule.get(zooName(l.name()));
            if (z != null && z.kind() == kind && !taken.contains(z)) {
                pairs.put(l, z);
                taken.add(z);
            } else {
                unmatched.add(l);
            }
        }
        Set<Layer> byOrder = new HashSet<>();
        for (Kind kind : Kind.values()) {
            List<Layer> left = ordered(unmatched.stream().filter(l -> kind(l) == kind).toList());
            List<ZooLayer> zooLeft = zoo.stream().filter(z -> z.kind() == kind && !taken.contains(z) && deployed.contains(weightName(z))).toList();
            for (int i = 0; i < Math.min(left.size(), zooLeft.size()); i++) {
                pairs.put(left.get(i), zooLeft.get(i));
                byOrder.add(left.get(i));
            }
        }
        // Batch norms first: a convolution bias the zoo lacks folds into the batch norm's mean.
        pairs.forEach((l, z) -> {
            if (z.kind() == Kind.BATCH_NORM) {
                batchNorm(l, z, byOrder.contains(l));
            }
        });
        pairs.forEach((l, z) -> {
            if (z.kind() != Kind.BATCH_NORM) {
                weighted(l, z, byOrder.contains(l));
            }
        });
        if (!keras.wholeModel() && pairs.values().stream().anyMatch(z -> z.kind() == Kind.BATCH_NORM)) {
            notes.add("a save_weights file records no layer settings: its batch norms are taken to use the zoo's ε");
        }
        return new Result(out, source, notes);
    }

    // ---- layers on both sides ---------------------------------------------------------------

    private static Kind kind(Layer l) {
        Map<String, Tensor> w = l.weights();
        if (w.containsKey("depthwise_kernel")) {
            return w.containsKey("pointwise_kernel") ? Kind.SEPARABLE : Kind.DEPTHWISE;
        }
        if (w.containsKey("kernel")) {
            int rank = w.get("kernel").shape().rank();
            return rank == 4 ? Kind.CONV : rank == 2 ? Kind.DENSE : null;
        }
        return w.containsKey("moving_mean") && w.containsKey("moving_variance") ? Kind.BATCH_NORM : null;
    }

    /** The zoo's layers with parameters, in graph order; a depthwise convolution followed by its {@code .pointwise} is one separable layer. */
    private List<ZooLayer> zooLayers() {
        List<ZooLayer> layers = new ArrayList<>();
        Map<String, Node> pointwise = new HashMap<>();
        for (Node n : graph.nodes()) {
            if (n.is(Op.CONV) && module(n) != null && module(n).endsWith(".pointwise")) {
                pointwise.put(module(n), n);
            }
        }
        for (Node n : graph.nodes()) {
            String module = module(n);
            if (module == null) {
                continue;
            }
            switch (n.operator()) {
                case CONV -> {
                    boolean depthwise = n.attributes().getInt("group", 1) > 1 && n.input(1).shape().dim(1) == 1;
                    String base = module.endsWith(".depthwise") ? module.substring(0, module.length() - ".depthwise".length()) : null;
                    if (depthwise && base != null && pointwise.containsKey(base + ".pointwise")) {
                        layers.add(new ZooLayer(Kind.SEPARABLE, base, n, pointwise.get(base + ".pointwise")));
                    } else if (!pointwise.containsKey(module)) {
                        layers.add(new ZooLayer(depthwise ? Kind.DEPTHWISE : Kind.CONV, module, n, null));
                    }
                }
                case BATCH_NORMALIZATION -> layers.add(new ZooLayer(Kind.BATCH_NORM, module, n, null));
                case GEMM -> layers.add(new ZooLayer(Kind.DENSE, module, n, null));
                default -> { }
            }
        }
        return layers;
    }

    /** The module path of a node whose second input is a parameter named {@code <module>.weight}. */
    private String module(Node n) {
        if (n.inputs().size() < 2 || n.input(1) == null) {
            return null;
        }
        String w = n.input(1).name();
        return graph.parameters().containsKey(w) && w.endsWith(".weight") ? w.substring(0, w.length() - ".weight".length()) : null;
    }

    private static String weightName(ZooLayer z) {
        return z.node().input(1).name();
    }

    /** A Keras layer name as the zoo would name that layer, where a rule says (ResNet); else the name itself. */
    static String zooName(String keras) {
        if (keras.equals("conv1_conv")) {
            return "conv1";
        }
        if (keras.equals("conv1_bn")) {
            return "bn1";
        }
        Matcher m = RESNET.matcher(keras);
        if (m.matches()) {
            String unit = "layer" + (Integer.parseInt(m.group(1)) - 1) + "." + (Integer.parseInt(m.group(2)) - 1) + ".";
            int k = Integer.parseInt(m.group(3));
            boolean conv = m.group(4).equals("conv");
            return k == 0 ? unit + "downsample." + (conv ? 0 : 1) : unit + (conv ? "conv" : "bn") + k;
        }
        return keras;
    }

    /** Keras's automatic names ({@code conv2d}, {@code conv2d_1}, …) by their number, which is creation order; other names as the file lists them. */
    private static List<Layer> ordered(List<Layer> layers) {
        boolean automatic = !layers.isEmpty() && layers.stream().allMatch(l -> AUTOMATIC.matcher(l.name()).matches());
        if (!automatic) {
            return layers;
        }
        List<Layer> sorted = new ArrayList<>(layers);
        sorted.sort(Comparator.comparingInt(l -> {
            Matcher m = AUTOMATIC.matcher(l.name());
            m.matches();
            return m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
        }));
        return sorted;
    }

    // ---- conversions ------------------------------------------------------------------------

    private void batchNorm(Layer l, ZooLayer z, boolean byOrder) {
        Map<String, Tensor> w = l.weights();
        int channels = w.get("moving_mean").shape().dim(0);
        Tensor variance = w.get("moving_variance");
        float zooEpsilon = z.node().attributes().getFloat("epsilon", 1e-5f);
        float zooMomentum = z.node().attributes().getFloat("momentum", 0.9f);
        var settings = keras.batchNorm(l.name());
        if (settings.isPresent()) {
            double epsilon = settings.get().epsilon();
            if (Math.abs(epsilon - zooEpsilon) > 1e-6 * Math.max(epsilon, zooEpsilon)) {
                // (x − μ)/√(σ² + ε_keras) = (x − μ)/√((σ² + ε_keras − ε_zoo) + ε_zoo)
                float[] v = variance.floats().clone();
                for (int i = 0; i < v.length; i++) {
                    v[i] += (float) (epsilon - zooEpsilon);
                }
                variance = Tensor.of(variance.shape(), v);
                notes.add("batch norm '" + l.name() + "' used ε = " + epsilon + ", the zoo's '" + z.module() + "' uses " + zooEpsilon
                        + ": its running variance absorbs the difference");
            }
            double momentum = settings.get().momentum();
            if (Math.abs(momentum - zooMomentum) > 1e-6) {
                notes.add("batch norm '" + l.name() + "' averaged its statistics with momentum " + momentum + ", the zoo's '" + z.module()
                        + "' uses " + zooMomentum + " (this matters only to further training)");
            }
        }
        String prefix = z.module() + ".";
        put(prefix + "weight", w.containsKey("gamma") ? w.get("gamma") : Tensor.filled(Shape.of(channels), 1f), l, "gamma", byOrder);
        put(prefix + "bias", w.containsKey("beta") ? w.get("beta") : Tensor.zeros(Shape.of(channels)), l, "beta", byOrder);
        put(prefix + "running_mean", w.get("moving_mean"), l, "moving_mean", byOrder);
        put(prefix + "running_var", variance, l, "moving_variance", byOrder);
    }

    private void weighted(Layer l, ZooLayer z, boolean byOrder) {
        Map<String, Tensor> w = l.weights();
        switch (z.kind()) {
            case CONV -> {
                put(z.module() + ".weight", hwioToOihw(w.get("kernel")), l, "kernel", byOrder);
                bias(l, z, z.node(), byOrder);
            }
            case DEPTHWISE -> {
                put(z.module() + ".weight", depthwise(w.get("depthwise_kernel")), l, "depthwise_kernel", byOrder);
                bias(l, z, z.node(), byOrder);
            }
            case SEPARABLE -> {
                put(z.module() + ".depthwise.weight", depthwise(w.get("depthwise_kernel")), l, "depthwise_kernel", byOrder);
                put(z.module() + ".pointwise.weight", hwioToOihw(w.get("pointwise_kernel")), l, "pointwise_kernel", byOrder);
                bias(l, new ZooLayer(Kind.CONV, z.module() + ".pointwise", z.pointwise(), null), z.pointwise(), byOrder);
            }
            case DENSE -> {
                Tensor kernel = w.get("kernel");
                int[] map = flattenedMap(z.node(), kernel.shape().dim(0));
                if (map != null) {
                    notes.add("dense layer '" + l.name() + "': rows reordered from Keras's height×width×channels flattening to the zoo's "
                            + "channels×height×width");
                }
                put(z.module() + ".weight", denseWeight(kernel, map), l, "kernel", byOrder);
                bias(l, z, z.node(), byOrder);
            }
            default -> throw new IllegalStateException(z.kind().toString());
        }
    }

    /** The layer's bias onto the zoo node's: taken as it is, zero where Keras has none, or folded into the batch norm after. */
    private void bias(Layer l, ZooLayer z, Node node, boolean byOrder) {
        boolean zooHasBias = node.inputs().size() > 2 && node.input(2) != null && graph.parameters().containsKey(node.input(2).name());
        Tensor bias = l.weights().get("bias");
        if (zooHasBias) {
            String target = node.input(2).name();
            put(target, bias != null ? bias : Tensor.zeros(graph.parameters().get(target).shape()), l, "bias", byOrder);
            return;
        }
        if (bias == null) {
            return;
        }
        List<Node> consumers = graph.consumers(node.output());
        Mapped mean = consumers.size() == 1 && consumers.get(0).is(Op.BATCH_NORMALIZATION)
                ? byTarget.get(consumers.get(0).input(3).name()) : null;
        if (mean == null || mean.value().elements() != bias.elements()) {
            throw new ZooException(keras.file() + ": Keras layer '" + l.name() + "' has a bias, and the zoo's '" + z.module()
                    + "' has none and no batch norm after it to carry it");
        }
        // BN(x + b) = γ·(x + b − μ)/σ + β = γ·(x − (μ − b))/σ + β
        float[] m = mean.value().floats().clone();
        float[] b = bias.floats();
        for (int i = 0; i < m.length; i++) {
            m[i] -= b[i];
        }
        Mapped folded = new Mapped(mean.target(), Tensor.of(mean.value().shape(), m), mean.source(), mean.byOrder());
        out.set(out.indexOf(mean), folded);
        byTarget.put(folded.target(), folded);
        // Mark the bias as used: it lives on in the running mean.
        out.add(new Mapped(null, bias, l.sources().get("bias"), byOrder));
        if (notes.stream().noneMatch(s -> s.startsWith("convolution biases folded"))) {
            notes.add("convolution biases folded into the running means of the batch norms after them (the zoo's convolutions have none)");
        }
    }

    private void put(String target, Tensor value, Layer l, String weight, boolean byOrder) {
        Mapped m = new Mapped(target, value, l.sources().get(weight), byOrder);
        out.add(m);
        byTarget.put(target, m);
    }

    /**
     * Where a dense layer reads a flattened N×C×H×W map (through dropout or identities), the zoo
     * row of each Keras row: Keras flattens height × width × channels, the zoo channels × height × width.
     */
    private int[] flattenedMap(Node dense, int inputs) {
        Node n = graph.producer(dense.input(0));
        while (n != null && (n.is(Op.DROPOUT) || n.is(Op.IDENTITY))) {
            n = graph.producer(n.input(0));
        }
        if (n == null || !(n.is(Op.FLATTEN) || n.is(Op.RESHAPE))) {
            return null;
        }
        Shape map = n.input(0).shape();
        if (map.rank() != 4) {
            return null;
        }
        int c = map.dim(1);
        int hw = map.dim(2) * map.dim(3);
        if (hw == 1 || (long) c * hw != inputs) {
            return null;
        }
        int[] zooRow = new int[inputs];
        for (int position = 0; position < hw; position++) {
            for (int channel = 0; channel < c; channel++) {
                zooRow[position * c + channel] = channel * hw + position;
            }
        }
        return zooRow;
    }

    // ---- layouts ----------------------------------------------------------------------------

    /** H×W×in×out → out×in×H×W. */
    static Tensor hwioToOihw(Tensor k) {
        int h = k.shape().dim(0);
        int w = k.shape().dim(1);
        int in = k.shape().dim(2);
        int o = k.shape().dim(3);
        float[] a = k.floats();
        float[] r = new float[a.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int i = 0; i < in; i++) {
                    int from = ((y * w + x) * in + i) * o;
                    for (int j = 0; j < o; j++) {
                        r[((j * in + i) * h + y) * w + x] = a[from + j];
                    }
                }
            }
        }
        return Tensor.of(Shape.of(o, in, h, w), r);
    }

    /** H×W×C×M → (C·M)×1×H×W: output channel c·M + m filters input channel c, as Keras's depthwise convolution orders them. */
    static Tensor depthwise(Tensor k) {
        int h = k.shape().dim(0);
        int w = k.shape().dim(1);
        int c = k.shape().dim(2);
        int m = k.shape().dim(3);
        Tensor asOne = hwioToOihw(k.reshape(Shape.of(h, w, 1, c * m)));
        return asOne.reshape(Shape.of(c * m, 1, h, w));
    }

    /** in×out → out×in, with row {@code i} of the kernel going to column {@code map[i]} where a map is given. */
    static Tensor denseWeight(Tensor k, int[] map) {
        int in = k.shape().dim(0);
        int o = k.shape().dim(1);
        float[] a = k.floats();
        float[] r = new float[a.length];
        for (int i = 0; i < in; i++) {
            int column = map == null ? i : map[i];
            for (int j = 0; j < o; j++) {
                r[j * in + column] = a[i * o + j];
            }
        }
        return Tensor.of(Shape.of(o, in), r);
    }
}
