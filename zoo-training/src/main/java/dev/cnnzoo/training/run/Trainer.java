package dev.cnnzoo.training.run;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Parameter;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.ModelExporter;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.training.Checkpoint;
import dev.cnnzoo.training.TrainingArtifacts;
import dev.cnnzoo.training.TrainingGraph;
import dev.cnnzoo.training.TrainingSpec;
import dev.cnnzoo.training.data.Augmentation;
import dev.cnnzoo.training.data.BatchLoader;
import dev.cnnzoo.training.data.Dataset;
import dev.cnnzoo.training.data.Datasets;
import dev.cnnzoo.training.data.Split;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Trains a network on a dataset through its training artifacts: batches from a background loader,
 * one fused train-and-update run per step, the learning rate from the schedule, checkpoints written
 * atomically every N steps and at each epoch's end, metrics as JSON lines and a PNG learning curve,
 * evaluation on the test split after each epoch, and the trained network exported as an inference
 * ONNX model at the end. A run resumed from its checkpoint takes the same steps, learning rates,
 * batches and dropout masks as an uninterrupted one and ends with the same weights.
 *
 * <pre>{@code
 * Model model = job.buildModel(ModelZoo.load(), "lenet5", ModelConfig.defaults());
 * Trainer.Outcome o = new Trainer().train(TrainingRun.start(Path.of("runs/lenet5"), model, job));
 * ... later, or after a crash:
 * new Trainer().train(TrainingRun.resume(Path.of("runs/lenet5")));
 * }</pre>
 */
public final class Trainer {
    public static final String MODEL_FILE = "model.onnx";
    public static final String WEIGHTS_FILE = "weights.safetensors";
    /** The weights file's metadata entry naming the classes by output index (a JSON array), for {@code zoo predict}. */
    public static final String LABELS_METADATA = dev.cnnzoo.runtime.predict.ClassNames.WEIGHTS_METADATA;
    public static final String METRICS_FILE = "metrics.jsonl";
    public static final String CURVE_FILE = "learning_curve.png";

    /**
     * How to run, as opposed to what to train (which {@link TrainingJob} says): none of it changes
     * the weights a run ends with.
     *
     * @param logEvery      write a metrics line every this many steps
     * @param loaderThreads background threads preparing batches
     * @param activations   keep every activation for the backward pass, or recompute the cheap ones
     *                      (less memory, a little more time; the same weights)
     */
    public record Settings(RuntimeOptions runtime, StepEngine.Mode mode, int logEvery, int loaderThreads, TrainingGraph.Activations activations) {
        public Settings {
            java.util.Objects.requireNonNull(runtime, "runtime");
            java.util.Objects.requireNonNull(mode, "mode");
            java.util.Objects.requireNonNull(activations, "activations");
            if (logEvery < 1 || loaderThreads < 1) {
                throw new IllegalArgumentException("logEvery and loaderThreads must be at least 1");
            }
        }

        /** Activations kept or recomputed as {@link TrainingGraph.Activations#DEFAULT} says. */
        public Settings(RuntimeOptions runtime, StepEngine.Mode mode, int logEvery, int loaderThreads) {
            this(runtime, mode, logEvery, loaderThreads, TrainingGraph.Activations.DEFAULT);
        }

        /** The CPU with ONNX Runtime's threads, the fused step, a metrics line every 20 steps, two loader threads, {@link TrainingGraph.Activations#DEFAULT}. */
        public static Settings defaults() {
            return new Settings(RuntimeOptions.cpu(), StepEngine.Mode.FUSED, 20, 2);
        }

        public Settings runtime(RuntimeOptions r) {
            return new Settings(r, mode, logEvery, loaderThreads, activations);
        }

        public Settings mode(StepEngine.Mode m) {
            return new Settings(runtime, m, logEvery, loaderThreads, activations);
        }

        public Settings activations(TrainingGraph.Activations a) {
            return new Settings(runtime, mode, logEvery, loaderThreads, a);
        }
    }

