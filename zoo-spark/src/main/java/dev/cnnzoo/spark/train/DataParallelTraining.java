package dev.cnnzoo.spark.train;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.runtime.Device;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.spark.ZooSpark;
import dev.cnnzoo.training.Checkpoint;
import dev.cnnzoo.training.TrainingArtifacts;
import dev.cnnzoo.training.TrainingGraph;
import dev.cnnzoo.training.run.StepEngine;
import dev.cnnzoo.training.run.Trainer;
import dev.cnnzoo.training.run.TrainingDivergedException;
import dev.cnnzoo.training.run.TrainingJob;
import dev.cnnzoo.training.run.TrainingRun;
import java.io.IOException;
import java.io.Serializable;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.BarrierTaskInfo;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import scala.runtime.AbstractFunction1;

/**
 * Data-parallel training on Spark: {@code workers} replicas of the zoo's trainer run as one
 * barrier stage (Spark starts them together, one task slot each), meet once through the barrier's
 * {@code allGather} to learn each other's addresses, then keep their weights equal through a
 * {@link RingAllReduce} of their own: every step (synchronous SGD, {@code averageEvery} = 1) or
 * every K steps (parameter averaging). Spark's {@code allGather} is not used per step: it costs
 * about a second a call (a one-second sleep loop in its driver RPC), against a few milliseconds
 * for the ring over TCP.
 *
 * <p>The run is a {@link TrainingRun}, new or resumed, as {@link Trainer} takes it; the folder it
 * leaves is a {@code zoo train} run's (the same checkpoint, metrics, curve and network files), so
 * {@code zoo train --resume} and {@code zoo eval --checkpoint} read it, and a run {@code zoo
 * train} began goes on here. The driver checks the run and writes a new run's artifacts and
 * starting checkpoint ({@link Trainer#setUp}); each replica rebuilds the run from its properties
 * and the checkpoint in the folder; replica 0 writes checkpoints, metrics and the learning curve;
 * the driver writes {@code model.onnx} and {@code weights.safetensors} from the last checkpoint.
 * The data and output folders must be readable (the output writable) at the same path on every
 * executor: on one machine any folder, on a cluster a shared file system. A lost executor fails
 * the stage; the driver runs it again from the last checkpoint, up to {@code attempts} times,
 * losing only the steps since that checkpoint.
 */
public final class DataParallelTraining {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How long replicas have to reach each other once Spark has started them. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(60);

    /**
     * How to spread the run.
     *
     * @param workers      replicas, one Spark task slot each
     * @param averageEvery 1: all-reduce gradients every step; K &gt; 1: average parameters every K steps
     * @param attempts     runs of the stage before giving up (each from the last checkpoint)
     */
    public record Settings(int workers, int averageEvery, int attempts) {
        public Settings {
            if (workers < 1) {
                throw new ZooException("the number of workers must be at least 1, got " + workers);
            }
            if (averageEvery < 1) {
                throw new ZooException("parameters must be averaged every 1 step or more, got " + averageEvery);
            }
            if (attempts < 1) {
                throw new ZooException("the stage must be attempted at least once, got " + attempts);
            }
        }
    }

    /** What a run produced: steps, the exported files, the attempts it took, and each replica's report. */
    public record Outcome(long steps, Path model, Path weights, int attempts, List<Replica.Report> replicas) {
    }

    private DataParallelTraining() {
    }

