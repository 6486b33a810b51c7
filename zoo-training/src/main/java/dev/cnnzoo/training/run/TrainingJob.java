package dev.cnnzoo.training.run;

import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.training.Loss;
import dev.cnnzoo.training.Optimizer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything that defines a training run, so a checkpoint can say what it was made by and
 * {@code --resume} can rebuild exactly the same run.
 *
 * @param data         the dataset folder
 * @param limit        use only the first images of each split (0: all)
 * @param freezeUntil  freeze every parameter up to and including this layer (null: none)
 * @param augmentation "none", or a comma list of shift, crop, flip, lighting (null: the format's default)
 */
public record TrainingJob(String modelId, ModelConfig config, String data, int limit, Optimizer optimizer, double learningRate,
        String schedule, long warmupSteps, Loss loss, int epochs, int batchSize, long seed, String freezeUntil, String augmentation,
        int checkpointEvery) {

    public TrainingJob {
        if (epochs < 1) {
            throw new dev.cnnzoo.api.ZooException("epochs must be at least 1, got " + epochs);
        }
        if (batchSize < 1) {
            throw new dev.cnnzoo.api.ZooException("the batch size must be at least 1, got " + batchSize);
        }
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new dev.cnnzoo.api.ZooException("the learning rate must be a positive number, got " + learningRate);
        }
        if (limit < 0 || warmupSteps < 0 || checkpointEvery < 0) {
            throw new dev.cnnzoo.api.ZooException("the image limit, warm-up steps and checkpoint interval must be 0 (none) or more, got "
                    + limit + ", " + warmupSteps + " and " + checkpointEvery);
        }
        Schedule.parse(schedule, learningRate, 1, 1);        // a malformed schedule is refused before anything is written
    }

    public TrainingJob withEpochs(int e) {
        return new TrainingJob(modelId, config, data, limit, optimizer, learningRate, schedule, warmupSteps, loss, e, batchSize, seed,
                freezeUntil, augmentation, checkpointEvery);
    }

    /** The properties a checkpoint records. */
    public Map<String, Object> toProperties() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", modelId);
        m.put("config", config.describe());
        m.put("data", data);
        m.put("limit", limit);
        Map<String, Object> opt = new LinkedHashMap<>();
        opt.put("kind", optimizer.kind().name());
        opt.put("momentum", optimizer.momentum());
        opt.put("nesterov", optimizer.nesterov());
        opt.put("beta1", optimizer.beta1());
        opt.put("beta2", optimizer.beta2());
        opt.put("epsilon", optimizer.epsilon());
        opt.put("weight_decay", optimizer.weightDecay());
        opt.put("momentum_decay", optimizer.momentumDecay());
        opt.put("description", optimizer.describe());
        m.put("optimizer", opt);
        m.put("learning_rate", learningRate);
        m.put("schedule", schedule);
        m.put("warmup_steps", warmupSteps);
        m.put("label_smoothing", loss.labelSmoothing());
        m.put("auxiliary_weight", loss.auxiliaryWeight());
        m.put("epochs", epochs);
        m.put("batch_size", batchSize);
        m.put("seed", seed);
        m.put("freeze_until", freezeUntil);
        m.put("augmentation", augmentation);
        m.put("checkpoint_every", checkpointEvery);
        return m;
    }

    @SuppressWarnings("unchecked")
    public static TrainingJob fromProperties(Map<String, Object> m) {
        Map<String, Object> o = (Map<String, Object>) m.get("optimizer");
        Optimizer opt = new Optimizer(Optimizer.Kind.valueOf((String) o.get("kind")), num(o, "momentum"), (Boolean) o.get("nesterov"),
                num(o, "beta1"), num(o, "beta2"), num(o, "epsilon"), num(o, "weight_decay"), num(o, "momentum_decay"));
        return new TrainingJob((String) m.get("model"), ModelConfig.fromDescription((Map<String, Object>) m.get("config")),
                (String) m.get("data"), ((Number) m.get("limit")).intValue(), opt, num(m, "learning_rate"), (String) m.get("schedule"),
                ((Number) m.get("warmup_steps")).longValue(), new Loss(num(m, "label_smoothing"), num(m, "auxiliary_weight")),
                ((Number) m.get("epochs")).intValue(), ((Number) m.get("batch_size")).intValue(), ((Number) m.get("seed")).longValue(),
                (String) m.get("freeze_until"), (String) m.get("augmentation"), ((Number) m.get("checkpoint_every")).intValue());
    }

    private static double num(Map<String, Object> m, String key) {
        return ((Number) m.get(key)).doubleValue();
    }

    /** Differences in what defines the run (epochs may grow on resume); empty when compatible. */
    public List<String> conflictsWith(TrainingJob other) {
        Map<String, Object> a = toProperties();
        Map<String, Object> b = other.toProperties();
        a.remove("epochs");
        b.remove("epochs");
        a.remove("checkpoint_every");
        b.remove("checkpoint_every");
        return a.keySet().stream().filter(k -> !java.util.Objects.equals(String.valueOf(a.get(k)), String.valueOf(b.get(k))))
                .map(k -> k + " (checkpoint: " + a.get(k) + ", now: " + b.get(k) + ")").toList();
    }
}
