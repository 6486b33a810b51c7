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
        Graph written = options.inferenceForm() ? model.graph().inferenceForm(options.auxiliary()) : model.graph();
        ExportOptions o = options.metadata(metadata(model, written));
        return o.docString().isEmpty() ? o.docString(model.info().description() + ". " + model.info().paper().citation()) : o;
    }

    /**
     * {@code zoo.id}, {@code zoo.family}, {@code zoo.paper}, {@code zoo.preprocessing} (JSON),
     * {@code zoo.parameters} and {@code zoo.macs} (of the graph {@code written}), {@code zoo.input},
     * {@code zoo.classes}, {@code zoo.config} (JSON).
     */
    public static Map<String, String> metadata(Model model, Graph written) {
        ModelInfo info = model.info();
        Summary summary = Summary.of(written);
        int[] size = model.config().inputSize();
        Map<String, String> m = new LinkedHashMap<>();
        m.put("zoo.id", info.id());
        m.put("zoo.family", info.family());
        m.put("zoo.paper", info.paper().citation() + (info.paper().url() != null ? " " + info.paper().url() : ""));
        m.put("zoo.preprocessing", ZooMetadata.preprocessingJson(info.preprocessing()));
        m.put("zoo.parameters", Long.toString(summary.parameters()));
        m.put("zoo.macs", Long.toString(summary.macs()));
        m.put("zoo.input", ZooMetadata.inputText(model.config().inputChannels(), size[0], size[1]));
        m.put("zoo.classes", Integer.toString(model.config().classes()));
        m.put("zoo.config", json(model.config().describe()));
        return m;
    }

    private static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