    /** Where a step stands, for progress displays. */
    public record Progress(int epoch, int epochs, long step, long stepInEpoch, long stepsPerEpoch, double loss, double accuracy,
            double learningRate, double imagesPerSecond) {
    }

    /** An epoch's figures; test figures are null without a test split. */
    public record EpochSummary(int epoch, long step, double trainLoss, double trainAccuracy, Double testLoss, Double testAccuracy,
            double seconds, double imagesPerSecond) {
    }

    /** Callbacks for a user interface. */
    public interface Listener {
        /** Before the first step; {@code run.step()} is where a resumed run goes on from. */
        default void started(TrainingRun run, Dataset train, Dataset test, long stepsPerEpoch) {
        }

        default void step(Progress p) {
        }

        default void epoch(EpochSummary s) {
        }
    }

    /** What a run produced. */
    public record Outcome(List<EpochSummary> epochs, long steps, Path model, Path weights, Weights trained) {
    }

    private final Settings settings;

    /** A trainer with {@link Settings#defaults()}. */
    public Trainer() {
        this(Settings.defaults());
    }

    public Trainer(Settings settings) {
        this.settings = java.util.Objects.requireNonNull(settings, "settings");
    }

    /** Trains {@code model} as {@code job} says in a new run in {@code dir}. */
    public Outcome train(Model model, TrainingJob job, Path dir) throws IOException {
        return train(TrainingRun.start(dir, model, job));
    }

    public Outcome train(TrainingRun run) throws IOException {
        return train(run, new Listener() { });
    }

    /**
     * Runs {@code run} to its last epoch and writes the trained network.
     *
     * @throws TrainingRunExistsException  when a new run's folder holds a run already
     * @throws TrainingFinishedException   when a resumed run has done its epochs and written its network
     * @throws DataMismatchException       when the model is built for other images or classes than the data has
     * @throws TrainingDivergedException   when the loss becomes NaN, infinite or explodes
     */
    public Outcome train(TrainingRun run, Listener listener) throws IOException {
        Setup s = setUp(run, settings.activations());
        Model model = run.model();
        TrainingJob job = run.job();
        Path out = run.dir();
        try (BatchLoader trainLoader = new BatchLoader(s.train(), model.info().preprocessing(), s.augmentation(), job.batchSize(), job.seed(),
                settings.loaderThreads());
                BatchLoader testLoader = s.test() == null ? null : new BatchLoader(s.test(), model.info().preprocessing(), Augmentation.none(),
                        job.batchSize(), job.seed(), settings.loaderThreads());
                StepEngine engine = new StepEngine(s.artifacts(), s.start(), settings.runtime(), settings.mode(), job.seed());
                MetricsLog metrics = new MetricsLog(out.resolve(METRICS_FILE), s.start().step())) {
            // The set-up's garbage (the training graphs and their protobuf copies: Inception-v3's heap held
            // 90 MB resident through its steps, 32 MB of it live) goes now: the steps make too little
            // garbage for another full collection, and after this one a heap that gives free memory
            // back (the zoo launcher's options) does.
            System.gc();
            long stepsPerEpoch = trainLoader.batchesPerEpoch();
            listener.started(run, s.train(), s.test(), stepsPerEpoch);
            String title = model.id() + " on " + (job.data() != null ? job.data().getFileName() : s.train().description());
            Run r = new Run(run, settings, listener, title, engine, metrics, s.start(), job.learningRates(stepsPerEpoch), stepsPerEpoch);
            List<EpochSummary> summaries = r.epochs(trainLoader, testLoader);
            Weights trained = networkWeights(model, engine);
            writeTrained(run, trained, s.train().classes());
            return new Outcome(summaries, engine.stepsTaken(), out.resolve(MODEL_FILE), out.resolve(WEIGHTS_FILE), trained);
        }
    }

    /**
     * A run checked and ready for its first step.
     *
     * @param train        the training images (the job's limit applied)
     * @param test         the test images, or null without a test split
     * @param augmentation the job's, else the data format's default for a data folder (none for data given in memory)
     * @param start        the checkpoint the steps go on from
     */
    public record Setup(Dataset train, Dataset test, Augmentation augmentation, TrainingArtifacts artifacts, Checkpoint start) {
    }

