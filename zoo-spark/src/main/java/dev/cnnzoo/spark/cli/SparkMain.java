package dev.cnnzoo.spark.cli;

import dev.cnnzoo.cli.Zoo;
import picocli.CommandLine;

/**
 * The {@code zoo} command with {@code zoo spark ...} added: what the {@code zoo} launcher runs for
 * {@code zoo spark}, with Spark's jars on the class path (the plain {@code zoo} never loads them).
 * It exits explicitly: Spark leaves non-daemon threads behind (barrier tasks' timers among them).
 */
public final class SparkMain {
    private SparkMain() {
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The zoo's command line with the {@code spark} subcommand. */
    public static CommandLine commandLine() {
        CommandLine cl = Zoo.commandLine();
        cl.addSubcommand("spark", new SparkCommand());
        return cl;
    }
}
