package dev.cnnzoo.training;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A training run's full state in one safetensors file: every parameter (trainable and frozen) and
 * running statistic by its network name, the optimizer's state ({@code <param>.exp_avg},
 * {@code <param>.exp_avg_sq}, {@code <param>.momentum_buffer}, {@code optimizer.mu_product}), and a
 * property bag (model id, configuration, step, epoch, seed, optimizer, schedule...) as JSON in the
 * file's {@code __metadata__} under {@value #PROPERTIES}. Readable from Python with
 * {@code safetensors.numpy.load_file} and {@code safe_open(...).metadata()}.
 */
public record Checkpoint(Map<String, Tensor> tensors, Map<String, Object> properties) {
    public static final String PROPERTIES = "zoo.checkpoint";
    private static final ObjectMapper JSON = new ObjectMapper();

    public Checkpoint {
        tensors = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        properties = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(properties));
    }

    /**
     * The checkpoint a run starts from: the network's weights and the optimizer's global state at
     * its initial value. The per-parameter optimizer state (moments, momentum) starts at zero and is
     * absent until the first step writes it: a {@link dev.cnnzoo.training.run.StepEngine} starting
     * at step 0 creates it, natively, so a run never holds a Java copy of zeros the size of its
     * weights (1.1 GB for VGG-16's Adam moments).
     */
    public static Checkpoint start(TrainingGraph training, Optimizer optimizer, Weights weights, Map<String, Object> properties) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (String p : training.trainable()) {
            t.put(p, require(weights, p));
        }
        for (String p : training.frozen()) {
            t.put(p, require(weights, p));
        }
        for (String s : training.state()) {
            t.put(s, require(weights, s));
        }
        for (String s : optimizer.globalStateNames()) {
            t.put(s, Tensor.scalar(optimizer.initialGlobal(s)));
        }
        return new Checkpoint(t, properties);
    }

    private static Tensor require(Weights w, String name) {
        Tensor t = w.get(name);
        if (t == null) {
            throw new ZooException("the starting weights lack '" + name + "'");
        }
        return t;
    }

    public long step() {
        return ((Number) properties.getOrDefault("step", 0)).longValue();
    }

    public int epoch() {
        return ((Number) properties.getOrDefault("epoch", 0)).intValue();
    }

    /** The network's weights (parameters and running statistics), without optimizer state. */
    public Weights weights(List<String> names) {
        Map<String, Tensor> w = new LinkedHashMap<>();
        for (String n : names) {
            w.put(n, tensors.get(n));
        }
        return Weights.of(w);
    }

    public Checkpoint with(Map<String, Tensor> newTensors, Map<String, Object> newProperties) {
        return new Checkpoint(newTensors, newProperties);
    }

    /** Writes the checkpoint atomically: a reader never sees a partial file. */
    public void write(Path file) throws IOException {
        Safetensors.write(file, Weights.of(tensors), Map.of(PROPERTIES, JSON.writeValueAsString(properties)));
    }

    public static Checkpoint read(Path file) {
        Safetensors.Contents c = Safetensors.readWithMetadata(file);
        String json = c.metadata().get(PROPERTIES);
        if (json == null) {
            throw new ZooException(file + " is a safetensors file but not a zoo checkpoint (no " + PROPERTIES + " metadata)");
        }
        try {
            Map<String, Object> props = JSON.readValue(json, new TypeReference<LinkedHashMap<String, Object>>() { });
            return new Checkpoint(c.weights().asMap(), props);
        } catch (JsonProcessingException e) {
            throw new ZooException(file + " has unreadable checkpoint properties: " + e.getOriginalMessage());
        }
    }
}
