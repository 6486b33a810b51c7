package dev.cnnzoo.spark.train;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Tensor;
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
import dev.cnnzoo.training.run.LearningCurve;
import dev.cnnzoo.training.run.MetricsLog;
import dev.cnnzoo.training.run.Schedule;
import dev.cnnzoo.training.run.StepEngine;
import dev.cnnzoo.training.run.Trainer;
import dev.cnnzoo.training.run.TrainingDivergedException;
import dev.cnnzoo.training.run.TrainingJob;
import java.io.IOException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * One replica of a data-parallel run: the zoo's step engine on this replica's shard of every
 * global batch, kept equal to the other replicas through a {@link RingAllReduce}. With
 * {@code averageEvery} = 1 the replicas all-reduce their gradients (and batch norms' running
 * statistics) every step before the optimizer runs: synchronous SGD, the same updates as one
 * process on the whole batch. With K > 1 each replica steps alone on its shards and the replicas
 * average every carried tensor (weights, optimizer state, running statistics) every K steps:
 * parameter averaging, a K-th of the traffic at the price of replicas drifting apart in between.
 *
 * <p>The run starts from the checkpoint in the output folder (written by the driver, or by an
 * earlier attempt), so a replica lost mid-run costs the steps since the last checkpoint. Replica
 * 0 writes the checkpoints (always at a point where the replicas are equal), the metrics and the
 * learning curve; the loss and accuracy it logs are the global batch's.
 */
final class Replica {
    /** What a replica reports at the end. */
    record Report(int rank, long steps, double seconds, double allReduceSeconds, String weightsDigest) implements java.io.Serializable {
    }

    private final TrainingJob job;
    private final Path out;
    private final int averageEvery;
    private final RingAllReduce ring;
    private final RuntimeOptions runtime;
    private final int logEvery;

    Replica(TrainingJob job, Path out, int averageEvery, RingAllReduce ring, RuntimeOptions runtime, int logEvery) {
        this.job = job;
        this.out = out;
        this.averageEvery = averageEvery;
        this.ring = ring;
        this.runtime = runtime;
        this.logEvery = logEvery;
    }

    Report run() throws IOException {
        long started = System.nanoTime();
        int rank = ring.rank();
        int replicas = ring.size();
        Checkpoint checkpoint = Checkpoint.read(out.resolve(TrainingArtifacts.CHECKPOINT));
        Model model = ModelZoo.load().build(job.modelId(), job.config());
        int[] size = model.config().inputSize();
        Path dataDir = Path.of(job.data());
        Dataset train = Datasets.open(dataDir, Split.TRAIN, model.config().inputChannels(), size[0], DataParallelTraining.resizeFor(model));
        Dataset test = Datasets.open(dataDir, Split.TEST, model.config().inputChannels(), size[0], DataParallelTraining.resizeFor(model));
        if (job.limit() > 0) {
            train = train.limit(job.limit());
            test = test == null ? null : test.limit(job.limit());
        }
        Set<String> frozen = job.freezeUntil() == null ? Set.of() : TrainingGraph.parametersUpTo(model.graph(), job.freezeUntil());
        TrainingArtifacts artifacts = TrainingArtifacts.generate(model, new TrainingSpec(job.loss(), job.optimizer(), frozen));
        Augmentation augmentation = job.augmentation() == null ? Augmentation.defaultFor(Datasets.detect(dataDir))
                : Augmentation.parse(job.augmentation(), 4);
        StepEngine.Mode mode = averageEvery == 1 ? StepEngine.Mode.SEPARATE : StepEngine.Mode.FUSED;
        try (BatchLoader trainLoader = new BatchLoader(train, model.info().preprocessing(), augmentation, job.batchSize(), job.seed(), 2);
                BatchLoader testLoader = test == null ? null : new BatchLoader(test.slice((int) ((long) test.size() * rank / replicas), (int) ((long) test.size() * (rank + 1) / replicas)), model.info().preprocessing(),
                        Augmentation.none(), job.batchSize(), job.seed(), 1);
                StepEngine engine = new StepEngine(artifacts, checkpoint, runtime, mode, job.seed());
                MetricsLog metrics = rank == 0 ? new MetricsLog(out.resolve(Trainer.METRICS_FILE), checkpoint.step()) : null) {
            long stepsPerEpoch = trainLoader.batchesPerEpoch();
            Schedule schedule = Schedule.parse(job.schedule(), job.learningRate(), stepsPerEpoch, stepsPerEpoch * job.epochs())
                    .withWarmup(job.warmupSteps());
            new Epochs(model, engine, metrics, checkpoint, schedule, stepsPerEpoch).run(trainLoader, testLoader);
            return new Report(rank, engine.stepsTaken(), (System.nanoTime() - started) / 1e9, ring.secondsInCalls(),
                    digest(engine.snapshot(), model));
        }
    }