    /**
     * Trains {@code run} on {@code spark} with {@code settings}, each replica running as
     * {@code trainer} says (its runtime's threads: 0 for the task's cores; the fused or separate
     * step where parameters are averaged, the separate one where gradients are). Progress lines
     * (attempts, steps, epochs) go to {@code log}.
     *
     * @throws ZooException the checks {@link Trainer#setUp} makes ({@code TrainingRunExistsException},
     *                      {@code TrainingFinishedException}, {@code DataMismatchException}), a batch the
     *                      workers cannot share evenly, a run given its data in memory, or the stage failing
     *                      {@code attempts} times
     */
    public static Outcome train(SparkSession spark, TrainingRun run, Trainer.Settings trainer, Settings settings, Consumer<String> log)
            throws IOException {
        TrainingJob job = run.job();
        if (job.batchSize() % settings.workers() != 0) {
            throw new ZooException("the batch of " + job.batchSize() + " cannot be split evenly between " + settings.workers() + " workers");
        }
        if (job.data() == null) {
            throw new ZooException("data-parallel training reads its data from a folder every executor reaches; the job names none");
        }
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        if (sc.master().startsWith("local") && sc.defaultParallelism() < settings.workers()) {
            throw new ZooException(sc.master() + " runs " + sc.defaultParallelism() + " tasks at once but " + settings.workers()
                    + " workers were asked for; use local[" + settings.workers() + "] or fewer workers");
        }
        // Executors resolve paths in working folders of their own: hand them absolute ones.
        TrainingRun absolute = run.withAbsolutePaths();
        Path out = absolute.dir();
        Trainer.Setup setup = Trainer.setUp(absolute, trainer.activations());
        ReplicaTask task = new ReplicaTask(JSON.writeValueAsString(absolute.properties()), out.toString(), settings.averageEvery(),
                ReplicaRuntime.of(trainer), trainer.logEvery(), trainer.loaderThreads());
        List<Replica.Report> reports = null;
        int attempt = 0;
        try (MetricsFollower follower = new MetricsFollower(out.resolve(Trainer.METRICS_FILE), log)) {
            while (reports == null) {
                Checkpoint at = Checkpoint.read(out.resolve(TrainingArtifacts.CHECKPOINT));
                if (at.epoch() >= absolute.job().epochs()) {
                    reports = List.of();        // every epoch is done (an attempt failed after its last checkpoint): only the export is left
                    break;
                }
                attempt++;
                long from = at.step();
                log.accept("attempt " + attempt + " of " + settings.attempts() + ": " + settings.workers() + " replicas on " + sc.master()
                        + (from > 0 ? ", from the checkpoint at step " + from : ""));
                try {
                    JavaRDD<Integer> ranks = sc.parallelize(range(settings.workers()), settings.workers());
                    scala.reflect.ClassTag<Replica.Report> tag = scala.reflect.ClassTag$.MODULE$.apply(Replica.Report.class);
                    reports = JavaRDD.fromRDD(ranks.rdd().barrier().mapPartitions(task, false, tag), tag).collect();
                } catch (Exception e) {     // SparkException is checked, though Scala throws it from collect() undeclared
                    ZooException own = ownFailure(e);
                    if (own != null) {
                        throw own;
                    }
                    if (attempt >= settings.attempts()) {
                        throw new ZooException("the training stage failed " + attempt + " time(s), last: " + firstLine(e)
                                + "; the checkpoint in " + out + " is kept (resume to go on)", e);
                    }
                    log.accept("attempt " + attempt + " failed (" + firstLine(e) + "); going on from the last checkpoint");
                }
            }
        }
        if (reports.stream().map(Replica.Report::weightsDigest).distinct().count() > 1) {
            throw new IllegalStateException("the replicas ended with different weights: " + reports);
        }
        TrainingRun trained = TrainingRun.fromProperties(out, absolute.properties(), ModelZoo.load());
        Trainer.writeTrained(trained, trained.weights(), setup.train().classes());
        return new Outcome(trained.step(), out.resolve(Trainer.MODEL_FILE), out.resolve(Trainer.WEIGHTS_FILE), attempt, reports);
    }

