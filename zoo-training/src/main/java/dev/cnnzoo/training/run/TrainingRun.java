package dev.cnnzoo.training.run;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.training.Checkpoint;
import dev.cnnzoo.training.TrainingArtifacts;
import dev.cnnzoo.training.data.Dataset;
import dev.cnnzoo.weights.Weights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A training run in its folder: the network, the {@link TrainingJob}, and where it stands. A new
 * run {@link #start}s in a folder that holds none; a run {@link #resume}s from the checkpoint in its
 * folder, which records the model's id and configuration and the job, so nothing but the folder is
 * needed to go on. A {@link Trainer} runs it. Immutable: the {@code with...} methods return copies.
 */
public final class TrainingRun {
    private final Path dir;
    private final Model model;
    private final TrainingJob job;
    private final Checkpoint checkpoint;
    private final Weights initial;
    private final Dataset train;
    private final Dataset test;

    private TrainingRun(Path dir, Model model, TrainingJob job, Checkpoint checkpoint, Weights initial, Dataset train, Dataset test) {
        this.dir = Objects.requireNonNull(dir, "dir");
        this.model = Objects.requireNonNull(model, "model");
        this.job = Objects.requireNonNull(job, "job");
        this.checkpoint = checkpoint;
        this.initial = initial;
        this.train = train;
        this.test = test;
    }

    /**
     * A new run of {@code model} as {@code job} says, writing to {@code dir}; it starts from the
     * model's seeded initial weights unless {@link #startingFrom} says otherwise.
     *
     * @throws TrainingRunExistsException when {@code dir} holds a run already
     */
    public static TrainingRun start(Path dir, Model model, TrainingJob job) {
        if (holdsRun(dir)) {
            throw new TrainingRunExistsException(dir);
        }
        return new TrainingRun(dir, model, job, null, null, null, null);
    }

    /** Whether {@code dir} holds a training run (its checkpoint). */
    public static boolean holdsRun(Path dir) {
        return Files.exists(dir.resolve(TrainingArtifacts.CHECKPOINT));
    }

    /** The run in {@code dir}, its model built by the zoo of the class path. */
    public static TrainingRun resume(Path dir) {
        return resume(dir, ModelZoo.load());
    }

    /** The run in {@code dir}, its model (id and configuration from the checkpoint) built by {@code zoo}. */
    public static TrainingRun resume(Path dir, ModelZoo zoo) {
        return read(dir.resolve(TrainingArtifacts.CHECKPOINT), dir, zoo);
    }

    /**
     * The run in {@code dir}, after checking that {@code model} and {@code job} made it: an
     * application that rebuilds its job each time resumes this way. The job may ask for more epochs
     * than the run had, and checkpoint at another interval; anything else that differs is an error.
     */
    public static TrainingRun resume(Path dir, Model model, TrainingJob job) {
        Checkpoint c = readCheckpoint(dir.resolve(TrainingArtifacts.CHECKPOINT), dir);
        Recorded r = recorded(c, dir.resolve(TrainingArtifacts.CHECKPOINT));
        List<String> conflicts = new ArrayList<>();
        if (!r.id().equals(model.id()) || !sameConfig(model, r.config())) {
            conflicts.add("model (checkpoint: " + r.id() + " " + r.config().describe() + ", now: " + model.id() + " " + model.config().describe()
                    + ")");
        }
        r.job().differences(job).stream().filter(d -> !d.property().equals("checkpoint_every") && !d.property().equals("epochs"))
                .forEach(d -> conflicts.add(d.toString()));
        if (!conflicts.isEmpty()) {
            throw new ZooException("the checkpoint in " + dir + " was made by another run: " + String.join("; ", conflicts));
        }
        TrainingRun run = new TrainingRun(dir, model, r.job().toBuilder().checkpointEvery(job.checkpointEvery()).build(), c, null, null, null);
        return job.epochs() > run.job.epochs() ? run.withEpochs(job.epochs()) : run;
    }

    /**
     * The run whose checkpoint is {@code checkpointOrDir} (a run's folder or its checkpoint file),
     * read to evaluate or inspect it; its model is built by {@code zoo}.
     */
    public static TrainingRun read(Path checkpointOrDir, ModelZoo zoo) {
        boolean isDir = Files.isDirectory(checkpointOrDir);
        Path file = isDir ? checkpointOrDir.resolve(TrainingArtifacts.CHECKPOINT) : checkpointOrDir;
        Path dir = isDir ? checkpointOrDir : checkpointOrDir.toAbsolutePath().getParent();
        return read(file, dir, zoo);
    }

    private static TrainingRun read(Path file, Path dir, ModelZoo zoo) {
        Checkpoint c = readCheckpoint(file, dir);
        Recorded r = recorded(c, file);
        return new TrainingRun(dir, zoo.build(r.id(), r.config()), r.job(), c, null, null, null);
    }

    /**
     * The run that {@code properties} describe (another process's run, as its {@link #properties()}
     * gave them), going on from the checkpoint in {@code dir}: how each replica of a data-parallel run
     * rebuilds the run it was handed, its model built by {@code zoo}. The checkpoint gives where the
     * run stands; the properties say what the run is, so a run lengthened since its last checkpoint
     * stays lengthened.
     */
    public static TrainingRun fromProperties(Path dir, Map<String, Object> properties, ModelZoo zoo) {
        Path file = dir.resolve(TrainingArtifacts.CHECKPOINT);
        Checkpoint c = readCheckpoint(file, dir);
        Recorded r = recorded(properties, "the run's properties");
        return new TrainingRun(dir, zoo.build(r.id(), r.config()), r.job(), c, null, null, null);
    }

    private static Checkpoint readCheckpoint(Path file, Path dir) {
        if (!Files.exists(file)) {
            throw new ZooException(Files.isDirectory(dir) ? dir + " holds no training checkpoint (" + TrainingArtifacts.CHECKPOINT + ")"
                    : "no training checkpoint at " + file);
        }
        return Checkpoint.read(file);
    }

    /** What a checkpoint says made it. */
    private record Recorded(String id, ModelConfig config, TrainingJob job) {
    }

    private static Recorded recorded(Checkpoint c, Path file) {
        return recorded(c.properties(), file + " is a checkpoint that");
    }

    /** The model and job that {@code p} record; {@code what} names them in the error when the model's id and configuration are missing. */
    @SuppressWarnings("unchecked")
    private static Recorded recorded(Map<String, Object> p, String what) {
        if (!(p.get("model") instanceof String id) || !(p.get("config") instanceof Map<?, ?> config)) {
            throw new ZooException(what + " lacks the model's id and configuration");
        }
        return new Recorded(id, ModelConfig.fromDescription((Map<String, Object>) config), TrainingJob.fromProperties(p));
    }

    /** Whether {@code model} is built with {@code recorded} (a configuration as set, or as resolved). */
    private static boolean sameConfig(Model model, ModelConfig recorded) {
        try {
            return recorded.resolve(model.info()).describe().equals(model.config().describe());
        } catch (ZooException e) {
            return false;
        }
    }

    /** Starts a new run from {@code weights} (fine-tuning) instead of the model's seeded initial ones. */
    public TrainingRun startingFrom(Weights weights) {
        if (checkpoint != null) {
            throw new IllegalStateException("a resumed run continues from its checkpoint");
        }
        return new TrainingRun(dir, model, job, null, weights, train, test);
    }

    /**
     * Trains on these datasets (held in memory, say) instead of the job's data folder; {@code test}
     * may be null. A resumed run must be given the same data again.
     */
    public TrainingRun withData(Dataset trainData, Dataset testData) {
        return new TrainingRun(dir, model, job, checkpoint, initial, Objects.requireNonNull(trainData, "train"), testData);
    }

    /**
     * The run lengthened to {@code epochs} (the learning-rate schedule then spans the new length).
     *
     * @throws ZooException when {@code epochs} is fewer than the run's
     */
    public TrainingRun withEpochs(int epochs) {
        if (epochs < job.epochs()) {
            throw new ZooException("a run of " + job.epochs() + " epochs can be lengthened, not shortened to " + epochs);
        }
        return new TrainingRun(dir, model, job.withEpochs(epochs), checkpoint, initial, train, test);
    }

    /** The run writing checkpoints every {@code steps} steps (0: at epoch ends only); the weights do not depend on it. */
    public TrainingRun withCheckpointEvery(int steps) {
        return new TrainingRun(dir, model, job.toBuilder().checkpointEvery(steps).build(), checkpoint, initial, train, test);
    }

    /**
     * The run with its folder and its job's data folder as absolute paths, for processes whose
     * working folder is another (Spark's executors); checkpoints from here on record the absolute
     * data folder.
     */
    public TrainingRun withAbsolutePaths() {
        TrainingJob absolute = job.data() == null ? job : job.toBuilder().data(job.data().toAbsolutePath().normalize()).build();
        return new TrainingRun(dir.toAbsolutePath().normalize(), model, absolute, checkpoint, initial, train, test);
    }

    public Path dir() {
        return dir;
    }

    public Model model() {
        return model;
    }

    public TrainingJob job() {
        return job;
    }

    /** Whether the run continues from a checkpoint. */
    public boolean resumed() {
        return checkpoint != null;
    }

    /** Steps taken so far. */
    public long step() {
        return checkpoint == null ? 0 : checkpoint.step();
    }

    /** Epochs completed so far. */
    public int epochsDone() {
        return checkpoint == null ? 0 : checkpoint.epoch();
    }

    /** Whether every epoch is done and the trained network written: going on would overwrite it. */
    public boolean finished() {
        return epochsDone() >= job.epochs() && Files.exists(dir.resolve(Trainer.MODEL_FILE)) && Files.exists(dir.resolve(Trainer.WEIGHTS_FILE));
    }

    /** The network's weights (parameters and running statistics) at the checkpoint, or the starting weights of a new run. */
    public Weights weights() {
        if (checkpoint != null) {
            return checkpoint.weights(List.copyOf(model.graph().parameters().keySet()));
        }
        return initial != null ? initial : Weights.initial(model.graph(), model.config().seed());
    }

    /**
     * What a checkpoint of this run records beside the tensors: the model's id and configuration,
     * then the job's properties ({@link TrainingJob#toProperties()}). A fresh map.
     */
    public Map<String, Object> properties() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model.id());
        m.put("config", model.config().describe());
        m.putAll(job.toProperties());
        return m;
    }

    /**
     * The properties of this run's checkpoint at {@code step}, {@code epoch} epochs done: {@link
     * #properties()}, where the run stands, and the running figures of the epoch under way (so that a
     * run resumed mid-epoch reports the epoch as an uninterrupted run would).
     */
    public Map<String, Object> checkpointProperties(int epoch, long step, double epochLossSum, long epochCorrect, long epochSeen) {
        Map<String, Object> props = properties();
        props.put("epoch", epoch);
        props.put("step", step);
        props.put("epoch_loss_sum", epochLossSum);
        props.put("epoch_correct", epochCorrect);
        props.put("epoch_seen", epochSeen);
        return props;
    }

    /** The checkpoint a resumed run goes on from (null for a new run). */
    public Checkpoint checkpoint() {
        return checkpoint;
    }

    Dataset train() {
        return train;
    }

    Dataset test() {
        return test;
    }
}
