package dev.cnnzoo.spark;

import dev.cnnzoo.spark.cli.SparkMain;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import picocli.CommandLine;

/** Runs the zoo command line (with {@code spark}) in this JVM, capturing its output. */
public record SparkCli(int exit, String out, String err) {
    public static SparkCli run(String... args) {
        return run(List.of(args));
    }

    public static SparkCli run(List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = SparkMain.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args.toArray(String[]::new));
        return new SparkCli(exit, out.toString(), err.toString());
    }
}
