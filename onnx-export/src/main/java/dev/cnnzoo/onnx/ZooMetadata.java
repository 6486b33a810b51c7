package dev.cnnzoo.onnx;

import ai.onnx.proto.OnnxMl.ModelProto;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.Preprocessing;
import dev.cnnzoo.api.ZooException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * What a zoo export records in its {@code metadata_props} ({@link ModelExporter#metadata}), read
 * back: enough to feed a file images without the model that wrote it (its preprocessing and input)
 * and to name its classes' count. A file from elsewhere has none of it; every getter is then empty.
 */
public record ZooMetadata(Map<String, String> entries) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public ZooMetadata {
        entries = Map.copyOf(entries);
    }

    public static ZooMetadata of(ModelProto model) {
        return new ZooMetadata(OnnxExporter.metadata(model));
    }

    /** The zoo id of the model ({@code zoo.id}). */
    public Optional<String> id() {
        return Optional.ofNullable(entries.get("zoo.id"));
    }

    /** How images become the input ({@code zoo.preprocessing}). */
    public Optional<Preprocessing> preprocessing() {
        String json = entries.get("zoo.preprocessing");
        if (json == null) {
            return Optional.empty();
        }
        try {
            JsonNode p = JSON.readTree(json);
            return Optional.of(new Preprocessing(p.get("resize").asInt(), p.get("crop").asInt(), floats(p.get("mean")), floats(p.get("std")),
                    p.path("interpolation").asText("bilinear")));
        } catch (JsonProcessingException | NullPointerException e) {
            throw new ZooException("the model's zoo.preprocessing metadata is malformed: " + json);
        }
    }

    /** Channels, height and width of one input image ({@code zoo.input}, "3x224x224"). */
    public Optional<int[]> input() {
        String s = entries.get("zoo.input");
        if (s == null) {
            return Optional.empty();
        }
        String[] parts = s.split("x");
        if (parts.length != 3) {
            throw new ZooException("the model's zoo.input metadata is malformed: " + s);
        }
        try {
            return Optional.of(new int[] {Integer.parseInt(parts[0]), Integer.parseInt(parts[1]), Integer.parseInt(parts[2])});
        } catch (NumberFormatException e) {
            throw new ZooException("the model's zoo.input metadata is malformed: " + s);
        }
    }

    /** Multiply-accumulates per image ({@code zoo.macs}). */
    public OptionalLong macs() {
        Long v = number("zoo.macs", Long::parseLong);
        return v == null ? OptionalLong.empty() : OptionalLong.of(v);
    }

    /** The number of classes ({@code zoo.classes}). */
    public OptionalInt classes() {
        Integer v = number("zoo.classes", Integer::parseInt);
        return v == null ? OptionalInt.empty() : OptionalInt.of(v);
    }

    private <T> T number(String key, java.util.function.Function<String, T> parse) {
        String s = entries.get(key);
        try {
            return s == null ? null : parse.apply(s);
        } catch (NumberFormatException e) {
            throw new ZooException("the model's " + key + " metadata is malformed: " + s);
        }
    }

    /** The JSON {@code zoo.preprocessing} holds. */
    public static String preprocessingJson(Preprocessing p) {
        try {
            return JSON.writeValueAsString(p.describe());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The text {@code zoo.input} holds: "3x224x224". */
    public static String inputText(int channels, int height, int width) {
        return channels + "x" + height + "x" + width;
    }

    private static float[] floats(JsonNode array) {
        float[] f = new float[array.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) array.get(i).asDouble();
        }
        return f;
    }
}