    /** A digest of the network's weights: equal on every replica, or the replicas have drifted apart. */
    static String digest(Map<String, Tensor> tensors, Model model) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String name : model.graph().parameters().keySet()) {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(tensors.get(name).floats().length * 4);
                b.asFloatBuffer().put(tensors.get(name).floats());
                md.update(b.array());
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The epochs of this replica: steps, averaging, global figures, and replica 0's files. */
    private final class Epochs {
        private final Model model;
        private final StepEngine engine;
        private final MetricsLog metrics;
        private final Schedule schedule;
        private final long stepsPerEpoch;
        private final double explosion;
        private long lastSaved;
        private double epochLoss;
        private double epochCorrect;
        private double epochSeen;

        Epochs(Model model, StepEngine engine, MetricsLog metrics, Checkpoint start, Schedule schedule, long stepsPerEpoch) {
            this.model = model;
            this.engine = engine;
            this.metrics = metrics;
            this.schedule = schedule;
            this.stepsPerEpoch = stepsPerEpoch;
            this.lastSaved = start.step();
            // Cross-entropy starts near ln K; a hundred times that means the run has blown up (as Trainer judges).
            this.explosion = 100 * Math.max(1, Math.log(model.config().classes()));
            Map<String, Object> p = start.properties();
            this.epochLoss = ((Number) p.getOrDefault("epoch_loss_sum", 0.0)).doubleValue();
            this.epochCorrect = ((Number) p.getOrDefault("epoch_correct", 0)).doubleValue();
            this.epochSeen = ((Number) p.getOrDefault("epoch_seen", 0)).doubleValue();
        }

        void run(BatchLoader trainLoader, BatchLoader testLoader) throws IOException {
            int rank = ring.rank();
            int replicas = ring.size();
            int shard = job.batchSize() / replicas;
            for (int epoch = (int) (engine.stepsTaken() / stepsPerEpoch); epoch < job.epochs(); epoch++) {
                long epochStarted = System.nanoTime();
                double seenAtStart = epochSeen;
                int firstBatch = (int) (engine.stepsTaken() - (long) epoch * stepsPerEpoch);
                long windowStart = System.nanoTime();
                double windowReduce = ring.secondsInCalls();
                long windowSteps = 0;
                for (Iterator<BatchLoader.Batch> it = trainLoader.training(epoch, firstBatch, rank, replicas); it.hasNext();) {
                    BatchLoader.Batch b = it.next();
                    long step = engine.stepsTaken() + 1;
                    double lr = schedule.at(step);
                    StepEngine.Shard where = new StepEngine.Shard(rank * shard, job.batchSize());
                    StepEngine.StepResult r = engine.step(b.images(), b.labels(), lr, where, averageEvery == 1 ? ring : null);
                    boolean epochEnd = step % stepsPerEpoch == 0;
                    boolean save = epochEnd || job.checkpointEvery() > 0 && step % job.checkpointEvery() == 0;
                    if (averageEvery > 1 && (step % averageEvery == 0 || save)) {
                        engine.replace(ring.mean(engine.snapshot()));
                    }
                    double[] global = ring.sum(r.loss() * r.batch(), r.correct(), r.batch());
                    double loss = global[0] / global[2];
                    checkLoss(loss, step, epoch);
                    epochLoss += global[0];
                    epochCorrect += global[1];
                    epochSeen += global[2];
                    windowSteps++;
                    if (metrics != null && step % logEvery == 0) {
                        double seconds = (System.nanoTime() - windowStart) / 1e9;
                        Map<String, Object> f = new LinkedHashMap<>();
                        f.put("loss", loss);
                        f.put("accuracy", global[1] / global[2]);
                        f.put("learning_rate", lr);
                        f.put("images_per_second", windowSteps * job.batchSize() / seconds);
                        f.put("step_seconds", seconds / windowSteps);
                        f.put("allreduce_seconds", (ring.secondsInCalls() - windowReduce) / windowSteps);
                        f.put("replicas", replicas);
                        metrics.write(record("step", epoch, step, f));
                        windowStart = System.nanoTime();
                        windowReduce = ring.secondsInCalls();
                        windowSteps = 0;
                    }
                    if (save && !epochEnd) {
                        save(epoch, step);
                    }
                }
                double seconds = (System.nanoTime() - epochStarted) / 1e9;
                Map<String, Object> fields = new LinkedHashMap<>();
                fields.put("train_loss", epochLoss / Math.max(1, epochSeen));
                fields.put("train_accuracy", epochCorrect / Math.max(1, epochSeen));
                double[] tested = testLoader == null ? null : evaluate(testLoader);
                fields.put("test_loss", tested == null ? null : tested[0] / tested[2]);
                fields.put("test_accuracy", tested == null ? null : tested[1] / tested[2]);
                fields.put("seconds", seconds);
                fields.put("images_per_second", (epochSeen - seenAtStart) / seconds);
                if (metrics != null) {
                    metrics.write(record("epoch", epoch + 1, engine.stepsTaken(), fields));
                }
                epochLoss = 0;
                epochCorrect = 0;
                epochSeen = 0;
                save(epoch + 1, engine.stepsTaken());
                if (metrics != null) {
                    LearningCurve.write(out.resolve(Trainer.CURVE_FILE), model.id() + " on " + Path.of(job.data()).getFileName() + ", "
                            + replicas + " replicas", metrics.records(), stepsPerEpoch);
                }
            }
        }

        /** Loss sum, hits and images of this replica's share of the test split, summed over the replicas. */
        private double[] evaluate(BatchLoader loader) {
            double loss = 0;
            double correct = 0;
            double seen = 0;
            for (Iterator<BatchLoader.Batch> it = loader.evaluation(); it.hasNext();) {
                BatchLoader.Batch b = it.next();
                StepEngine.StepResult r = engine.evaluate(b.images(), b.labels());
                loss += r.loss() * r.batch();
                correct += r.correct();
                seen += r.batch();
            }
            return ring.sum(loss, correct, seen);
        }

        private void checkLoss(double loss, long step, int epoch) {
            if (Double.isFinite(loss) && loss <= explosion) {
                return;
            }
            String what = Double.isNaN(loss) ? "NaN" : Double.isInfinite(loss) ? "infinite" : "exploding (" + loss + ")";
            throw new TrainingDivergedException("the loss became " + what + " at step " + step + " (epoch " + (epoch + 1) + "); training stopped."
                    + " The last good checkpoint, from step " + lastSaved + ", is kept in " + out.resolve(TrainingArtifacts.CHECKPOINT)
                    + ". Try a lower learning rate or a warm-up.");
        }

        /** Replica 0 writes the checkpoint; the replicas are equal here (averaged at every checkpoint step). */
        private void save(int epoch, long step) throws IOException {
            lastSaved = step;
            if (ring.rank() != 0) {
                return;
            }
            Map<String, Object> props = job.toProperties();
            props.put("epoch", epoch);
            props.put("step", step);
            props.put("epoch_loss_sum", epochLoss);
            props.put("epoch_correct", (long) epochCorrect);
            props.put("epoch_seen", (long) epochSeen);
            new Checkpoint(engine.snapshot(), props).write(out.resolve(TrainingArtifacts.CHECKPOINT));
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
