package dev.cnnzoo.cli;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.NaturalOrder;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Summary;
import dev.cnnzoo.onnx.ZooMetadata;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.runtime.ZooSessions;
import dev.cnnzoo.runtime.bench.Benchmark;
import dev.cnnzoo.runtime.bench.Isolation;
import dev.cnnzoo.runtime.bench.Latencies;
import dev.cnnzoo.runtime.bench.Machine;
import dev.cnnzoo.runtime.bench.ResidentMemory;
import dev.cnnzoo.runtime.bench.SessionRunner;
import dev.cnnzoo.training.Optimizer;
import dev.cnnzoo.training.TrainingGraph;
import dev.cnnzoo.io.AtomicFile;
import dev.cnnzoo.training.run.StepEngine;
import dev.cnnzoo.training.run.StepProfile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "bench", description = {"Latency, throughput and memory of zoo models (or ONNX files) in ONNX Runtime, inference or training steps.",
        "Per model and batch: p50/p90/p99 latency, images/s, achieved GFLOP/s (2 FLOPs per MAC of the model summary) and peak resident memory.",
        "--vs times another ONNX file of the same network (e.g. torchvision's torch.onnx.export) in the same run, runs alternating; "
                + "--vs-pytorch times the network in PyTorch eager mode."})
final class BenchCommand implements Callable<Integer> {
    @Parameters(paramLabel = "GLOB|FILE.onnx", arity = "0..*",
            description = {"Model ids, globs (resnet*, vgg1?-bn), families, or ONNX files (default: every model in the zoo).",
                    "ID@B[,B] times that model at those batch sizes instead of --batch's (resnet18@8 lenet5@64)."})
    List<String> targets = new ArrayList<>();

    @Option(names = "--batch", paramLabel = "B", split = ",", defaultValue = "1", description = "Batch sizes (default ${DEFAULT-VALUE}).")
    List<Integer> batches;

    @Mixin
    RuntimeMixin runtime;

    @Mixin
    WeightsMixin weights;

    @Option(names = "--warmup", paramLabel = "W", defaultValue = "3", description = "Untimed runs first (default ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--iters", paramLabel = "I", defaultValue = "20", description = "Timed runs (default ${DEFAULT-VALUE}).")
    int iterations;

    @Option(names = "--budget", paramLabel = "SECONDS", defaultValue = "0",
            description = "Stop the timed runs of a model and batch after this long (at least 3 runs; 0: no limit).")
    double budget;

    @Option(names = "--format", paramLabel = "table|json|csv", defaultValue = "table", description = "Output on stdout (default ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--train", description = "Time training steps (forward, backward, optimizer update) through the training artifacts.")
    boolean train;

