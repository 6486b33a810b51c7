package dev.cnnzoo.cli;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.io.FileProblems;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.jar.JarFile;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code zoo} command. */
@Command(name = "zoo", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT, versionProvider = Zoo.VersionProvider.class,
        description = "A model zoo of the classic convolutional networks, exported as ONNX and run by ONNX Runtime.",
        subcommands = {ListCommand.class, InfoCommand.class, ExportCommand.class, RunCommand.class, TrainCommand.class, EvalCommand.class,
                PredictCommand.class, BenchCommand.class, ImportCommand.class, QuantizeCommand.class, ServeCommand.class, ServeBenchCommand.class,
                CommandLine.HelpCommand.class})
public final class Zoo implements Runnable {
    /** The exit status of every refusal, user error or bug alike (picocli's for a usage error). */
    static final int ERROR = 2;

    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT, description = "Show stack traces on errors.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        CommandLine cl = commandLine();
        for (String problem : pluginProblems(System.getenv("ZOO_PLUGINS"))) {
            cl.getErr().println("zoo: warning: " + problem);
        }
        cl.getErr().flush();
        System.exit(cl.execute(args));
    }

    /**
     * The configured command line. Every failure is one line on stderr and exit status 2: an
     * expected one (a {@link ZooException}, an I/O failure, an overflowing size, memory) in the user's
     * terms; anything else as an internal error, a bug to report. {@code --verbose} adds the stack trace.
     */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Zoo());
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            boolean verbose = parseResult.hasMatchedOption("--verbose")
                    || parseResult.subcommands().stream().anyMatch(p -> p.hasMatchedOption("--verbose"));
            String message = userMessage(e, commandLine.getCommandName());
            if (message != null) {
                err.println("zoo: " + message);
            } else {
                err.println("zoo: internal error: " + e + (verbose ? "" : " (run with --verbose for the stack trace)"));
            }
            if (verbose) {
                e.printStackTrace(err);
            }
            err.flush();
            return ERROR;
        });
        // A mistyped option is one line naming it and where the help is, not the whole usage text.
        cl.setParameterExceptionHandler((e, args) -> {
            CommandLine c = e.getCommandLine();
            PrintWriter err = c.getErr();
            String name = c.getCommandSpec().qualifiedName(" ");
            String help = c == c.getCommandSpec().root().commandLine() ? "zoo --help" : "zoo help " + c.getCommandName();
            err.println("zoo: " + e.getMessage() + " (" + help + " lists " + (name.equals("zoo") ? "the commands" : "its options") + ")");
            err.flush();
            return ERROR;
        });
        return cl;
    }

    /**
     * What to tell the user about {@code e}, or null when it is a bug. Expected failures: the zoo's
     * own refusals, anything the file system or the operating system refused, a file name Java cannot
     * use, a size that overflows, memory running out, and a plugin that cannot be loaded.
     */
    static String userMessage(Throwable e, String command) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ZooException z) {
                return LibraryErrors.message(z, command);
            }
            if (t instanceof IOException io) {
                return FileProblems.describe(io);
            }
            if (t instanceof UncheckedIOException u) {
                return FileProblems.describe(u);
            }
            if (t instanceof InvalidPathException p) {
                return "'" + p.getInput() + "' is not a usable file name: " + p.getReason();
            }
            if (t instanceof OutOfMemoryError) {
                return String.format(java.util.Locale.ROOT, "out of memory: this needs more than the %.1f GiB the Java heap may use "
                        + "(set ZOO_JAVA_OPTS=-Xmx<size> for ./zoo, or use a smaller model, batch or input)",
                        Runtime.getRuntime().maxMemory() / (double) (1L << 30));
            }
            if (t instanceof ArithmeticException a && String.valueOf(a.getMessage()).contains("overflow")) {
                return "a size is too large to compute (integer overflow): check the shapes, batch sizes and class counts given";
            }
            if (t instanceof ServiceConfigurationError s) {
                return "a model plugin on the class path cannot be loaded: " + s.getMessage();
            }
        }
        return null;
    }

    /**
     * What is wrong with the plugin jars the launcher was given ({@code ZOO_PLUGINS}, a path list):
     * the JVM silently skips a class-path entry that is missing or not a jar, so the models a user
     * expects would just not be there.
     */
    static List<String> pluginProblems(String pluginPath) {
        List<String> problems = new ArrayList<>();
        if (pluginPath == null || pluginPath.isBlank()) {
            return problems;
        }
        for (String entry : pluginPath.split(java.io.File.pathSeparator)) {
            if (entry.isBlank()) {
                continue;
            }
            Path p = Path.of(entry);
            if (!Files.exists(p)) {
                problems.add("plugin jar " + entry + " (ZOO_PLUGINS) does not exist; its models are not loaded");
            } else if (Files.isDirectory(p)) {
                problems.add("plugin " + entry + " (ZOO_PLUGINS) is a folder, not a jar; its models are not loaded");
            } else {
                try (JarFile jar = new JarFile(p.toFile())) {
                    if (jar.getEntry("META-INF/services/dev.cnnzoo.api.ModelProvider") == null) {
                        problems.add("plugin jar " + entry + " (ZOO_PLUGINS) registers no model provider "
                                + "(META-INF/services/dev.cnnzoo.api.ModelProvider); it adds no models");
                    }
                } catch (IOException e) {
                    problems.add("plugin jar " + entry + " (ZOO_PLUGINS) cannot be opened as a jar (" + e.getMessage()
                            + "); its models are not loaded");
                }
            }
        }
        return problems;
    }

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Zoo.class.getPackage().getImplementationVersion();
            return new String[] {"cnn-zoo " + (v != null ? v : "development build")};
        }
    }
}
