package dev.cnnzoo.training.run;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelZoo;
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
 * Trains a zoo network on a dataset through its training artifacts: batches from a background
 * loader, one fused train-and-update run per step, the learning rate from the schedule, checkpoints
 * written atomically every N steps and at each epoch's end, metrics as JSON lines and a PNG learning
 * curve, evaluation on the test split after each epoch, and the trained network exported as an
 * inference ONNX model at the end. A run resumed from its checkpoint takes the same steps, learning
 * rates, batches and dropout masks as an uninterrupted one and ends with the same weights.
 */
public final class Trainer {
    public static final String MODEL_FILE = "model.onnx";
    public static final String WEIGHTS_FILE = "weights.safetensors";
    /** The weights file's metadata entry naming the classes by output index (a JSON array), for {@code zoo predict}. */
    public static final String LABELS_METADATA = dev.cnnzoo.runtime.predict.ClassNames.WEIGHTS_METADATA;
    public static final String METRICS_FILE = "metrics.jsonl";
    public static final String CURVE_FILE = "learning_curve.png";

    /** How to run, as opposed to what to train (which {@link TrainingJob} says). */
    public record Options(Path outDir, RuntimeOptions runtime, StepEngine.Mode mode, boolean resume, Weights initial, int logEvery,
            int loaderThreads) {
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
        default void started(TrainingJob job, Dataset train, Dataset test, long firstStep, long stepsPerEpoch) {
        }

        default void step(Progress p) {
        }

        default void epoch(EpochSummary s) {
        }
    }

    /** What a run produced. */
    public record Outcome(List<EpochSummary> epochs, long steps, Path model, Path weights, Weights trained) {
    }

    private Trainer() {
    }