    /**
     * Everything {@link #train} does before the first step: checks the run and its folder, opens its
     * data and checks that the model fits it, generates the training artifacts and, for a new run,
     * writes them with the starting checkpoint into the run's folder (made only once every check has
     * passed, so a refused run leaves the folder free for a retry). Data-parallel training calls this
     * on each replica, so that every replica trains exactly the run this trainer would.
     *
     * @param activations kept for the backward pass, or the cheap ones recomputed (the settings' choice)
     * @throws TrainingRunExistsException  when a new run's folder holds a run already
     * @throws TrainingFinishedException   when a resumed run has done its epochs and written its network
     * @throws DataMismatchException       when the model is built for other images or classes than the data has
     */
    public static Setup setUp(TrainingRun run, TrainingGraph.Activations activations) throws IOException {
        Path out = run.dir();
        Model model = run.model();
        TrainingJob job = run.job();
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new ZooException("the output folder " + out + " exists and is not a folder");
        }
        // A run killed mid-write left a temporary file; its process is gone, so it goes now. (The
        // folder itself is made when the first file is written, after every check has passed.)
        dev.cnnzoo.io.AtomicFile.removeStale(out);
        if (!run.resumed() && TrainingRun.holdsRun(out)) {
            throw new TrainingRunExistsException(out);
        }
        if (run.finished()) {
            throw new TrainingFinishedException(out, job.epochs(), run.step());
        }
        Dataset train = run.train();
        Dataset test = run.test();
        Augmentation defaultAugmentation = Augmentation.none();
        if (train == null) {
            if (job.data() == null) {
                throw new ZooException("the job names no data folder and the run was given no datasets (TrainingRun.withData)");
            }
            Datasets.Format format = Datasets.detect(job.data());
            int[] size = model.config().inputSize();
            train = Datasets.open(job.data(), Split.TRAIN, model.config().inputChannels(), size[0], resizeFor(model));
            test = Datasets.open(job.data(), Split.TEST, model.config().inputChannels(), size[0], resizeFor(model));
            defaultAugmentation = Augmentation.defaultFor(format);
        }
        if (job.limit() > 0) {
            train = train.limit(job.limit());
            test = test == null ? null : test.limit(job.limit());
        }
        checkFits(model, train);
        if (train.size() < job.batchSize()) {              // before any file is written: the folder stays free for a retry
            throw new ZooException(train.description() + " has " + train.size() + " images, fewer than one batch of " + job.batchSize());
        }