    private static List<Integer> range(int n) {
        List<Integer> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(i);
        }
        return l;
    }

    private static final Pattern OWN = Pattern.compile("(dev\\.cnnzoo\\.[\\w.]*(?:ZooException|TrainingDivergedException)): ([^\\n]*)");

    /** A failure raised by the zoo's own code in a replica (a diverged loss, bad data): not worth another attempt. */
    static ZooException ownFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ZooException z) {
                return z;
            }
            Matcher m = OWN.matcher(String.valueOf(t.getMessage()));
            if (m.find()) {
                // A diverged run's message ends with the advice its constructor adds again.
                return m.group(1).endsWith("TrainingDivergedException")
                        ? new TrainingDivergedException(m.group(2).replaceFirst(" Try a lower learning rate.*$", "")) : new ZooException(m.group(2));
            }
        }
        return null;
    }

    private static String firstLine(Throwable e) {
        return String.valueOf(e.getMessage()).lines().findFirst().orElse(e.toString());
    }

    /** The runtime settings a replica's step engine opens with, as Spark ships them (RuntimeOptions is not serializable). */
    record ReplicaRuntime(Device device, int threads, int deviceId, boolean optimize, StepEngine.Mode mode,
            TrainingGraph.Activations activations) implements Serializable {
        static ReplicaRuntime of(Trainer.Settings s) {
            RuntimeOptions r = s.runtime();
            return new ReplicaRuntime(r.device(), r.threads(), r.deviceId(), r.optimize(), s.mode(), s.activations());
        }

        /** The options with {@code threads} (0: the task's cores, so that replicas sharing a machine do not oversubscribe it). */
        RuntimeOptions options() {
            return new RuntimeOptions(device, threads > 0 ? threads : ZooSpark.taskCores(), deviceId, optimize);
        }
    }

    /**
     * The barrier task: rendezvous, ring, then the replica's run. Serializable, as Spark ships it;
     * the run travels as its properties in JSON.
     */
    static final class ReplicaTask extends AbstractFunction1<scala.collection.Iterator<Integer>, scala.collection.Iterator<Replica.Report>>
            implements Serializable {
        private final String run;
        private final String out;
        private final int averageEvery;
        private final ReplicaRuntime runtime;
        private final int logEvery;
        private final int loaderThreads;

        ReplicaTask(String run, String out, int averageEvery, ReplicaRuntime runtime, int logEvery, int loaderThreads) {
            this.run = run;
            this.out = out;
            this.averageEvery = averageEvery;
            this.runtime = runtime;
            this.logEvery = logEvery;
            this.loaderThreads = loaderThreads;
        }

        @Override
        public scala.collection.Iterator<Replica.Report> apply(scala.collection.Iterator<Integer> ignored) {
            try {
                return scala.collection.JavaConverters.asScalaIterator(run());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        private Iterator<Replica.Report> run() throws IOException {
            BarrierTaskContext ctx = BarrierTaskContext.get();
            int rank = ctx.partitionId();
            BarrierTaskInfo[] infos = ctx.getTaskInfos();
            String host = infos[rank].address().replaceFirst(":\\d+$", "");
            try (ServerSocket server = new ServerSocket(0, infos.length, InetAddress.getByName(host))) {
                // The one rendezvous through Spark (about a second): every replica's ring address.
                String[] all = ctx.allGather(host + ":" + server.getLocalPort());
                List<InetSocketAddress> addresses = new ArrayList<>();
                for (String a : all) {
                    int colon = a.lastIndexOf(':');
                    addresses.add(new InetSocketAddress(a.substring(0, colon), Integer.parseInt(a.substring(colon + 1))));
                }
                try (RingAllReduce ring = RingAllReduce.connect(rank, addresses, server, CONNECT_TIMEOUT, ctx::isInterrupted)) {
                    Map<String, Object> properties = JSON.readValue(run, new TypeReference<LinkedHashMap<String, Object>>() { });
                    TrainingRun replicated = TrainingRun.fromProperties(Path.of(out), properties, ModelZoo.load());
                    StepEngine.Mode mode = averageEvery == 1 ? StepEngine.Mode.SEPARATE : runtime.mode();
                    Replica replica = new Replica(replicated, averageEvery, ring, runtime.options(), mode,
                            runtime.activations(), logEvery, loaderThreads);
                    return List.of(replica.run()).iterator();
                }
            }
        }
    }
}
