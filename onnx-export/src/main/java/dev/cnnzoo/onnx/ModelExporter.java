package dev.cnnzoo.onnx;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Summary;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Exports a zoo {@link Model}, with its id, paper and preprocessing recorded in {@code metadata_props}. */
public final class ModelExporter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelExporter() {
    }

    public static List<Path> write(Model model, Weights weights, Path file, ExportOptions options) throws IOException {
        return OnnxExporter.write(model.graph(), weights, file, withModelMetadata(model, options));
    }

    public static byte[] toBytes(Model model, Weights weights, ExportOptions options) {
        return OnnxExporter.toBytes(model.graph(), weights, withModelMetadata(model, options));
    }

    /** The options with the model's metadata and a doc string citing its paper. */
    public static ExportOptions withModelMetadata(Model model, ExportOptions options) {
        Graph written = written(model, options);
        ExportOptions o = options.metadata(metadata(model, written));
        return o.docString().isEmpty() ? o.docString(model.info().description() + ". " + model.info().paper().citation()) : o;
    }

    /** The graph a file written with {@code options} holds (the inference form drops dropout and, unless asked, auxiliary classifiers). */
    public static Graph written(Model model, ExportOptions options) {
        return options.inferenceForm() ? model.graph().inferenceForm(options.auxiliary()) : model.graph();
    }

    /**
     * {@code zoo.id}, {@code zoo.family}, {@code zoo.paper}, {@code zoo.preprocessing} (JSON),
     * {@code zoo.parameters} and {@code zoo.macs} (of the graph {@code written}), {@code zoo.input},
     * {@code zoo.classes}, {@code zoo.config} (JSON), and for a network built for its features only
     * {@code zoo.feature_info} (JSON, see {@link #featureInfo}).
     */
    public static Map<String, String> metadata(Model model, Graph written) {
        ModelInfo info = model.info();
        Summary summary = Summary.of(written);
        int[] size = model.config().inputSize();
        Map<String, String> m = new LinkedHashMap<>();
        m.put("zoo.id", info.id());
        m.put("zoo.family", info.family());
        m.put("zoo.paper", info.paper().citation() + (info.paper().url() != null ? " " + info.paper().url() : ""));
        m.put("zoo.preprocessing", ZooMetadata.preprocessingJson(model.preprocessing()));
        m.put("zoo.parameters", Long.toString(summary.parameters()));
        m.put("zoo.macs", Long.toString(summary.macs()));
        m.put("zoo.input", ZooMetadata.inputText(model.config().inputChannels(), size[0], size[1]));
        m.put("zoo.classes", Integer.toString(model.config().classes()));
        m.put("zoo.config", json(model.config().describe()));
        if (written.outputsFeatureStages()) {
            m.put(FEATURE_INFO, json(featureInfo(written)));
        }
        return m;
    }

    /** The {@code metadata_props} key of a feature extractor's stages. */
    public static final String FEATURE_INFO = "zoo.feature_info";

    /**
     * timm's {@code feature_info} of the stages {@code graph} outputs, one object per output in order:
     * {@code name} (the output, {@code stage1}...), {@code channels}, {@code reduction} (input pixels
     * per position), {@code layer} (the layer it taps).
     */
    public static List<Map<String, Object>> featureInfo(Graph graph) {
        return graph.featureStages().stream().map(s -> {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("name", s.name());
            o.put("channels", s.channels());
            o.put("reduction", s.reduction());
            o.put("layer", s.layer());
            return o;
        }).toList();
    }

    private static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
