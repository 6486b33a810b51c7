package dev.cnnzoo.training.run;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.training.Loss;
import dev.cnnzoo.training.Optimizer;
import dev.cnnzoo.training.data.Augmentation;
import dev.cnnzoo.training.data.Dataset;
import dev.cnnzoo.training.data.Datasets;
import dev.cnnzoo.training.data.Split;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How to train, apart from the network: the data, the optimizer and its learning-rate schedule, the
 * loss, the epochs and batches, the seed of data order and dropout, what to freeze and how to
 * augment. A checkpoint records it ({@link #toProperties()}), so a run resumed from the checkpoint
 * is exactly the run that wrote it. Built with {@link #builder()}; every field has the zoo's default.
 *
 * @param data            the dataset folder (null when the run is given its data in memory)
 * @param limit           use only the first images of each split (0: all)
 * @param warmupSteps     steps of linear learning-rate warm-up (0: none)
 * @param seed            the seed of the data order, augmentation and dropout masks
 * @param freezeUntil     freeze every parameter up to and including this layer (null: none)
 * @param augmentation    the random changes to training images (null: the data format's default)
 * @param checkpointEvery also write a checkpoint every this many steps (0: only at each epoch's end)
 */
public record TrainingJob(Path data, int limit, Optimizer optimizer, double learningRate, Schedule schedule, long warmupSteps, Loss loss,
        int epochs, int batchSize, long seed, String freezeUntil, Augmentation augmentation, int checkpointEvery) {

    public static final int DEFAULT_EPOCHS = 10;
    public static final int DEFAULT_BATCH_SIZE = 64;
    public static final double DEFAULT_LEARNING_RATE = 1e-3;
    public static final int DEFAULT_CHECKPOINT_EVERY = 500;

    public TrainingJob {
        Objects.requireNonNull(optimizer, "optimizer");
        Objects.requireNonNull(schedule, "schedule");
        Objects.requireNonNull(loss, "loss");
        if (epochs < 1) {
            throw new ZooException("epochs must be at least 1, got " + epochs);
        }
        if (batchSize < 1) {
            throw new ZooException("the batch size must be at least 1, got " + batchSize);
        }
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new ZooException("the learning rate must be a positive number, got " + learningRate);
        }
        if (limit < 0) {
            throw new ZooException("the image limit must be 0 (all) or more, got " + limit);
        }
        if (warmupSteps < 0) {
            throw new ZooException("warm-up steps must be 0 or more, got " + warmupSteps);
        }
        if (checkpointEvery < 0) {
            throw new ZooException("the checkpoint interval must be 0 (epoch ends only) or more steps, got " + checkpointEvery);
        }
    }

    /** A job with every default: Nadam at 1e-3, constant rate, 10 epochs of batches of 64, the format's augmentation. */
    public static Builder builder() {
        return new Builder();
    }

    /** {@link #builder()} on the dataset folder {@code data}. */
    public static Builder builder(Path data) {
        return new Builder().data(data);
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.data = data;
        b.limit = limit;
        b.optimizer = optimizer;
        b.learningRate = learningRate;
        b.schedule = schedule;
        b.warmupSteps = warmupSteps;
        b.loss = loss;
        b.epochs = epochs;
        b.batchSize = batchSize;
        b.seed = seed;
        b.freezeUntil = freezeUntil;
        b.augmentation = augmentation;
        b.checkpointEvery = checkpointEvery;
        return b;
    }

    public TrainingJob withEpochs(int e) {
        return toBuilder().epochs(e).build();
    }

    /** The learning rate at every step of this job over a data set of {@code stepsPerEpoch} batches. */
    public LearningRate learningRates(long stepsPerEpoch) {
        return schedule.rates(learningRate, stepsPerEpoch, stepsPerEpoch * epochs).withWarmup(warmupSteps);
    }

    /**
     * The model {@code id} built for this job's data: with the data's class count and image size
     * where {@code asked} leaves them open ({@link #fitToData}).
     */
    public Model buildModel(ModelZoo zoo, String id, ModelConfig asked) {
        if (data == null) {
            return zoo.build(id, asked);
        }
        ModelInfo info = zoo.find(id);
        ModelConfig resolved = asked.resolve(info);
        // Image folders are resized to the model's size; IDX and CIFAR-10 images have the size they have.
        Dataset probe = Datasets.open(data, Split.TRAIN, resolved.inputChannels(), resolved.inputSize()[0],
                Math.max(resolved.inputSize()[0], info.preprocessing().resize()));
        return zoo.build(id, fitToData(asked, probe));
    }

    /** {@code asked} with {@code train}'s class count and image size where it sets none of its own. */
    public static ModelConfig fitToData(ModelConfig asked, Dataset train) {
        Map<String, Object> set = asked.describe();
        ModelConfig.Builder b = asked.toBuilder();
        if (!set.containsKey("classes")) {
            b.classes(train.classes().size());
        }
        if (!set.containsKey("inputChannels") && !set.containsKey("inputSize")) {
            b.input(train.channels(), train.height(), train.width());
        }
        return b.build();
    }

    /** The properties a checkpoint records (beside the model's id and configuration). */
    public Map<String, Object> toProperties() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("data", data == null ? null : data.toString());
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
        m.put("schedule", schedule.text());
        m.put("warmup_steps", warmupSteps);
        m.put("label_smoothing", loss.labelSmoothing());
        m.put("auxiliary_weight", loss.auxiliaryWeight());
        m.put("epochs", epochs);
        m.put("batch_size", batchSize);
        m.put("seed", seed);
        m.put("freeze_until", freezeUntil);
        m.put("augmentation", augmentation == null ? null : augmentation.text());
        m.put("checkpoint_every", checkpointEvery);
        return m;
    }

    /** The job a checkpoint's properties record, as {@link #toProperties()} writes them (and as every earlier zoo wrote them). */
    @SuppressWarnings("unchecked")
    public static TrainingJob fromProperties(Map<String, Object> m) {
        try {
            Map<String, Object> o = (Map<String, Object>) m.get("optimizer");
            Optimizer opt = new Optimizer(Optimizer.Kind.valueOf((String) o.get("kind")), num(o, "momentum"), (Boolean) o.get("nesterov"),
                    num(o, "beta1"), num(o, "beta2"), num(o, "epsilon"), num(o, "weight_decay"), num(o, "momentum_decay"));
            String augmentation = (String) m.get("augmentation");
            String data = (String) m.get("data");
            return new TrainingJob(data == null ? null : Path.of(data), ((Number) m.get("limit")).intValue(), opt, num(m, "learning_rate"),
                    Schedule.parse((String) m.get("schedule")), ((Number) m.get("warmup_steps")).longValue(),
                    new Loss(num(m, "label_smoothing"), num(m, "auxiliary_weight")), ((Number) m.get("epochs")).intValue(),
                    ((Number) m.get("batch_size")).intValue(), ((Number) m.get("seed")).longValue(), (String) m.get("freeze_until"),
                    augmentation == null ? null : Augmentation.parse(augmentation), ((Number) m.get("checkpoint_every")).intValue());
        } catch (ClassCastException | NullPointerException | IllegalArgumentException e) {
            throw new ZooException("the checkpoint's training properties are incomplete or malformed (" + e.getMessage() + ")", e);
        }
    }

    private static double num(Map<String, Object> m, String key) {
        return ((Number) m.get(key)).doubleValue();
    }

    /** A property in which two jobs differ, with each job's value as text. */
    public record Difference(String property, String mine, String theirs) {
        @Override
        public String toString() {
            return property + " (checkpoint: " + mine + ", now: " + theirs + ")";
        }
    }

    /** The properties (as {@link #toProperties()} names them) in which {@code other} differs from this job. */
    public List<Difference> differences(TrainingJob other) {
        Map<String, Object> a = toProperties();
        Map<String, Object> b = other.toProperties();
        List<Difference> out = new ArrayList<>();
        for (String k : a.keySet()) {
            if (!Objects.equals(String.valueOf(a.get(k)), String.valueOf(b.get(k)))) {
                out.add(new Difference(k, display(k, this), display(k, other)));
            }
        }
        return out;
    }

    private static String display(String property, TrainingJob j) {
        return switch (property) {
            case "optimizer" -> j.optimizer.describe();
            case "augmentation" -> j.augmentation == null ? "the data format's default" : j.augmentation.text();
            case "freeze_until" -> j.freezeUntil == null ? "none" : j.freezeUntil;
            default -> String.valueOf(j.toProperties().get(property));
        };
    }

    /** A job, field by field; unset fields keep the zoo's defaults. */
    public static final class Builder {
        private Path data;
        private int limit;
        private Optimizer optimizer = Optimizer.nadam();
        private double learningRate = DEFAULT_LEARNING_RATE;
        private Schedule schedule = Schedule.constant();
        private long warmupSteps;
        private Loss loss = Loss.crossEntropy();
        private int epochs = DEFAULT_EPOCHS;
        private int batchSize = DEFAULT_BATCH_SIZE;
        private long seed;
        private String freezeUntil;
        private Augmentation augmentation;
        private int checkpointEvery = DEFAULT_CHECKPOINT_EVERY;

        private Builder() {
        }

        /** The dataset folder: IDX files, CIFAR-10 batches or a folder of images per class. */
        public Builder data(Path folder) {
            this.data = folder;
            return this;
        }

        public Builder limit(int images) {
            this.limit = images;
            return this;
        }

        public Builder optimizer(Optimizer o) {
            this.optimizer = o;
            return this;
        }

        public Builder learningRate(double lr) {
            this.learningRate = lr;
            return this;
        }

        public Builder schedule(Schedule s) {
            this.schedule = s;
            return this;
        }

        public Builder warmupSteps(long steps) {
            this.warmupSteps = steps;
            return this;
        }

        public Builder loss(Loss l) {
            this.loss = l;
            return this;
        }

        public Builder epochs(int n) {
            this.epochs = n;
            return this;
        }

        public Builder batchSize(int n) {
            this.batchSize = n;
            return this;
        }

        public Builder seed(long s) {
            this.seed = s;
            return this;
        }

        public Builder freezeUntil(String layer) {
            this.freezeUntil = layer;
            return this;
        }

        /** The random changes to training images; null leaves the data format's default. */
        public Builder augmentation(Augmentation a) {
            this.augmentation = a;
            return this;
        }

        public Builder checkpointEvery(int steps) {
            this.checkpointEvery = steps;
            return this;
        }

        public TrainingJob build() {
            return new TrainingJob(data, limit, optimizer, learningRate, schedule, warmupSteps, loss, epochs, batchSize, seed, freezeUntil,
                    augmentation, checkpointEvery);
        }
    }
}
