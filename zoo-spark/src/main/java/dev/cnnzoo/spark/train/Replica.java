package dev.cnnzoo.spark.train;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.training.Checkpoint;
import dev.cnnzoo.training.TrainingArtifacts;
import dev.cnnzoo.training.TrainingGraph;
import dev.cnnzoo.training.data.Augmentation;
import dev.cnnzoo.training.data.BatchLoader;
import dev.cnnzoo.training.data.Dataset;
import dev.cnnzoo.training.run.LearningCurve;
import dev.cnnzoo.training.run.LearningRate;
import dev.cnnzoo.training.run.MetricsLog;
import dev.cnnzoo.training.run.StepEngine;
import dev.cnnzoo.training.run.Trainer;
import dev.cnnzoo.training.run.TrainingJob;
import dev.cnnzoo.training.run.TrainingRun;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One replica of a data-parallel run: the zoo's step engine on this replica's shard of every
 * global batch, kept equal to the other replicas through a {@link RingAllReduce}. With
 * {@code averageEvery} = 1 the replicas all-reduce their gradients (and batch norms' running
 * statistics) every step before the optimizer runs: synchronous SGD, the same updates as one
 * process on the whole batch. With K > 1 each replica steps alone on its shards and the replicas
 * average every carried tensor (weights, optimizer state, running statistics) every K steps:
 * parameter averaging, a K-th of the traffic at the price of replicas drifting apart in between.
 *
 * <p>The replica is set up as {@link Trainer} sets a run up ({@link Trainer#setUp}: the same data,
 * augmentation, artifacts and checks) and starts from the checkpoint in the run's folder (written by
 * the driver, or by an earlier attempt), so a replica lost mid-run costs the steps since the last
 * checkpoint. Replica 0 writes the checkpoints (always at a point where the replicas are equal), the
 * metrics and the learning curve, in {@code zoo train}'s format; the loss and accuracy it logs are
 * the global batch's.
 */
final class Replica {
    /** What a replica reports at the end. */
    record Report(int rank, long steps, double seconds, double allReduceSeconds, String weightsDigest) implements java.io.Serializable {
    }

    private final TrainingRun run;
    private final TrainingJob job;
    private final int averageEvery;
    private final RingAllReduce ring;
    private final RuntimeOptions runtime;
    private final StepEngine.Mode mode;
    private final TrainingGraph.Activations activations;
    private final int logEvery;
    private final int loaderThreads;

    Replica(TrainingRun run, int averageEvery, RingAllReduce ring, RuntimeOptions runtime, StepEngine.Mode mode,
            TrainingGraph.Activations activations, int logEvery, int loaderThreads) {
        this.run = run;
        this.job = run.job();
        this.averageEvery = averageEvery;
        this.ring = ring;
        this.runtime = runtime;
        this.mode = mode;
        this.activations = activations;
        this.logEvery = logEvery;
        this.loaderThreads = loaderThreads;
    }

    Report run() throws IOException {
        long started = System.nanoTime();
        int rank = ring.rank();
        int replicas = ring.size();
        Trainer.Setup setup = Trainer.setUp(run, activations);
        Model model = run.model();
        // Each replica evaluates its share of the test split; the shares' sums make the whole's figures.
        Dataset all = setup.test();
        Dataset test = all == null ? null : all.slice((int) ((long) all.size() * rank / replicas), (int) ((long) all.size() * (rank + 1) / replicas));
        try (BatchLoader trainLoader = new BatchLoader(setup.train(), model.info().preprocessing(), setup.augmentation(), job.batchSize(),
                job.seed(), loaderThreads);
                BatchLoader testLoader = test == null ? null : new BatchLoader(test, model.info().preprocessing(), Augmentation.none(),
                        job.batchSize(), job.seed(), loaderThreads);
                StepEngine engine = new StepEngine(setup.artifacts(), setup.start(), runtime, mode, job.seed());
                MetricsLog metrics = rank == 0 ? new MetricsLog(run.dir().resolve(Trainer.METRICS_FILE), setup.start().step()) : null) {
            long stepsPerEpoch = trainLoader.batchesPerEpoch();
            new Epochs(engine, metrics, setup.start(), job.learningRates(stepsPerEpoch), stepsPerEpoch).run(trainLoader, testLoader);
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
        private final StepEngine engine;
        private final MetricsLog metrics;
        private final LearningRate schedule;
        private final long stepsPerEpoch;
        private long lastSaved;
        private double epochLoss;
        private double epochCorrect;
        private double epochSeen;

        Epochs(StepEngine engine, MetricsLog metrics, Checkpoint start, LearningRate schedule, long stepsPerEpoch) {
            this.engine = engine;
            this.metrics = metrics;
            this.schedule = schedule;
            this.stepsPerEpoch = stepsPerEpoch;
            this.lastSaved = start.step();
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
                    Trainer.checkLoss(run, loss, step, epoch, lastSaved);
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
                        metrics.write(MetricsLog.record("step", epoch, step, f));
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
                    metrics.write(MetricsLog.record("epoch", epoch + 1, engine.stepsTaken(), fields));
                }
                epochLoss = 0;
                epochCorrect = 0;
                epochSeen = 0;
                save(epoch + 1, engine.stepsTaken());
                if (metrics != null) {
                    LearningCurve.write(run.dir().resolve(Trainer.CURVE_FILE), run.model().id() + " on " + job.data().getFileName() + ", "
                            + replicas + " replicas", metrics.records());
                }
            }
        }

        /** Loss sum, hits and images of this replica's share of the test split, summed over the replicas. */
        private double[] evaluate(BatchLoader loader) {
            StepEngine.Totals t = engine.evaluate(loader);
            return ring.sum(t.lossSum(), t.correct(), t.images());
        }

        /** Replica 0 writes the checkpoint, as {@code zoo train} writes it; the replicas are equal here (averaged at every checkpoint step). */
        private void save(int epoch, long step) throws IOException {
            lastSaved = step;
            if (ring.rank() != 0) {
                return;
            }
            new Checkpoint(engine.snapshot(), run.checkpointProperties(epoch, step, epochLoss, (long) epochCorrect, (long) epochSeen))
                    .write(run.dir().resolve(TrainingArtifacts.CHECKPOINT));
        }
    }
}