    @Option(names = "--optimizer", paramLabel = "NAME", defaultValue = "nadam", description = "With --train: sgd, adam, adamw or nadam (default ${DEFAULT-VALUE}, as zoo train).")
    String optimizer;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "1e-3", description = "With --train: the learning rate (default ${DEFAULT-VALUE}).")
    double learningRate;

    @Option(names = "--separate", description = "With --train: run the training model then the optimizer model instead of the fused step.")
    boolean separate;

    @Option(names = "--recompute", negatable = true, description = {"With --train: recompute each ReLU output after a batch norm in the backward "
            + "pass instead of keeping it (the default, as `zoo train`: less memory, the same weights); --no-recompute keeps every activation."})
    Boolean recompute;

    @Option(names = "--profile", paramLabel = "DIR", description = {"With --train: ONNX Runtime's profile of the timed steps, per model and batch, "
            + "into DIR (MODEL-bB_DATE.json), with where the time goes by phase, operator and layer (MODEL-bB.txt)."})
    Path profile;

    @Option(names = "--vs", paramLabel = "FILE.onnx", description = "Also time this ONNX file of the same network (torchvision's export; the FP32 file beside an INT8 one), runs alternating; prints model÷file.")
    Path vs;

    @Option(names = "--vs-pytorch", description = "Also time the network in PyTorch (eager, same threads and runs; needs python3-torch, and an optimised BLAS such as libopenblas0-openmp for a fair comparison).")
    boolean vsPyTorch;

    @Option(names = "--python", paramLabel = "PATH", description = "The Python with torch and torchvision for --vs-pytorch (default /usr/bin/python3).")
    String python;

    @Option(names = "--out", paramLabel = "FILE.json", description = "Write every measurement, its timed runs and the machine as JSON.")
    Path out;

    @Option(names = "--chart", paramLabel = "FILE.png", description = "Draw images/s per model as a PNG bar chart.")
    Path chart;

    @Option(names = "--from", paramLabel = "FILE.json", description = "Measure nothing: show a report saved with --out again (table, "
            + "CSV or JSON) and draw its --chart.")
    Path from;

    @Option(names = "--no-progress", description = "No progress bar.")
    boolean noProgress;

    @Option(names = "--in-process", description = {"Measure every model in this process. By default each of several models runs in a "
            + "child process of its own, so its peak memory is its own, not what earlier models left resident."})
    boolean inProcess;

    @Mixin
    ModelOptions modelOptions;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** The reference-BLAS warning is said once a run, not once a model. */
    private boolean warnedOfReferenceBlas;

    private sealed interface Target permits ZooTarget, FileTarget {
        String name();

        /** The batch sizes to time it at. */
        List<Integer> batches();
    }

    private record ZooTarget(String name, List<Integer> batches) implements Target {
    }

    private record FileTarget(String name, Path file, List<Integer> batches) implements Target {
    }

    @Override
    public Integer call() throws IOException {
        if (from != null) {
            return fromSaved();
        }
        validate();
        RuntimeOptions asked = runtime.options();     // before any model is built
        String fmt = format.toLowerCase(Locale.ROOT);
        ModelZoo zoo = ModelZoo.load();
        List<Target> resolved = resolve(zoo);
        if (vs != null && resolved.size() != 1) {
            throw new ZooException("--vs compares one model (a zoo id or an ONNX file, an INT8 one say) with one ONNX file; give exactly one");
        }
        if (vs != null && !Files.isRegularFile(vs)) {
            throw new ZooException("--vs file " + vs + " does not exist");
        }
        if (vsPyTorch && resolved.stream().anyMatch(t -> t instanceof FileTarget)) {
            throw new ZooException("--vs-pytorch times zoo models; an ONNX file has no PyTorch counterpart");
        }
        if (train && resolved.stream().anyMatch(t -> t instanceof FileTarget)) {
            throw new ZooException("--train times zoo models (their training artifacts); an ONNX file has none");
        }
        if (weights.given() && resolved.stream().anyMatch(t -> t instanceof FileTarget)) {
            throw new ZooException("--weights is for zoo models; an ONNX file carries its own");
        }
        // PyTorch and ONNX Runtime choose their thread counts differently: fix one for both.
        int threadCount = vsPyTorch && asked.threads() == 0 ? Runtime.getRuntime().availableProcessors() : asked.threads();
        RuntimeOptions options = asked.threads(threadCount);
        Benchmark.Plan plan = new Benchmark.Plan(warmup, iterations, budget);
        Optimizer opt = train ? Optimizer.of(optimizer) : null;

        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("mode", train ? "training step" : "inference");
        settings.put("device", options.device().toString());
        settings.put("threads", threadCount == 0 ? "ONNX Runtime's default" : threadCount);
        settings.put("batches", resolved.stream().allMatch(t -> t.batches().equals(batches)) ? List.copyOf(batches)
                : resolved.stream().map(t -> t.name() + "@" + t.batches().stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(",")))
                        .toList());
        settings.put("warm-up", warmup);
        settings.put("timed runs", iterations);
        settings.put("budget seconds", budget > 0 ? budget : null);
        settings.put("optimizer", train ? opt.describe() : null);
        settings.put("activations", !train ? null
                : TrainingGraph.Activations.recomputing(recompute) == TrainingGraph.Activations.RECOMPUTE ? "recomputed after batch norms" : "all kept");
        // glibc's mmap threshold moves a peak resident memory by hundreds of MiB (the zoo launcher sets it)
        settings.put("glibc mmap threshold", System.getenv("MALLOC_MMAP_THRESHOLD_"));
        int width = resolved.stream().mapToInt(t -> t.name().length()).max().orElse(12);
        if (vs != null) {
            width = Math.max(width, vs.getFileName().toString().length() + 5);
        }
        if (vsPyTorch) {
            width = Math.max(width, 44);        // "  pytorch torch 1.13.0a0, 2t, reference BLAS"
        }
        BenchReport report = new BenchReport(Machine.current(), settings, width + 2);
        PrintWriter stdout = spec.commandLine().getOut();
        boolean table = fmt.equals("table");
        if (table) {
            stdout.println(report.describeSetup());
            stdout.println(report.tableHeader());
            stdout.flush();
        }
        boolean isolate = resolved.size() > 1 && !inProcess;
        for (Target t : resolved) {
            List<BenchReport.Row> rows = isolate ? inChildProcess(t, threadCount)
                    : t instanceof ZooTarget z ? benchModel(zoo, z.name(), z.batches(), options, plan, opt) : benchFile((FileTarget) t, options, plan);
            if (vsPyTorch) {
                rows = new ArrayList<>(rows);
                try {
                    rows.addAll(pyTorchRows(zoo.find(t.name()), t.batches(), rows, threadCount, plan));
                } catch (ZooException e) {
                    if (resolved.size() == 1) {
                        throw e;
                    }
                    // One model without a counterpart does not stop a run over many.
                    spec.commandLine().getErr().println("zoo: --vs-pytorch: " + e.getMessage());
                    spec.commandLine().getErr().flush();
                }
            }
            for (BenchReport.Row r : rows) {
                report.add(r);
                if (table) {
                    stdout.println(report.tableLine(r));
                    if (t instanceof FileTarget && r.source().equals("vs")) {
                        // A file against a file (INT8 against its float model, say): say which is faster, and by how much.
                        stdout.printf(Locale.ROOT, "  %s is %.2f× as fast as %s at batch %d (median of paired rounds)%n", t.name(),
                                1 / r.zooRatio(), r.detail(), r.batch());
                    }
                    stdout.flush();
                }
            }
        }
        finish(report, fmt, stdout);
        return 0;
    }

    /** The report's end in the format asked (the table's rows are already printed), then --out and --chart. */
    private void finish(BenchReport report, String fmt, PrintWriter stdout) throws IOException {
        boolean table = fmt.equals("table");
        switch (fmt) {
            case "table" -> stdout.println(BenchReport.FLOPS_NOTE);
            case "json" -> stdout.println(report.jsonText());
            default -> report.writeCsv(stdout);
        }
        if (out != null) {
            report.writeJson(out);
            stdout.println((table ? "" : "# ") + "wrote " + out);
        }
        if (chart != null) {
            report.writeChart(chart);
            stdout.println((table ? "" : "# ") + "wrote " + chart);
        }
        stdout.flush();
    }

    private void validate() {
        if (batches.isEmpty() || batches.stream().anyMatch(b -> b == null || b < 1)) {
            throw new ZooException("--batch needs batch sizes of at least 1, got " + batches);
        }
        batches = batches.stream().distinct().sorted().toList();
        if (iterations < 1) {
            throw new ZooException("--iters must be at least 1, got " + iterations);
        }
        if (warmup < 0) {
            throw new ZooException("--warmup must be 0 or more, got " + warmup);
        }
        if (budget < 0) {
            throw new ZooException("--budget must be 0 (no limit) or more seconds, got " + budget);
        }
        if (!Set.of("table", "json", "csv").contains(format.toLowerCase(Locale.ROOT))) {
            throw new ZooException("--format must be table, json or csv, got '" + format + "'");
        }
        if (vs != null && train) {
            throw new ZooException("--vs times inference only; a foreign ONNX file has no training step");
        }
        if (!train && (separate || recompute != null || !optimizer.equals("nadam") || profile != null)) {
            throw new ZooException("--optimizer, --separate, --[no-]recompute and --profile apply to --train only");
        }
        if (profile != null) {
            try {
                Files.createDirectories(profile);
            } catch (IOException e) {
                throw new ZooException("--profile: cannot make the folder " + profile + " (" + e.getMessage() + ")");
            }
        }
        // Before minutes of measuring, not after: a folder or a device as --out or --chart is refused now.
        if (out != null) {
            dev.cnnzoo.io.AtomicFile.checkTarget(out);
        }
        if (chart != null) {
            dev.cnnzoo.io.AtomicFile.checkTarget(chart);
        }
    }

    /** Ids and files, in the order given, each once; no arguments means every model. */
    private List<Target> resolve(ModelZoo zoo) {
        if (targets.isEmpty()) {
            return zoo.list().stream().map(i -> (Target) new ZooTarget(i.id(), batches)).toList();
        }
        Set<String> seen = new LinkedHashSet<>();
        List<Target> out = new ArrayList<>();
        for (String given : targets) {
            Path file = Path.of(given);
            if (given.endsWith(".onnx") || (!zoo.contains(given) && Files.isRegularFile(file))) {
                if (!Files.isRegularFile(file)) {
                    throw new ZooException("ONNX file " + given + " does not exist");
                }
                if (seen.add(given)) {
                    out.add(new FileTarget(file.getFileName().toString(), file, batches));
                }
                continue;
            }
            String arg = given;
            List<Integer> own = batches;
            int at = given.lastIndexOf('@');
            if (at > 0) {
                arg = given.substring(0, at);
                own = batchSizes(given.substring(at + 1), given);
            }
            // An exact id is that model alone, even where a family shares its name (alexnet).
            List<ModelInfo> matched = zoo.contains(arg) ? List.of(zoo.find(arg)) : zoo.list(arg);
            if (matched.isEmpty()) {
                if (arg.contains("*") || arg.contains("?") || arg.contains("[")) {
                    throw new ZooException("no model matches '" + arg + "' (see zoo list)");
                }
                zoo.find(arg);              // an unknown id: the error suggests near names
            }
            for (ModelInfo i : matched) {
                if (seen.add(i.id())) {
                    out.add(new ZooTarget(i.id(), own));
                }
            }
        }
        // The table and the chart read by family and depth (resnet18, resnet34 ... resnet152), not as typed.
        out.sort(java.util.Comparator.comparing(Target::name, modelOrder(zoo)));
        return out;
    }

    /** Zoo models by family and depth ({@link NaturalOrder}), then anything else (files) by name. */
    static java.util.Comparator<String> modelOrder(ModelZoo zoo) {
        return java.util.Comparator.comparing((String n) -> zoo.contains(n) ? 0 : 1).thenComparing((a, b) -> zoo.contains(a) && zoo.contains(b)
                ? NaturalOrder.models().compare(zoo.find(a), zoo.find(b)) : NaturalOrder.names().compare(a, b));
    }

    /** --from: a saved report shown and charted again, in model order. */
    private int fromSaved() throws IOException {
        if (!targets.isEmpty()) {
            throw new ZooException("--from shows a saved report; give no models with it");
        }
        if (!Set.of("table", "json", "csv").contains(format.toLowerCase(Locale.ROOT))) {
            throw new ZooException("--format must be table, json or csv, got '" + format + "'");
        }
        if (Files.isDirectory(from) || !Files.isRegularFile(from)) {
            throw new ZooException("--from " + from + (Files.isDirectory(from) ? " is a folder" : " does not exist"));
        }
        if (out != null) {
            dev.cnnzoo.io.AtomicFile.checkTarget(out);
        }
        if (chart != null) {
            dev.cnnzoo.io.AtomicFile.checkTarget(chart);
        }
        BenchReport report = BenchReport.fromJson(Files.readString(from), from.toString()).sorted(modelOrder(ModelZoo.load()));
        PrintWriter stdout = spec.commandLine().getOut();
        String fmt = format.toLowerCase(Locale.ROOT);
        if (fmt.equals("table")) {
            stdout.println(report.describeSetup());
            stdout.println(report.tableHeader());
            report.rows().forEach(r -> stdout.println(report.tableLine(r)));
        }
        finish(report, fmt, stdout);
        return 0;
    }

    /** "8" or "1,8" after a model's '@': batch sizes of at least 1, ascending. */
    private static List<Integer> batchSizes(String text, String target) {
        try {
            List<Integer> sizes = java.util.Arrays.stream(text.split(",")).map(String::strip).map(Integer::valueOf).distinct().sorted().toList();
            if (!sizes.isEmpty() && sizes.stream().allMatch(b -> b >= 1)) {
                return sizes;
            }
        } catch (NumberFormatException e) {
            // the message below says what was expected
        }
        throw new ZooException("'" + target + "': after '@' give batch sizes of at least 1, e.g. resnet18@8 or resnet18@1,8");
    }

    private List<BenchReport.Row> benchModel(ModelZoo zoo, String id, List<Integer> batches, RuntimeOptions options, Benchmark.Plan plan,
            Optimizer opt) {
        ModelConfig config = modelOptions.config();
        Model model = zoo.build(id, config);
        java.util.function.Supplier<dev.cnnzoo.weights.Weights> startingWeights = () -> weights.given() ? weights.resolve(zoo, model).weights()
                : dev.cnnzoo.weights.Weights.initial(model.graph(), model.config().seed());
        long flops = 2 * Summary.of(model.graph()).macs() * (train ? 3 : 1);
        String mode = train ? "train" : "inference";
        List<BenchReport.Row> rows = new ArrayList<>();
        if (train) {
            for (int b : batches) {
                ResidentMemory.resetPeak();
                Path prefix = profile == null ? null : profile.resolve(id + "-b" + b);
                try (TrainingStepRunner step = new TrainingStepRunner(model, startingWeights, opt, learningRate, b, options,
                        separate ? StepEngine.Mode.SEPARATE : StepEngine.Mode.FUSED,
                        TrainingGraph.Activations.recomputing(recompute), prefix)) {
                    Latencies l = time(id + " b" + b, List.of(step), plan).get(0);
                    rows.add(new BenchReport.Row(id, "zoo", null, mode, b, l, flops, peak(), null, null));
                    if (prefix != null) {
                        writeProfileReport(step.endProfiling(), id + " at batch " + b, profile.resolve(id + "-b" + b + ".txt"));
                    }
                }
            }
            return rows;
        }
        try (InferenceSession zooSession = ZooSessions.open(model, startingWeights.get(), options)) {
            return benchSessions(id, "zoo", zooSession, perSample(model), batches, flops, options, plan);
        }
    }

    private void writeProfileReport(Path json, String title, Path report) {
        AtomicFile.write(report, StepProfile.read(json).report(title, 25).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        spec.commandLine().getErr().println("zoo: wrote " + json + " and " + report);
        spec.commandLine().getErr().flush();
    }

    private List<BenchReport.Row> benchFile(FileTarget t, RuntimeOptions options, Benchmark.Plan plan) {
        try (InferenceSession s = InferenceSession.open(t.file(), options)) {
            ZooMetadata meta = new ZooMetadata(s.metadata());
            long flops = 2 * meta.macs().orElse(0);
            return benchSessions(t.name(), "onnx", s, meta.input().orElse(null), t.batches(), flops, options, plan);
        }
    }

    /**
     * Times one session per batch size and, with --vs, the --vs file's session in the same rounds
     * (runs alternating), reporting the first's time over the other's.
     *
     * @param perSample channels, height, width for inputs that leave them open (null: none known)
     */
    private List<BenchReport.Row> benchSessions(String name, String source, InferenceSession main, int[] perSample, List<Integer> batches, long flops,
            RuntimeOptions options, Benchmark.Plan plan) {
        List<BenchReport.Row> rows = new ArrayList<>();
        try (InferenceSession other = vs != null ? InferenceSession.open(vs, options) : null) {
            if (other != null) {
                checkComparable(name, main, other);
            }
            for (int b : batches) {
                ResidentMemory.resetPeak();
                try (SessionRunner z = SessionRunner.randomInputs(main, b, perSample, name);
                        SessionRunner o = other != null ? SessionRunner.randomInputs(other, b, perSample, vs.toString()) : null) {
                    List<Latencies> l = time(name + " b" + b, o == null ? List.of(z) : List.of(z, o), plan);
                    Long peak = peak();
                    rows.add(new BenchReport.Row(name, source, null, "inference", b, l.get(0), flops, peak, null, null));
                    if (o != null) {
                        rows.add(new BenchReport.Row(name, "vs", vs.getFileName().toString(), "inference", b, l.get(1), flops, null,
                                Latencies.pairedRatio(l.get(0), l.get(1)), l.get(0).p50() / l.get(1).p50()));
                    }
                }
            }
        }
        return rows;
    }

    /**
     * The same measurement of one target in a fresh JVM ({@link Isolation}), read back from its
     * JSON: each model starts from an empty process, so its peak resident memory is its own.
     */
    private List<BenchReport.Row> inChildProcess(Target t, int threadCount) {
        List<String> args = new ArrayList<>(List.of("bench", t instanceof FileTarget f ? f.file().toString() : t.name(), "--in-process",
                "--no-progress", "--format", "json", "--batch", t.batches().stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(",")),
                "--warmup", Integer.toString(warmup), "--iters", Integer.toString(iterations), "--budget", Double.toString(budget)));
        args.addAll(runtime.arguments(threadCount));
        if (train) {
            args.addAll(List.of("--train", "--optimizer", optimizer, "--lr", Double.toString(learningRate)));
        }
        if (separate) {
            args.add("--separate");
        }
        if (profile != null) {
            args.addAll(List.of("--profile", profile.toString()));
        }
        if (recompute != null) {
            args.add(recompute ? "--recompute" : "--no-recompute");
        }
        if (weights.given()) {
            args.addAll(List.of("--weights", weights.weights));
        }
        args.addAll(modelOptions.arguments());
        String json = Isolation.run(Zoo.class.getName(), args, t.name());
        try {
            return BenchReport.rowsFromJson(json);
        } catch (IOException e) {
            throw new ZooException("cannot read the measurements of " + t.name() + " from its process: " + e.getMessage(), e);
        }
    }

    private List<BenchReport.Row> pyTorchRows(ModelInfo info, List<Integer> batches, List<BenchReport.Row> zooRows, int threadCount,
            Benchmark.Plan plan) {
        String id = info.id();
        List<PyTorchBench.Result> results = PyTorchBench.run(python != null ? python : PyTorchBench.defaultPython(), info, batches, threadCount,
                plan, train, optimizer.toLowerCase(Locale.ROOT), learningRate, profile);
        List<BenchReport.Row> rows = new ArrayList<>();
        for (PyTorchBench.Result r : results) {
            BenchReport.Row zooRow = zooRows.stream().filter(z -> z.source().equals("zoo") && z.batch() == r.batch()).findFirst().orElseThrow();
            if (r.handicapped() && !warnedOfReferenceBlas) {
                spec.commandLine().getErr().println("zoo: --vs-pytorch: " + PyTorchBench.REFERENCE_BLAS_WARNING);
                spec.commandLine().getErr().flush();
                warnedOfReferenceBlas = true;
            }
            rows.add(new BenchReport.Row(id, "pytorch", r.detail(), zooRow.mode(),
                    r.batch(), r.latencies(), zooRow.flopsPerImage(), r.peakResident(), zooRow.latencies().p50() / r.latencies().p50(),
                    zooRow.latencies().p50() / r.latencies().p50()));
        }
        return rows;
    }

    /** The model's channels, height and width, for a file whose input leaves them open. */
    private static int[] perSample(Model model) {
        int[] size = model.config().inputSize();
        return new int[] {model.config().inputChannels(), size[0], size[1]};
    }

    /** A --vs file must take the same input as the model it is compared with, or the comparison means nothing. */
    private void checkComparable(String name, InferenceSession main, InferenceSession other) {
        if (other.inputs().size() != 1 || main.inputs().size() != 1) {
            throw new ZooException("--vs compares models with one image input; " + (other.inputs().size() != 1 ? "--vs file " + vs : name)
                    + " has " + Math.max(other.inputs().size(), main.inputs().size()) + " inputs");
        }
        long[] a = main.inputs().get(0).shape();
        long[] b = other.inputs().get(0).shape();
        boolean fits = a.length == b.length;
        for (int i = 1; fits && i < a.length; i++) {
            fits = a[i] < 0 || b[i] < 0 || a[i] == b[i];
        }
        if (!fits) {
            throw new ZooException("--vs file " + vs + " takes " + other.inputs().get(0) + " but " + name + " takes " + main.inputs().get(0));
        }
    }

    private List<Latencies> time(String task, List<? extends Runnable> subjects, Benchmark.Plan plan) {
        boolean bar = !noProgress && System.console() != null;
        if (!bar) {
            return Benchmark.interleaved(subjects, plan, Benchmark.Progress.NONE);
        }
        try (ProgressBar progress = new ProgressBarBuilder().setTaskName(task).setInitialMax((long) plan.total() * subjects.size())
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250).clearDisplayOnFinish().build()) {
            return Benchmark.interleaved(subjects, plan, (done, total) -> progress.stepTo(done));
        }
    }

    private static Long peak() {
        OptionalLong p = ResidentMemory.peak();
        return p.isPresent() ? p.getAsLong() : null;
    }
}
