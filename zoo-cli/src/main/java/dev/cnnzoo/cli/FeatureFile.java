package dev.cnnzoo.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.FeatureStage;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.io.AtomicFile;
import dev.cnnzoo.runtime.predict.FeatureExtractor;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Where {@code zoo predict --features -o FILE} writes the vectors: CSV or safetensors, by the file's extension. */
record FeatureFile(Path path, boolean csv) {
    /** The safetensors tensor holding the vectors, images × maps. */
    static final String TENSOR = "features";
    /** The safetensors metadata entry listing the images, in the tensor's row order (JSON). */
    static final String IMAGES = "zoo.images";

    static FeatureFile of(Path path) {
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".csv")) {
            return new FeatureFile(path, true);
        }
        if (name.endsWith(".safetensors")) {
            return new FeatureFile(path, false);
        }
        throw new ZooException("--output " + path + ": feature vectors are written as .csv or .safetensors");
    }

    /** Writes the vectors (atomically: the file appears whole or not at all). */
    void write(List<FeatureExtractor.Features> vectors, Model model, FeatureStage stage) throws IOException {
        if (csv) {
            StringWriter text = new StringWriter();
            try (PrintWriter w = new PrintWriter(text)) {
                csv(w, vectors);
            }
            AtomicFile.write(path, text.toString().getBytes(StandardCharsets.UTF_8));
            return;
        }
        int channels = stage.channels();
        float[] all = new float[vectors.size() * channels];
        for (int i = 0; i < vectors.size(); i++) {
            System.arraycopy(vectors.get(i).vector(), 0, all, i * channels, channels);
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put(IMAGES, new ObjectMapper().writeValueAsString(vectors.stream().map(v -> v.input().name()).toList()));
        metadata.put("zoo.id", model.id());
        metadata.put("zoo.stage", stage.name() + " (" + stage.layer() + ", reduction " + stage.reduction() + "), averaged over positions");
        Safetensors.write(path, Weights.of(Map.of(TENSOR, Tensor.of(Shape.of(vectors.size(), channels), all))), metadata);
    }

    /** A header {@code image,f0,f1,...}, then a row per image. */
    static void csv(PrintWriter out, List<FeatureExtractor.Features> vectors) {
        int channels = vectors.isEmpty() ? 0 : vectors.get(0).vector().length;
        StringBuilder header = new StringBuilder("image");
        for (int c = 0; c < channels; c++) {
            header.append(",f").append(c);
        }
        out.println(header);
        for (FeatureExtractor.Features v : vectors) {
            out.println(PredictCommand.quote(v.input().name()) + "," + join(v.vector(), ","));
        }
    }

    /** The values as Java prints floats: the shortest text that reads back to the same float. */
    static String join(float[] values, String separator) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < values.length; i++) {
            if (i > 0) {
                sb.append(separator);
            }
            sb.append(values[i]);
        }
        return sb.toString();
    }
}
