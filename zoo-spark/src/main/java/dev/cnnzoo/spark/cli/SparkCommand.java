package dev.cnnzoo.spark.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "spark", description = {"Run on Apache Spark: batch inference and data-parallel training.",
        "The master is local[*] (this machine's cores) unless --master names another: spark://HOST:PORT for a standalone cluster, "
                + "or any master Spark accepts."},
        subcommands = {SparkPredictCommand.class, SparkTrainCommand.class, CommandLine.HelpCommand.class})
final class SparkCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
