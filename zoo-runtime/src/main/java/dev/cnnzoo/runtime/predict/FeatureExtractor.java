package dev.cnnzoo.runtime.predict;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.FeatureStage;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.runtime.ZooSessions;
import dev.cnnzoo.runtime.image.ImageTransform;
import dev.cnnzoo.weights.Weights;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns images into feature vectors with a zoo model built for its features only
 * ({@link dev.cnnzoo.api.ModelConfig#featuresOnly()}): each image goes through the model's
 * preprocessing, the images run in batches, and each image's last feature stage is averaged over
 * its positions, one value per map: Keras's {@code include_top=False, pooling="avg"}, timm's
 * {@code forward_features} followed by global average pooling.
 */
public final class FeatureExtractor implements AutoCloseable {
    /** An image's feature vector: one value per map of the pooled stage. */
    public record Features(Predictor.Input input, float[] vector) {
    }

    private final Model model;
    private final InferenceSession session;
    private final ImageTransform transform;
    private final FeatureStage stage;
    private final int batch;

    private FeatureExtractor(Model model, InferenceSession session, ImageTransform transform, FeatureStage stage, int batch) {
        this.model = model;
        this.session = session;
        this.transform = transform;
        this.stage = stage;
        this.batch = batch;
    }

    /**
     * Opens {@code model}, which must be built for its features only, with {@code weights}; the
     * vectors pool its last stage (the last of the out indices, when it was built with some).
     *
     * @param batch images per run
     */
    public static FeatureExtractor open(Model model, Weights weights, RuntimeOptions options, int batch) {
        if (!model.graph().outputsFeatureStages()) {
            throw new ZooException(model.id() + " is not built for its features only; feature vectors pool its last feature stage");
        }
        if (batch < 1) {
            throw new ZooException("the batch size must be at least 1, got " + batch);
        }
        List<FeatureStage> stages = model.graph().featureStages();
        return new FeatureExtractor(model, ZooSessions.open(model, weights, options), ImageTransform.forModel(model),
                stages.get(stages.size() - 1), batch);
    }

    public ImageTransform transform() {
        return transform;
    }

    /** The stage the vectors pool. */
    public FeatureStage stage() {
        return stage;
    }

    /** Each image's feature vector, in the order given. */
    public List<Features> extract(List<Predictor.Input> inputs) {
        List<Features> out = new ArrayList<>();
        ImageBatches.forEach(transform, inputs, batch, (chunk, pixels) -> {
            Tensor maps = session.run(Map.of(session.inputs().get(0).name(), pixels), Set.of(stage.name())).get(stage.name());
            float[] pooled = globalAverage(maps);
            int channels = maps.shape().dim(1);
            for (int i = 0; i < chunk.size(); i++) {
                out.add(new Features(chunk.get(i), java.util.Arrays.copyOfRange(pooled, i * channels, (i + 1) * channels)));
            }
        });
        return out;
    }

    /** The mean of each N×C map over its positions, N×C values; summed in double so a 112×112 map loses nothing. */
    static float[] globalAverage(Tensor maps) {
        float[] a = maps.floats();
        int rows = maps.shape().dim(0) * maps.shape().dim(1);
        int positions = a.length / rows;
        float[] out = new float[rows];
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            for (int p = 0; p < positions; p++) {
                sum += a[r * positions + p];
            }
            out[r] = (float) (sum / positions);
        }
        return out;
    }

    @Override
    public void close() {
        session.close();
    }
}
