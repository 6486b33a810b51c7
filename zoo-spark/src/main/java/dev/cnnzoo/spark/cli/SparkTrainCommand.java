package dev.cnnzoo.spark.cli;

import dev.cnnzoo.cli.TrainCommand;
import dev.cnnzoo.spark.train.DataParallelTraining;
import dev.cnnzoo.training.run.TrainingRun;
import java.io.PrintWriter;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "train", description = {"Train data-parallel on Spark: every `zoo train` option, with N workers each stepping on its share "
        + "of every global batch (--batch is the global batch).",
        "--average-every 1 (the default) all-reduces the gradients every step: the same updates as one process; K > 1 averages the "
                + "parameters every K steps. The data and output folders must be at the same path on every executor.",
        "--threads 0 (the default) gives each replica its task's cores (spark.task.cpus). The output folder is a `zoo train` run's: "
                + "`zoo train --resume` and `zoo eval --checkpoint` read it, and --resume here goes on with a run `zoo train` began."})
final class SparkTrainCommand implements Callable<Integer> {
    @Mixin
    TrainCommand train;

    @Option(names = "--workers", required = true, paramLabel = "N", description = "Replicas, one Spark task slot each.")
    int workers;

    @Option(names = "--average-every", paramLabel = "K", defaultValue = "1",
            description = "1: all-reduce gradients every step; K > 1: average parameters every K steps (default ${DEFAULT-VALUE}).")
    int averageEvery;

    @Option(names = "--attempts", paramLabel = "N", defaultValue = "3",
            description = "Runs of the training stage before giving up, each from the last checkpoint (default ${DEFAULT-VALUE}).")
    int attempts;

    @Mixin
    SparkOptions sparkOptions;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        DataParallelTraining.Settings settings = new DataParallelTraining.Settings(workers, averageEvery, attempts);
        PrintWriter out = spec.commandLine().getOut();
        Optional<TrainCommand.Prepared> prepared = train.prepare(out);
        if (prepared.isEmpty()) {
            return 0;           // a resumed run that has finished said so
        }
        TrainingRun run = prepared.get().run();
        SparkSession spark = sparkOptions.session("zoo spark train " + run.model().id(), Map.of());
        try {
            DataParallelTraining.Outcome o = DataParallelTraining.train(spark, run, prepared.get().settings(), settings, line -> {
                out.println(line);
                out.flush();
            });
            out.printf("trained %s for %d steps on %d workers; wrote %s and %s%n", run.model().id(), o.steps(), workers, o.model(), o.weights());
            out.flush();
            return 0;
        } finally {
            spark.stop();
        }
    }
}