    public static Outcome train(TrainingJob job, Options options, Listener listener) throws IOException {
        Path out = options.outDir();
        Files.createDirectories(out);
        Path checkpointFile = out.resolve(TrainingArtifacts.CHECKPOINT);
        Checkpoint checkpoint = null;
        if (options.resume()) {
            if (!Files.exists(checkpointFile)) {
                throw new ZooException("--resume: " + out + " holds no checkpoint to resume from");
            }
            checkpoint = Checkpoint.read(checkpointFile);
            TrainingJob saved = TrainingJob.fromProperties(checkpoint.properties());
            List<String> conflicts = saved.conflictsWith(job);
            if (!conflicts.isEmpty()) {
                throw new ZooException("--resume: the checkpoint in " + out + " was made by another run: " + String.join("; ", conflicts));
            }
        } else if (Files.exists(checkpointFile)) {
            throw new ZooException(out + " already holds a training run; use --resume to continue it or --out for a new folder");
        }

        Path dataDir = Path.of(job.data());
        Datasets.Format format = Datasets.detect(dataDir);
        ModelZoo zoo = ModelZoo.load();
        ModelConfig config = job.config();
        Model model = zoo.build(job.modelId(), config);
        int[] size = model.config().inputSize();
        Dataset train = Datasets.open(dataDir, Split.TRAIN, model.config().inputChannels(), size[0], resizeFor(model));
        Dataset test = Datasets.open(dataDir, Split.TEST, model.config().inputChannels(), size[0], resizeFor(model));
        if (job.limit() > 0) {
            train = train.limit(job.limit());
            test = test == null ? null : test.limit(job.limit());
        }
        checkFits(model, train);

        Set<String> frozen = job.freezeUntil() == null ? Set.of() : TrainingGraph.parametersUpTo(model.graph(), job.freezeUntil());
        TrainingSpec spec = new TrainingSpec(job.loss(), job.optimizer(), frozen);
        TrainingArtifacts artifacts = TrainingArtifacts.generate(model, spec);
        if (checkpoint == null) {
            Weights start = options.initial() != null ? options.initial() : Weights.initial(model.graph(), model.config().seed());
            Map<String, Object> props = job.toProperties();
            props.put("epoch", 0);
            props.put("step", 0);
            checkpoint = Checkpoint.start(artifacts.training(), job.optimizer(), start, props);
            artifacts.write(out, checkpoint);
        }

        Augmentation augmentation = job.augmentation() == null ? Augmentation.defaultFor(format) : Augmentation.parse(job.augmentation(), 4);
        try (BatchLoader trainLoader = new BatchLoader(train, model.info().preprocessing(), augmentation, job.batchSize(), job.seed(),
                options.loaderThreads());
                BatchLoader testLoader = test == null ? null : new BatchLoader(test, model.info().preprocessing(), Augmentation.none(),
                        job.batchSize(), job.seed(), options.loaderThreads());
                StepEngine engine = new StepEngine(artifacts, checkpoint, options.runtime(), options.mode(), job.seed());
                MetricsLog metrics = new MetricsLog(out.resolve(METRICS_FILE), checkpoint.step())) {
            long stepsPerEpoch = trainLoader.batchesPerEpoch();
            if (stepsPerEpoch == 0) {
                throw new ZooException(train.description() + " has " + train.size() + " images, fewer than one batch of " + job.batchSize());
            }
            Schedule schedule = Schedule.parse(job.schedule(), job.learningRate(), stepsPerEpoch, stepsPerEpoch * job.epochs())
                    .withWarmup(job.warmupSteps());
            listener.started(job, train, test, checkpoint.step(), stepsPerEpoch);
            Run run = new Run(job, options, listener, model, artifacts, engine, metrics, checkpoint, schedule, stepsPerEpoch);
            List<EpochSummary> summaries = run.epochs(trainLoader, testLoader);
            Weights trained = networkWeights(model, engine);
            Path modelFile = out.resolve(MODEL_FILE);
            Path weightsFile = out.resolve(WEIGHTS_FILE);
            ModelExporter.write(model, trained, modelFile, ExportOptions.defaults());
            Safetensors.write(weightsFile, trained, Map.of("zoo.id", model.id(), "zoo.config", String.valueOf(model.config().describe()),
                    LABELS_METADATA, new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(train.classes())));
            return new Outcome(summaries, engine.stepsTaken(), modelFile, weightsFile, trained);
        }
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
            throw new ZooException(data.description() + " has " + data.channels() + "×" + data.height() + "×" + data.width()
                    + " images but " + model.id() + " is built for " + model.config().inputChannels() + "×" + size[0] + "×" + size[1]
                    + "; pass --input " + data.channels() + "x" + data.height() + "x" + data.width());
        }
        int classes = data.classes().size();
        if (model.config().classes() != classes) {
            throw new ZooException(data.description() + " has " + classes + " classes but " + model.id() + " is built for "
                    + model.config().classes() + "; pass --classes " + classes);
        }
    }

    /** The state of one run through its epochs. */
    private static final class Run {
        private final TrainingJob job;
        private final Options options;
        private final Listener listener;
        private final Model model;
        private final StepEngine engine;
        private final MetricsLog metrics;
        private final Schedule schedule;
        private final long stepsPerEpoch;
        private final double explosion;
        private Checkpoint lastSaved;
        private double epochLoss;
        private long epochCorrect;
        private long epochSeen;

        Run(TrainingJob job, Options options, Listener listener, Model model, TrainingArtifacts artifacts, StepEngine engine,
                MetricsLog metrics, Checkpoint start, Schedule schedule, long stepsPerEpoch) {
            this.job = job;
            this.options = options;
            this.listener = listener;
            this.model = model;
            this.engine = engine;
            this.metrics = metrics;
            this.schedule = schedule;
            this.stepsPerEpoch = stepsPerEpoch;
            this.lastSaved = start;
            // Cross-entropy starts near ln K; a hundred times that means the run has blown up.
            this.explosion = 100 * Math.max(1, Math.log(model.config().classes()));
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
                    checkLoss(r.loss(), step, epoch);
                    epochLoss += r.loss() * r.batch();
                    epochCorrect += r.correct();
                    epochSeen += r.batch();
                    windowImages += r.batch();
                    double rate = windowImages / ((System.nanoTime() - windowStart) / 1e9);
                    listener.step(new Progress(epoch, job.epochs(), step, step - (long) epoch * stepsPerEpoch, stepsPerEpoch,
                            epochLoss / epochSeen, (double) epochCorrect / epochSeen, lr, rate));
                    if (step % options.logEvery() == 0) {
                        metrics.write(record("step", epoch, step, Map.of("loss", r.loss(), "accuracy", (double) r.correct() / r.batch(),
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
                metrics.write(record("epoch", epoch + 1, engine.stepsTaken(), fields));
                summaries.add(s);
                listener.epoch(s);
                epochLoss = 0;
                epochCorrect = 0;
                epochSeen = 0;
                save(epoch + 1, engine.stepsTaken());
                LearningCurve.write(options.outDir().resolve(CURVE_FILE), model.id() + " on " + Path.of(job.data()).getFileName(),
                        metrics.records(), stepsPerEpoch);
            }
            return summaries;
        }

        private void checkLoss(double loss, long step, int epoch) {
            if (Double.isFinite(loss) && loss <= explosion) {
                return;
            }
            String what = Double.isNaN(loss) ? "NaN" : Double.isInfinite(loss) ? "infinite" : "exploding (" + loss + ")";
            throw new TrainingDivergedException("the loss became " + what + " at step " + step + " (epoch " + (epoch + 1) + "); training stopped."
                    + " The last good checkpoint, from step " + lastSaved.step() + ", is kept in " + options.outDir().resolve(TrainingArtifacts.CHECKPOINT)
                    + ". Try a lower --lr or a --warmup.");
        }

        private double[] evaluate(BatchLoader loader) {
            double loss = 0;
            long correct = 0;
            long seen = 0;
            for (Iterator<BatchLoader.Batch> it = loader.evaluation(); it.hasNext();) {
                BatchLoader.Batch b = it.next();
                StepEngine.StepResult r = engine.evaluate(b.images(), b.labels());
                loss += r.loss() * r.batch();
                correct += r.correct();
                seen += r.batch();
            }
            return new double[] {loss / seen, (double) correct / seen};
        }

        private void save(int epoch, long step) throws IOException {
            Map<String, Object> props = job.toProperties();
            props.put("epoch", epoch);
            props.put("step", step);
            props.put("epoch_loss_sum", epochLoss);
            props.put("epoch_correct", epochCorrect);
            props.put("epoch_seen", epochSeen);
            Checkpoint c = new Checkpoint(engine.snapshot(), props);
            c.write(options.outDir().resolve(TrainingArtifacts.CHECKPOINT));
            lastSaved = c;
        }

        private static Map<String, Object> record(String kind, int epoch, long step, Map<String, Object> fields) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("kind", kind);
            m.put("epoch", epoch);
            m.put("step", step);
            m.putAll(fields);
            return m;
        }
    }
}
