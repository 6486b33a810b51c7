package dev.cnnzoo.runtime.interchange;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.weights.Weights;
import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import java.io.IOException;
import java.lang.reflect.Array;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A Keras HDF5 weights file, read with jHDF (pure Java): what {@code model.save_weights("w.h5")}
 * writes, or the {@code model_weights} group of a whole model saved with {@code model.save("m.h5")}
 * (Keras 2 and tf.keras). The group lists its layers in the attribute {@code layer_names}; each
 * layer's group lists its weights in {@code weight_names} ({@code block1_conv1/kernel:0}), each a
 * dataset at that path under the layer's group. A whole-model file also carries its architecture
 * as JSON ({@code model_config}), from which each batch norm's ε and momentum are read.
 *
 * <p>Tensors keep Keras's layouts: convolution kernels height × width × in × out, depthwise kernels
 * height × width × channels × multiplier, dense kernels in × out. {@link WeightImport} maps them
 * onto a zoo model, transposed.
 */
public final class KerasWeights {
    /**
     * One layer's weights in the order Keras lists them, keyed by their short name ({@code kernel},
     * {@code moving_mean}); {@code sources} gives each one's full name in the file.
     */
    public record Layer(String name, Map<String, Tensor> weights, Map<String, String> sources) {
    }

    /** A batch norm's settings as the file's model configuration records them. */
    public record BatchNormSettings(double epsilon, double momentum) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String file;
    private final List<Layer> layers;
    private final Map<String, BatchNormSettings> batchNorms;
    private final boolean wholeModel;

    private KerasWeights(String file, List<Layer> layers, Map<String, BatchNormSettings> batchNorms, boolean wholeModel) {
        this.file = file;
        this.layers = layers;
        this.batchNorms = batchNorms;
        this.wholeModel = wholeModel;
    }

    /** Every weight of the file under its Keras name ({@code block1_conv1/kernel:0}), in Keras's layouts. */
    public static Weights read(Path file) {
        Map<String, Tensor> all = new LinkedHashMap<>();
        for (Layer l : open(file).layers()) {
            l.weights().forEach((k, t) -> all.put(l.sources().get(k), t));
        }
        return Weights.of(all);
    }