        Set<String> frozen = job.freezeUntil() == null ? Set.of() : TrainingGraph.parametersUpTo(model.graph(), job.freezeUntil());
        TrainingSpec spec = new TrainingSpec(job.loss(), job.optimizer(), frozen, activations);
        TrainingArtifacts artifacts = TrainingArtifacts.generate(model, spec);
        Files.createDirectories(out);       // only once the data and the model are known to fit
        Checkpoint checkpoint = run.checkpoint();
        if (checkpoint == null) {
            Map<String, Object> props = run.properties();
            props.put("epoch", 0);
            props.put("step", 0);
            checkpoint = Checkpoint.start(artifacts.training(), job.optimizer(), run.weights(), props);
            artifacts.write(out, checkpoint);
        }
        Augmentation augmentation = job.augmentation() != null ? job.augmentation() : defaultAugmentation;
        return new Setup(train, test, augmentation, artifacts, checkpoint);
    }

    /**
     * Writes what a finished run leaves in its folder: the trained network as an inference ONNX
     * model ({@value #MODEL_FILE}) and its weights ({@value #WEIGHTS_FILE}, with the model's id and
     * configuration and the names of {@code classes} in the metadata, for {@code zoo predict}).
     */
    public static void writeTrained(TrainingRun run, Weights trained, List<String> classes) throws IOException {
        Model model = run.model();
        ModelExporter.write(model, trained, run.dir().resolve(MODEL_FILE), ExportOptions.defaults());
        Safetensors.write(run.dir().resolve(WEIGHTS_FILE), trained, Map.of("zoo.id", model.id(), "zoo.config",
                String.valueOf(model.config().describe()), LABELS_METADATA, new com.fasterxml.jackson.databind.ObjectMapper()
                        .writeValueAsString(classes)));
    }

    /**
     * Stops a run whose loss at {@code step} is NaN, infinite or exploding, naming the last good
     * checkpoint (from step {@code lastSaved}), which is kept.
     *
     * @throws TrainingDivergedException when it is
     */
    public static void checkLoss(TrainingRun run, double loss, long step, int epoch, long lastSaved) {
        // Cross-entropy starts near ln K; a hundred times that means the run has blown up.
        double explosion = 100 * Math.max(1, Math.log(run.model().config().classes()));
        if (Double.isFinite(loss) && loss <= explosion) {
            return;
        }
        String what = Double.isNaN(loss) ? "NaN" : Double.isInfinite(loss) ? "infinite" : "exploding (" + loss + ")";
        throw new TrainingDivergedException("the loss became " + what + " at step " + step + " (epoch " + (epoch + 1) + "); training stopped."
                + " The last good checkpoint, from step " + lastSaved + ", is kept in " + run.dir().resolve(TrainingArtifacts.CHECKPOINT) + ".");
    }

    /** The network's own tensors (parameters and running statistics) from the engine. */
    static Weights networkWeights(Model model, StepEngine engine) {
        Map<String, Tensor> all = engine.snapshot();
        Map<String, Tensor> w = new LinkedHashMap<>();
        for (Parameter p : model.graph().parameters().values()) {
            w.put(p.name(), all.get(p.name()));
        }
        return Weights.of(w);
    }

    /** Image folders resize their shorter side as the model's preprocessing says (256 for 224 crops). */
    static int resizeFor(Model model) {
        return Math.max(model.config().inputSize()[0], model.info().preprocessing().resize() * model.config().inputSize()[0]
                / Math.max(1, model.info().preprocessing().crop()));
    }

    private static void checkFits(Model model, Dataset data) {
        int[] size = model.config().inputSize();
        if (data.channels() != model.config().inputChannels() || data.height() != size[0] || data.width() != size[1]) {
            throw new DataMismatchException(DataMismatchException.Aspect.INPUT, data.description() + " has " + data.channels() + "×"
                    + data.height() + "×" + data.width() + " images but " + model.id() + " is built for " + model.config().inputChannels() + "×"
                    + size[0] + "×" + size[1], data.channels() + "x" + data.height() + "x" + data.width());
        }
        int classes = data.classes().size();
        if (model.config().classes() != classes) {
            throw new DataMismatchException(DataMismatchException.Aspect.CLASSES, data.description() + " has " + classes + " classes but "
                    + model.id() + " is built for " + model.config().classes(), Integer.toString(classes));
        }
    }

    /** The state of one run through its epochs. */
    private static final class Run {
        private final TrainingRun run;
        private final TrainingJob job;
        private final Settings settings;
        private final Listener listener;
        private final String title;
        private final StepEngine engine;
        private final MetricsLog metrics;
        private final LearningRate schedule;
        private final long stepsPerEpoch;
        private Checkpoint lastSaved;
        private double epochLoss;
        private long epochCorrect;
        private long epochSeen;

        Run(TrainingRun run, Settings settings, Listener listener, String title, StepEngine engine, MetricsLog metrics, Checkpoint start,
                LearningRate schedule, long stepsPerEpoch) {
            this.run = run;
            this.job = run.job();
            this.settings = settings;
            this.listener = listener;
            this.title = title;
            this.engine = engine;
            this.metrics = metrics;
            this.schedule = schedule;
            this.stepsPerEpoch = stepsPerEpoch;
            this.lastSaved = start;
            Map<String, Object> p = start.properties();
            this.epochLoss = ((Number) p.getOrDefault("epoch_loss_sum", 0.0)).doubleValue();
            this.epochCorrect = ((Number) p.getOrDefault("epoch_correct", 0)).longValue();
            this.epochSeen = ((Number) p.getOrDefault("epoch_seen", 0)).longValue();
        }

        List<EpochSummary> epochs(BatchLoader trainLoader, BatchLoader testLoader) throws IOException {
            List<EpochSummary> summaries = new ArrayList<>();
            int firstEpoch = (int) (engine.stepsTaken() / stepsPerEpoch);
            for (int epoch = firstEpoch; epoch < job.epochs(); epoch++) {
                long started = System.nanoTime();
                long imagesAtStart = epochSeen;
                int firstBatch = (int) (engine.stepsTaken() - (long) epoch * stepsPerEpoch);
                long windowStart = System.nanoTime();
                long windowImages = 0;
                Iterator<BatchLoader.Batch> batches = trainLoader.training(epoch, firstBatch);
                while (batches.hasNext()) {
                    BatchLoader.Batch b = batches.next();
                    long step = engine.stepsTaken() + 1;
                    double lr = schedule.at(step);
                    StepEngine.StepResult r = engine.step(b.images(), b.labels(), lr);
                    checkLoss(run, r.loss(), step, epoch, lastSaved.step());
                    epochLoss += r.loss() * r.batch();
                    epochCorrect += r.correct();
                    epochSeen += r.batch();
                    windowImages += r.batch();
                    double rate = windowImages / ((System.nanoTime() - windowStart) / 1e9);
                    listener.step(new Progress(epoch, job.epochs(), step, step - (long) epoch * stepsPerEpoch, stepsPerEpoch,
                            epochLoss / epochSeen, (double) epochCorrect / epochSeen, lr, rate));
                    if (step % settings.logEvery() == 0) {
                        metrics.write(MetricsLog.record("step", epoch, step, Map.of("loss", r.loss(), "accuracy", (double) r.correct() / r.batch(),
                                "learning_rate", lr, "images_per_second", rate)));
                        windowStart = System.nanoTime();
                        windowImages = 0;
                    }
                    boolean epochEnd = step % stepsPerEpoch == 0;
                    if (!epochEnd && job.checkpointEvery() > 0 && step % job.checkpointEvery() == 0) {
                        save(epoch, step);
                    }
                }
                double seconds = (System.nanoTime() - started) / 1e9;
                Double testLoss = null;
                Double testAccuracy = null;
                if (testLoader != null) {
                    double[] t = evaluate(testLoader);
                    testLoss = t[0];
                    testAccuracy = t[1];
                }
                EpochSummary s = new EpochSummary(epoch + 1, engine.stepsTaken(), epochLoss / Math.max(1, epochSeen),
                        (double) epochCorrect / Math.max(1, epochSeen), testLoss, testAccuracy, seconds,
                        (epochSeen - imagesAtStart) / seconds);
                Map<String, Object> fields = new LinkedHashMap<>();
                fields.put("train_loss", s.trainLoss());
                fields.put("train_accuracy", s.trainAccuracy());
                fields.put("test_loss", s.testLoss());
                fields.put("test_accuracy", s.testAccuracy());
                fields.put("seconds", s.seconds());
                fields.put("images_per_second", s.imagesPerSecond());
                metrics.write(MetricsLog.record("epoch", epoch + 1, engine.stepsTaken(), fields));
                summaries.add(s);
                listener.epoch(s);
                epochLoss = 0;
                epochCorrect = 0;
                epochSeen = 0;
                save(epoch + 1, engine.stepsTaken());
                LearningCurve.write(run.dir().resolve(CURVE_FILE), title, metrics.records());
            }
            return summaries;
        }

        private double[] evaluate(BatchLoader loader) {
            StepEngine.Totals t = engine.evaluate(loader);
            return new double[] {t.lossSum() / t.images(), (double) t.correct() / t.images()};
        }

        private void save(int epoch, long step) throws IOException {
            Checkpoint c = new Checkpoint(engine.snapshot(), run.checkpointProperties(epoch, step, epochLoss, epochCorrect, epochSeen));
            c.write(run.dir().resolve(TrainingArtifacts.CHECKPOINT));
            lastSaved = c;
        }
    }
}
