package dev.cnnzoo.spark.predict;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.io.AtomicFile;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.ModelExporter;
import dev.cnnzoo.weights.Weights;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkContext;

/**
 * A model as executors receive it: an ONNX file shipped once per executor with
 * {@link SparkContext#addFile} (fetched into each executor's work folder, not re-exported per
 * task), and what an executor needs besides to run it exactly as {@code zoo predict} does: the zoo
 * id and configuration that give its preprocessing, and the class names.
 *
 * @param fileName the shipped file's name (content-addressed, so two models never clash)
 * @param modelId  the zoo id the file was exported from
 * @param config   the model's configuration as {@link ModelConfig#describe()} records it, in JSON
 * @param labels   class names by index (empty: "class N")
 */
public record ShippedModel(String fileName, String modelId, String config, List<String> labels) implements Serializable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The zoo model the file holds, rebuilt (an executor needs its preprocessing and shapes, not its weights). */
    public Model model() {
        try {
            Map<String, Object> description = JSON.readValue(config, new TypeReference<LinkedHashMap<String, Object>>() { });
            return ModelZoo.load().build(modelId, ModelConfig.fromDescription(description));
        } catch (JsonProcessingException e) {
            throw new ZooException("the shipped model's configuration is unreadable: " + e.getOriginalMessage());
        }
    }

    /** Exports {@code model} with {@code weights} into {@code folder} and ships it. */
    public static ShippedModel export(SparkContext sc, Model model, Weights weights, List<String> labels, Path folder) {
        byte[] onnx = ModelExporter.toBytes(model, weights, ExportOptions.defaults());
        Path file = folder.resolve("zoo-" + model.id() + "-" + digest(onnx) + ".onnx");
        if (!Files.exists(file)) {
            AtomicFile.write(file, onnx);          // makes the folder; a ZooException says what stopped it
        }
        sc.addFile(file.toString());
        return new ShippedModel(file.getFileName().toString(), model.id(), json(model.config().describe()), List.copyOf(labels));
    }

    /**
     * Ships an ONNX file the zoo exported (its {@code zoo.id} and {@code zoo.config} metadata say
     * which network it holds and so how images are prepared for it).
     */
    public static ShippedModel file(SparkContext sc, Path onnx, List<String> labels) {
        Map<String, String> meta = metadata(onnx);
        String id = meta.get("zoo.id");
        String config = meta.get("zoo.config");
        if (id == null || config == null) {
            throw new ZooException(onnx + " has no zoo metadata (zoo.id, zoo.config) to take its preprocessing from; "
                    + "export it with `zoo export`, or give a zoo model id");
        }
        sc.addFile(onnx.toAbsolutePath().toString());
        return new ShippedModel(onnx.getFileName().toString(), id, config, List.copyOf(labels));
    }

    /** An ONNX file's {@code metadata_props}. */
    static Map<String, String> metadata(Path onnx) {
        if (!Files.isRegularFile(onnx)) {
            throw new ZooException("model file " + onnx + " does not exist");
        }
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
                OrtSession s = OrtEnvironment.getEnvironment().createSession(onnx.toString(), so)) {
            return Map.copyOf(s.getMetadata().getCustomMetadata());
        } catch (OrtException e) {
            throw new ZooException("ONNX Runtime cannot load " + onnx + ": " + e.getMessage(), e);
        }
    }

    private static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String digest(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