    /** The file's layers with their weights, and what it says of its batch norms. */
    public static KerasWeights open(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ZooException("Keras weights file " + file + " does not exist");
        }
        String name = file.getFileName().toString();
        try (HdfFile hdf = new HdfFile(file)) {
            Group root = hdf;
            boolean wholeModel = false;
            if (hdf.getChildren().get("model_weights") instanceof Group g) {
                root = g;
                wholeModel = true;
            }
            String[] layerNames = names(root, "layer_names");
            if (layerNames == null) {
                throw new ZooException(name + " is an HDF5 file but not Keras weights: it has no layer_names attribute"
                        + (hdf.getChildren().containsKey("layers") || hdf.getChildren().containsKey("vars")
                                ? " (it looks like Keras 3's .weights.h5 layout; save with Keras 2 or tf.keras's model.save_weights(\"w.h5\"))"
                                : ""));
            }
            Map<String, Layer> layers = new LinkedHashMap<>();
            for (String layerName : layerNames) {
                if (!(root.getChildren().get(layerName) instanceof Group layerGroup)) {
                    throw new ZooException(name + " lists layer '" + layerName + "' but has no group for it");
                }
                String[] weightNames = names(layerGroup, "weight_names");
                for (String weightName : weightNames == null ? new String[0] : weightNames) {
                    Node node = layerGroup.getByPath(weightName);
                    if (!(node instanceof Dataset d)) {
                        throw new ZooException(name + ": layer '" + layerName + "' lists weight '" + weightName + "' but has no dataset for it");
                    }
                    // "block1_conv1/kernel:0": the layer is the part before the last '/' (a nested model's
                    // group lists its inner layers' weights), the weight the part after, without ":0".
                    int slash = weightName.lastIndexOf('/');
                    String owner = slash < 0 ? layerName : weightName.substring(weightName.lastIndexOf('/', slash - 1) + 1, slash);
                    String shortName = weightName.substring(slash + 1).replaceFirst(":\\d+$", "");
                    Layer l = layers.computeIfAbsent(owner, k -> new Layer(k, new LinkedHashMap<>(), new LinkedHashMap<>()));
                    l.weights().put(shortName, tensor(d, name, weightName));
                    l.sources().put(shortName, weightName);
                }
            }
            Attribute config = hdf.getAttribute("model_config");
            Map<String, BatchNormSettings> bn = config == null ? Map.of() : batchNorms(config.getData(), name);
            return new KerasWeights(name, List.copyOf(layers.values()), bn, wholeModel);
        } catch (ZooException e) {
            throw e;
        } catch (RuntimeException e) {
            // jHDF reports a damaged or truncated file with its own runtime exceptions.
            throw new ZooException(name + " is not a readable HDF5 file (truncated or damaged: " + e.getMessage() + ")", e);
        }
    }

    public String file() {
        return file;
    }

    public List<Layer> layers() {
        return layers;
    }

    /** Whether the file is a whole saved model (its weights under {@code model_weights}, its configuration beside them). */
    public boolean wholeModel() {
        return wholeModel;
    }

    /** A batch norm's ε and momentum, where the file records its configuration (a whole-model file). */
    public Optional<BatchNormSettings> batchNorm(String layer) {
        return Optional.ofNullable(batchNorms.get(layer));
    }

    /**
     * A list of names Keras stored as an attribute; one too large for an HDF5 attribute (64 KB) Keras
     * splits into {@code name0}, {@code name1}, … (its {@code save_attributes_to_hdf5_group}).
     */
    private static String[] names(Node node, String attribute) {
        String[] whole = strings(node.getAttribute(attribute));
        if (whole != null) {
            return whole;
        }
        List<String> parts = new ArrayList<>();
        for (int chunk = 0; node.getAttribute(attribute + chunk) != null; chunk++) {
            parts.addAll(List.of(strings(node.getAttribute(attribute + chunk))));
        }
        return parts.isEmpty() ? null : parts.toArray(String[]::new);
    }

    /** h5py writes Keras's name lists as arrays of fixed-length byte strings, which jHDF reads as String[]. */
    private static String[] strings(Attribute a) {
        if (a == null) {
            return null;
        }
        if (a.isEmpty()) {
            return new String[0];
        }
        Object data = a.getData();
        if (data instanceof String s) {
            return new String[] {s};
        }
        if (data != null && data.getClass().isArray()) {
            String[] out = new String[Array.getLength(data)];
            for (int i = 0; i < out.length; i++) {
                Object item = Array.get(data, i);
                out[i] = item instanceof byte[] b ? new String(b, java.nio.charset.StandardCharsets.UTF_8) : String.valueOf(item);
            }
            return out;
        }
        return null;
    }

    private static Tensor tensor(Dataset d, String file, String weightName) {
        long[] dims = d.getDimensionsAsLong();
        Shape shape = Shape.of(dims);
        if (shape.elements() > Integer.MAX_VALUE) {
            throw new ZooException(file + ": weight '" + weightName + "' has " + shape.elements() + " elements, more than a Java array holds");
        }
        Object flat = d.isScalar() ? wrapScalar(d.getData()) : d.getDataFlat();
        int n = (int) shape.elements();
        if (flat instanceof float[] f && f.length == n) {
            return Tensor.of(shape, f);
        }
        if (flat instanceof double[] a && a.length == n) {
            float[] f = new float[n];
            for (int i = 0; i < n; i++) {
                f[i] = (float) a[i];
            }
            return Tensor.of(shape, f);
        }
        if (flat != null && flat.getClass().isArray() && Array.getLength(flat) == n && !(flat instanceof Object[])) {
            long[] l = new long[n];
            for (int i = 0; i < n; i++) {
                l[i] = ((Number) Array.get(flat, i)).longValue();
            }
            return Tensor.ofLongs(shape, l);
        }
        throw new ZooException(file + ": weight '" + weightName + "' holds " + d.getJavaType().getSimpleName() + " data of shape " + shape
                + ", not numbers");
    }

    private static Object wrapScalar(Object o) {
        if (o instanceof Float f) {
            return new float[] {f};
        }
        if (o instanceof Double v) {
            return new double[] {v};
        }
        if (o instanceof Number v) {
            return new long[] {v.longValue()};
        }
        return o;
    }

    /** Every BatchNormalization in the model's JSON configuration, however deeply its models nest. */
    private static Map<String, BatchNormSettings> batchNorms(Object config, String file) {
        String json = config instanceof byte[] b ? new String(b, java.nio.charset.StandardCharsets.UTF_8) : String.valueOf(config);
        Map<String, BatchNormSettings> out = new HashMap<>();
        try {
            collect(JSON.readTree(json), out);
        } catch (IOException e) {
            throw new ZooException(file + ": its model_config attribute is not JSON: " + e.getMessage(), e);
        }
        return out;
    }

    private static void collect(JsonNode n, Map<String, BatchNormSettings> out) {
        if (n.isObject() && "BatchNormalization".equals(n.path("class_name").asText()) && n.path("config").has("name")) {
            JsonNode c = n.path("config");
            // Keras's defaults where a configuration leaves them out.
            out.put(c.get("name").asText(), new BatchNormSettings(c.path("epsilon").asDouble(1e-3), c.path("momentum").asDouble(0.99)));
        }
        List<JsonNode> children = new ArrayList<>();
        n.elements().forEachRemaining(children::add);
        for (JsonNode child : children) {
            collect(child, out);
        }
    }
}
