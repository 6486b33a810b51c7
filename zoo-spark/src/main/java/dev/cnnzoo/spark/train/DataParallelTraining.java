package dev.cnnzoo.spark.train;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.ModelExporter;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.spark.ZooSpark;
import dev.cnnzoo.training.Checkpoint;
import dev.cnnzoo.training.TrainingArtifacts;
import dev.cnnzoo.training.TrainingGraph;
import dev.cnnzoo.training.TrainingSpec;
import dev.cnnzoo.training.data.Dataset;
import dev.cnnzoo.training.data.Datasets;
import dev.cnnzoo.training.data.Split;
import dev.cnnzoo.training.run.Trainer;
import dev.cnnzoo.training.run.TrainingDivergedException;
import dev.cnnzoo.training.run.TrainingJob;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.io.Serializable;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.BarrierTaskInfo;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import scala.runtime.AbstractFunction1;
import org.apache.spark.sql.SparkSession;

/**
 * Data-parallel training on Spark: {@code workers} replicas of the zoo's trainer run as one
 * barrier stage (Spark starts them together, one task slot each), meet once through the barrier's
 * {@code allGather} to learn each other's addresses, then keep their weights equal through a
 * {@link RingAllReduce} of their own: every step (synchronous SGD, {@code averageEvery} = 1) or
 * every K steps (parameter averaging). Spark's {@code allGather} is not used per step: it costs
 * about a second a call (a one-second sleep loop in its driver RPC), against a few milliseconds
 * for the ring over TCP.
 *
 * <p>The driver writes the training artifacts and the starting checkpoint; replica 0 writes
 * checkpoints, metrics and the learning curve as {@code zoo train} does; the driver exports
 * {@code model.onnx} and {@code weights.safetensors} from the last checkpoint. The data and output
 * folders must be readable (the output writable) at the same path on every executor: on one
 * machine any folder, on a cluster a shared file system. A lost executor fails the stage; the
 * driver runs it again from the last checkpoint, up to {@code attempts} times, losing only the
 * steps since that checkpoint.
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
     * Trains {@code job} on {@code spark} with {@code settings}; {@code options} says where
     * (output folder, resume or not, initial weights, threads per replica: 0 for the task's cores).
     * Progress lines (attempts, epochs) go to {@code log}.
     */
    public static Outcome train(SparkSession spark, TrainingJob job, Trainer.Options options, Settings settings, Consumer<String> log)
            throws IOException {
        if (job.batchSize() % settings.workers() != 0) {
            throw new ZooException("the batch of " + job.batchSize() + " cannot be split evenly between " + settings.workers() + " workers");
        }
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        if (sc.master().startsWith("local") && sc.defaultParallelism() < settings.workers()) {
            throw new ZooException(sc.master() + " runs " + sc.defaultParallelism() + " tasks at once but " + settings.workers()
                    + " workers were asked for; use local[" + settings.workers() + "] or fewer workers");
        }
        // Executors resolve paths in folders of their own: hand them absolute ones.
        Path out = options.outDir().toAbsolutePath();
        TrainingJob absolute = TrainingJob.fromProperties(withAbsoluteData(job.toProperties()));
        Model model = prepare(absolute, out, options);
        Map<String, Object> properties = absolute.toProperties();
        ReplicaTask task = new ReplicaTask(JSON.writeValueAsString(properties), out.toString(), settings.averageEvery(),
                options.runtime().threads(), options.logEvery());
        List<Replica.Report> reports = null;
        int attempt = 0;
        try (MetricsFollower follower = new MetricsFollower(out.resolve(Trainer.METRICS_FILE), log)) {
            while (reports == null) {
                attempt++;
                long from = Checkpoint.read(out.resolve(TrainingArtifacts.CHECKPOINT)).step();
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
        long distinct = reports.stream().map(Replica.Report::weightsDigest).distinct().count();
        if (distinct != 1) {
            throw new IllegalStateException("the replicas ended with different weights: " + reports);
        }
        Checkpoint last = Checkpoint.read(out.resolve(TrainingArtifacts.CHECKPOINT));
        Weights trained = last.weights(List.copyOf(model.graph().parameters().keySet()));
        Path modelFile = out.resolve(Trainer.MODEL_FILE);
        Path weightsFile = out.resolve(Trainer.WEIGHTS_FILE);
        ModelExporter.write(model, trained, modelFile, ExportOptions.defaults());
        Dataset train = openTrain(absolute, model);
        Safetensors.write(weightsFile, trained, Map.of("zoo.id", model.id(), "zoo.config", String.valueOf(model.config().describe()),
                Trainer.LABELS_METADATA, JSON.writeValueAsString(train.classes())));
        return new Outcome(last.step(), modelFile, weightsFile, attempt, reports);
    }

    /**
     * Checks the output folder and, for a new run, writes the artifacts and the starting checkpoint
     * there; for a resumed one, checks the checkpoint was made by this job. Returns the model.
     */
    private static Model prepare(TrainingJob job, Path out, Trainer.Options options) throws IOException {
        Files.createDirectories(out);
        Path checkpointFile = out.resolve(TrainingArtifacts.CHECKPOINT);
        Model model = ModelZoo.load().build(job.modelId(), job.config());
        Dataset train = openTrain(job, model);
        int[] size = model.config().inputSize();
        if (train.channels() != model.config().inputChannels() || train.height() != size[0] || train.width() != size[1]
                || train.classes().size() != model.config().classes()) {
            throw new ZooException(train.description() + " has " + train.classes().size() + " classes of " + train.channels() + "×"
                    + train.height() + "×" + train.width() + " images but " + model.id() + " is built for " + model.config().classes()
                    + " classes of " + model.config().inputChannels() + "×" + size[0] + "×" + size[1]);
        }
        if (train.size() < job.batchSize()) {
            throw new ZooException(train.description() + " has " + train.size() + " images, fewer than one batch of " + job.batchSize());
        }
        if (options.resume()) {
            if (!Files.exists(checkpointFile)) {
                throw new ZooException(out + " holds no checkpoint to resume from");
            }
            TrainingJob saved = TrainingJob.fromProperties(Checkpoint.read(checkpointFile).properties());
            List<String> conflicts = saved.conflictsWith(job);
            if (!conflicts.isEmpty()) {
                throw new ZooException("the checkpoint in " + out + " was made by another run: " + String.join("; ", conflicts));
            }
            return model;
        }
        if (Files.exists(checkpointFile)) {
            throw new ZooException(out + " already holds a training run; resume it or choose another output folder");
        }
        Set<String> frozen = job.freezeUntil() == null ? Set.of() : TrainingGraph.parametersUpTo(model.graph(), job.freezeUntil());
        TrainingArtifacts artifacts = TrainingArtifacts.generate(model, new TrainingSpec(job.loss(), job.optimizer(), frozen));
        Weights start = options.initial() != null ? options.initial() : Weights.initial(model.graph(), model.config().seed());
        Map<String, Object> props = job.toProperties();
        props.put("epoch", 0);
        props.put("step", 0);
        artifacts.write(out, Checkpoint.start(artifacts.training(), job.optimizer(), start, props));
        return model;
    }

    private static Dataset openTrain(TrainingJob job, Model model) {
        Dataset d = Datasets.open(Path.of(job.data()), Split.TRAIN, model.config().inputChannels(), model.config().inputSize()[0], resizeFor(model));
        return job.limit() > 0 ? d.limit(job.limit()) : d;
    }

    /** Image folders resize their shorter side as the model's preprocessing says (as {@code zoo train} does). */
    static int resizeFor(Model model) {
        return Math.max(model.config().inputSize()[0], model.info().preprocessing().resize() * model.config().inputSize()[0]
                / Math.max(1, model.info().preprocessing().crop()));
    }

    private static Map<String, Object> withAbsoluteData(Map<String, Object> properties) {
        properties.put("data", Path.of((String) properties.get("data")).toAbsolutePath().normalize().toString());
        return properties;
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
                return m.group(1).endsWith("TrainingDivergedException") ? new TrainingDivergedException(m.group(2)) : new ZooException(m.group(2));
            }
        }
        return null;
    }

    private static String firstLine(Throwable e) {
        return String.valueOf(e.getMessage()).lines().findFirst().orElse(e.toString());
    }

    /**
     * The barrier task: rendezvous, ring, then the replica's run. Serializable, as Spark ships it;
     * the job travels as its checkpoint properties in JSON.
     */
    static final class ReplicaTask extends AbstractFunction1<scala.collection.Iterator<Integer>, scala.collection.Iterator<Replica.Report>>
            implements Serializable {
        private final String job;
        private final String out;
        private final int averageEvery;
        private final int threads;
        private final int logEvery;

        ReplicaTask(String job, String out, int averageEvery, int threads, int logEvery) {
            this.job = job;
            this.out = out;
            this.averageEvery = averageEvery;
            this.threads = threads;
            this.logEvery = logEvery;
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
                    TrainingJob j = TrainingJob.fromProperties(JSON.readValue(job, new TypeReference<LinkedHashMap<String, Object>>() { }));
                    int t = threads > 0 ? threads : ZooSpark.taskCores();
                    Replica replica = new Replica(j, Path.of(out), averageEvery, ring, RuntimeOptions.cpu(t), logEvery);
                    return List.of(replica.run()).iterator();
                }
            }
        }
    }
}
