package dev.cnnzoo.cli;

import dev.cnnzoo.api.ZooException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code zoo} command. */
@Command(name = "zoo", mixinStandardHelpOptions = true, versionProvider = Zoo.VersionProvider.class,
        description = "A model zoo of the classic convolutional networks, exported as ONNX and run by ONNX Runtime.",
        subcommands = {ListCommand.class, InfoCommand.class, ExportCommand.class, RunCommand.class, TrainCommand.class, EvalCommand.class,
                PredictCommand.class, BenchCommand.class, ImportCommand.class, QuantizeCommand.class,
                CommandLine.HelpCommand.class})
public final class Zoo implements Runnable {
    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT, description = "Show stack traces on errors.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line: user errors print one line to stderr and exit with 2. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Zoo());
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            boolean verbose = parseResult.hasMatchedOption("--verbose")
                    || parseResult.subcommands().stream().anyMatch(p -> p.hasMatchedOption("--verbose"));
            if (e instanceof ZooException) {
                err.println("zoo: " + e.getMessage());
            } else {
                err.println("zoo: internal error: " + e + (verbose ? "" : " (run with --verbose for the stack trace)"));
            }
            if (verbose) {
                e.printStackTrace(err);
            }
            err.flush();
            return 2;
        });
        return cl;
    }

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Zoo.class.getPackage().getImplementationVersion();
            return new String[] {"cnn-zoo " + (v != null ? v : "development build")};
        }
    }
}
