package dev.cnnzoo.cli;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.runtime.interchange.WeightsResolver;
import dev.cnnzoo.training.Loss;
import dev.cnnzoo.training.Optimizer;
import dev.cnnzoo.training.TrainingArtifacts;
import dev.cnnzoo.training.TrainingGraph;
import dev.cnnzoo.training.data.Augmentation;
import dev.cnnzoo.training.data.Dataset;
import dev.cnnzoo.training.data.Datasets;
import dev.cnnzoo.training.run.Schedule;
import dev.cnnzoo.training.run.StepEngine;
import dev.cnnzoo.training.run.Trainer;
import dev.cnnzoo.training.run.TrainingFinishedException;
import dev.cnnzoo.training.run.TrainingJob;
import dev.cnnzoo.training.run.TrainingRun;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "train", description = {
        "Train a model on a dataset through its training artifacts (standard ONNX ops, plain ONNX Runtime).",
        "The data folder holds IDX files (MNIST, Fashion-MNIST), CIFAR-10 binary batches, or one folder of images per class.",
        "--weights starts from those weights where names and shapes match (a replaced head starts fresh).",
        "--resume continues the run in --out as it was made; other options that change the run are refused, and --epochs may lengthen it."})
public final class TrainCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL")
    String id;

    @Option(names = "--data", paramLabel = "DIR", description = "Dataset folder (default: Debian's /usr/share/datasets/fashion-mnist when installed).")
    Path data;

    @Option(names = "--epochs", defaultValue = "" + TrainingJob.DEFAULT_EPOCHS, description = "Epochs (default ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch", defaultValue = "" + TrainingJob.DEFAULT_BATCH_SIZE, description = "Batch size (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--optimizer", defaultValue = "nadam", description = "sgd, adam, adamw or nadam (default ${DEFAULT-VALUE}).")
    String optimizer;

    @Option(names = "--lr", defaultValue = "" + TrainingJob.DEFAULT_LEARNING_RATE, description = "Base learning rate (default ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--momentum", defaultValue = "0.9", description = "SGD momentum (default ${DEFAULT-VALUE}).")
    double momentum;

    @Option(names = "--nesterov", description = "Nesterov momentum for SGD.")
    boolean nesterov;

    @Option(names = "--weight-decay", description = "L2 weight decay (decoupled for adamw; default 0, 0.01 for adamw).")
    double weightDecay;

    @Option(names = "--schedule", defaultValue = "constant", description = "constant, step:EPOCHS:GAMMA or cosine (default ${DEFAULT-VALUE}).")
    String schedule;

    @Option(names = "--warmup-steps", defaultValue = "0", description = "Linear learning-rate warm-up over this many steps.")
    long warmup;

    @Option(names = "--label-smoothing", defaultValue = "0", description = "Label smoothing ε (Inception v3 uses 0.1).")
    double labelSmoothing;

    @Option(names = "--aux-weight", defaultValue = "0.3", description = "Weight of auxiliary classifiers' losses (default ${DEFAULT-VALUE}).")
    double auxWeight;

    @Option(names = "--freeze-until", paramLabel = "LAYER", description = "Freeze every parameter up to and including this layer (transfer learning).")
    String freezeUntil;

    @Mixin
    WeightsMixin weights;

    @Option(names = "--augment", paramLabel = "LIST", description = "none, or a comma list of shift, crop, flip, lighting (default: by dataset format).")
    String augment;

    @Option(names = "--out", paramLabel = "DIR", description = "Output folder (default runs/MODEL).")
    Path out;

    @Option(names = "--resume", description = "Continue the run in --out from its checkpoint, exactly where it stopped.")
    boolean resume;

    @Option(names = "--checkpoint-every", defaultValue = "" + TrainingJob.DEFAULT_CHECKPOINT_EVERY,
            description = "Also checkpoint every N steps (default ${DEFAULT-VALUE}; always at each epoch's end).")
    int checkpointEvery;

    @Option(names = "--limit", defaultValue = "0", description = "Use only the first N images of each split (smoke runs).")
    int limit;

    @Mixin
    RuntimeMixin runtime;

    @Option(names = "--recompute", negatable = true, description = {"Recompute each ReLU output after "
            + "a batch norm in the backward pass instead of keeping it (the default): less activation memory for a few percent more time, "
            + "the same weights. --no-recompute keeps every activation, as PyTorch does."})
    Boolean recompute;

    @Option(names = "--separate", description = "Run ONNX Runtime's layout (training then optimizer model) instead of the fused step model.")
    boolean separate;

    @Option(names = "--no-progress", description = "No progress bar, nor the line per logged step printed when output is not a terminal.")
    boolean noProgress;

    @Mixin
    ModelOptions modelOptions;


    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** What the options ask for: the run (new, or the one in --out to resume) and how to run it. */
    public record Prepared(TrainingRun run, Trainer.Settings settings) {
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter outWriter = spec.commandLine().getOut();
        Optional<Prepared> prepared = prepare(outWriter);
        if (prepared.isEmpty()) {
            return 0;           // a resumed run that has finished said so
        }
        TrainingRun run = prepared.get().run();
        Path dir = run.dir();
        Display.Steps steps = noProgress ? Display.Steps.NONE : System.console() != null ? Display.Steps.BAR : Display.Steps.LINES;
        Trainer.Outcome o = new Trainer(prepared.get().settings()).train(run, new Display(outWriter, steps, LOG_EVERY));
        outWriter.printf("trained %s for %d steps; wrote %s and %s (metrics in %s, curve in %s)%n", run.model().id(), o.steps(), o.model(),
                o.weights(), dir.resolve(Trainer.METRICS_FILE), dir.resolve(Trainer.CURVE_FILE));
        outWriter.flush();
        return 0;
    }

    /**
     * The run and settings these flags describe (`zoo spark train` takes every `zoo train` flag
     * through this); loading --weights is reported on {@code outWriter}. Empty when the run to
     * resume has finished, which is said on {@code outWriter}.
     */
    public Optional<Prepared> prepare(PrintWriter outWriter) {
        RuntimeOptions options = runtime.options();
        Path dir = out != null ? out : Path.of("runs", id);
        ModelZoo zoo = ModelZoo.load();
        TrainingRun run;
        if (resume) {
            run = resumed(zoo, dir);
            if (run.finished()) {
                outWriter.println(LibraryErrors.finished(new TrainingFinishedException(dir, run.job().epochs(), run.step())));
                outWriter.flush();
                return Optional.empty();
            }
        } else {
            TrainingJob job = applyGiven(TrainingJob.builder(data != null ? data : defaultData()).build());
            Model model = job.buildModel(zoo, id, modelOptions.config());
            run = TrainingRun.start(dir, model, job.toBuilder().seed(model.config().seed()).build());
            if (weights.given()) {
                WeightsResolver.Resolved t = weights.transfer(zoo, model);
                outWriter.printf("weights: %d tensors loaded from %s%s%n", t.loaded(), weights.weights,
                        t.kept().isEmpty() ? "" : "; starting fresh: " + String.join(", ", t.kept()));
                run = run.startingFrom(t.weights());
            }
        }
        Trainer.Settings settings = new Trainer.Settings(options, separate ? StepEngine.Mode.SEPARATE : StepEngine.Mode.FUSED, LOG_EVERY, 2,
                TrainingGraph.Activations.recomputing(recompute));
        return Optional.of(new Prepared(run, settings));
    }

    /** Debian's Fashion-MNIST, the data when --data is not given. */
    static Path defaultData() {
        return Datasets.installedDefault().orElseThrow(() -> new ZooException("no --data folder given and " + Datasets.DEBIAN_FASHION_MNIST
                + " does not exist (install Debian's dataset-fashion-mnist, or pass --data DIR)"));
    }

    private boolean given(String option) {
        return spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    /**
     * {@code base} with every option given on the command line applied: a new run's job (on the
     * library's defaults), or what a resumed run would become (to find what differs).
     */
    private TrainingJob applyGiven(TrainingJob base) {
        TrainingJob.Builder b = base.toBuilder();
        if (given("--data")) {
            b.data(data);
        }
        if (given("--limit")) {
            b.limit(limit);
        }
        Optimizer opt = given("--optimizer") ? Optimizer.of(optimizer) : base.optimizer();
        if (opt.kind() == Optimizer.Kind.SGD && (given("--momentum") || given("--nesterov"))) {
            opt = Optimizer.sgd(given("--momentum") ? momentum : opt.momentum(), given("--nesterov") ? nesterov : opt.nesterov())
                    .withWeightDecay(opt.weightDecay());
        }
        if (given("--weight-decay")) {
            opt = opt.withWeightDecay(weightDecay);
        }
        b.optimizer(opt);
        if (given("--lr")) {
            b.learningRate(lr);
        }
        if (given("--schedule")) {
            b.schedule(Schedule.parse(schedule));
        }
        if (given("--warmup-steps")) {
            b.warmupSteps(warmup);
        }
        if (given("--label-smoothing") || given("--aux-weight")) {
            Loss l = base.loss();
            b.loss(new Loss(given("--label-smoothing") ? labelSmoothing : l.labelSmoothing(), given("--aux-weight") ? auxWeight : l.auxiliaryWeight()));
        }
        if (given("--epochs")) {
            b.epochs(epochs);
        }
        if (given("--batch")) {
            b.batchSize(batch);
        }
        if (given("--freeze-until")) {
            b.freezeUntil(freezeUntil);
        }
        if (given("--augment")) {
            b.augmentation(Augmentation.parse(augment));
        }
        if (given("--checkpoint-every")) {
            b.checkpointEvery(checkpointEvery);
        }
        return b.build();
    }

    /** The options that set each checkpoint property. */
    private static final Map<String, List<String>> OPTIONS_OF = Map.ofEntries(Map.entry("data", List.of("--data")),
            Map.entry("limit", List.of("--limit")), Map.entry("optimizer", List.of("--optimizer", "--momentum", "--nesterov", "--weight-decay")),
            Map.entry("learning_rate", List.of("--lr")), Map.entry("schedule", List.of("--schedule")),
            Map.entry("warmup_steps", List.of("--warmup-steps")), Map.entry("label_smoothing", List.of("--label-smoothing")),
            Map.entry("auxiliary_weight", List.of("--aux-weight")), Map.entry("epochs", List.of("--epochs")),
            Map.entry("batch_size", List.of("--batch")), Map.entry("freeze_until", List.of("--freeze-until")),
            Map.entry("augmentation", List.of("--augment")), Map.entry("classes", List.of("--classes")),
            Map.entry("inputChannels", List.of("--input")), Map.entry("inputSize", List.of("--input")), Map.entry("includeTop", List.of("--no-top")),
            Map.entry("globalPool", List.of("--pool")), Map.entry("dropout", List.of("--dropout")), Map.entry("auxiliary", List.of("--aux", "--no-aux")),
            Map.entry("seed", List.of("--seed")), Map.entry("options", List.of("--option")));

    /**
     * The run in {@code dir}, lengthened by --epochs if asked; options given that would change the
     * run otherwise are refused, all of them named.
     */
    private TrainingRun resumed(ModelZoo zoo, Path dir) {
        if (!Files.exists(dir.resolve(TrainingArtifacts.CHECKPOINT))) {
            throw new ZooException("--resume: " + dir + " holds no checkpoint (" + TrainingArtifacts.CHECKPOINT + ")");
        }
        TrainingRun run = TrainingRun.resume(dir, zoo);
        if (!run.model().id().equals(id)) {
            throw new ZooException("--resume: " + dir + " holds a run of " + run.model().id() + ", not " + id);
        }
        List<String> refused = new ArrayList<>();
        if (weights.given()) {
            refused.add("--weights " + weights.weights + " (the run goes on from its checkpoint)");
        }
        Map<String, Object> runConfig = run.model().config().describe();
        Map<String, String> seen = new LinkedHashMap<>();
        modelOptions.config().describe().forEach((key, asked) -> {
            if (!Objects.equals(String.valueOf(asked), String.valueOf(runConfig.get(key)))) {
                seen.putIfAbsent(flags(key), asked + " (the run's: " + runConfig.getOrDefault(key, "the model's default") + ")");
            }
        });
        seen.forEach((flag, values) -> refused.add(flag + " " + values));
        TrainingJob asked = applyGiven(run.job());
        for (TrainingJob.Difference d : run.job().differences(asked)) {
            boolean lengthens = d.property().equals("epochs") && asked.epochs() > run.job().epochs();
            if (!lengthens && !d.property().equals("checkpoint_every")) {
                refused.add(flags(d.property()) + " " + d.theirs() + " (the run's: " + d.mine() + ")");
            }
        }
        if (!refused.isEmpty()) {
            throw new ZooException("--resume continues the run in " + dir + " as it was made, but " + (refused.size() == 1 ? "this option differs"
                    : "these options differ") + " from it: " + String.join("; ", refused) + ". Leave them out, or train with them into a new --out folder");
        }
        if (asked.epochs() > run.job().epochs()) {
            run = run.withEpochs(asked.epochs());
        }
        return asked.checkpointEvery() != run.job().checkpointEvery() ? run.withCheckpointEvery(asked.checkpointEvery()) : run;
    }

    /** The options given on the command line that set {@code property}, e.g. "--optimizer/--momentum". */
    private String flags(String property) {
        List<String> all = OPTIONS_OF.getOrDefault(property, List.of(property));
        List<String> given = all.stream().filter(this::given).toList();
        return String.join("/", given.isEmpty() ? all : given);
    }

    /** Steps between the metrics log's step records (and the plain progress lines). */
    private static final int LOG_EVERY = 20;

    /**
     * A line per epoch, and per step either a progress bar (on a terminal) or, when output goes to a
     * file or a pipe, a plain line per logged step: a bar redrawn into a log is unreadable.
     */
    private static final class Display implements Trainer.Listener {
        enum Steps {
            BAR, LINES, NONE
        }

        private final PrintWriter out;
        private final Steps steps;
        private final int logEvery;
        private int batchSize;
        private ProgressBar progress;

        Display(PrintWriter out, Steps steps, int logEvery) {
            this.out = out;
            this.steps = steps;
            this.logEvery = logEvery;
        }

        @Override
        public void started(TrainingRun run, Dataset train, Dataset test, long stepsPerEpoch) {
            TrainingJob job = run.job();
            long firstStep = run.step();
            batchSize = job.batchSize();
            out.printf("%s on %s: %d training images%s, %d steps per epoch of %d, %s, lr %s (%s)%s%n", run.model().id(), train.description(),
                    train.size(), test == null ? "" : ", " + test.size() + " test images", stepsPerEpoch, job.batchSize(),
                    job.optimizer().describe(), job.learningRate(), job.schedule().text(), firstStep > 0 ? "; resuming at step " + firstStep : "");
            out.flush();
        }

        @Override
        public void step(Trainer.Progress p) {
            if (steps == Steps.LINES && p.step() % logEvery == 0) {
                double eta = p.imagesPerSecond() > 0 ? (p.stepsPerEpoch() - p.stepInEpoch()) * batchSize / p.imagesPerSecond() : 0;
                out.printf(Locale.ROOT, "epoch %d/%d step %d/%d: loss %.4f, accuracy %.2f%%, lr %.2e, %.0f images/s, epoch ends in %s%n",
                        p.epoch() + 1, p.epochs(), p.stepInEpoch(), p.stepsPerEpoch(), p.loss(), 100 * p.accuracy(), p.learningRate(),
                        p.imagesPerSecond(), duration(eta));
                out.flush();
            }
            if (steps != Steps.BAR) {
                return;
            }
            if (progress == null) {
                progress = new ProgressBarBuilder().setTaskName(String.format("epoch %d/%d", p.epoch() + 1, p.epochs()))
                        .setInitialMax(p.stepsPerEpoch()).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500)
                        .startsFrom(p.stepInEpoch() - 1, java.time.Duration.ZERO).build();
            }
            progress.stepTo(p.stepInEpoch());
            progress.setExtraMessage(String.format(Locale.ROOT, "loss %.4f acc %.2f%% lr %.2e %.0f img/s", p.loss(), 100 * p.accuracy(),
                    p.learningRate(), p.imagesPerSecond()));
        }

        private static String duration(double seconds) {
            long s = Math.round(seconds);
            return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60)
                    : s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + "s";
        }

        @Override
        public void epoch(Trainer.EpochSummary s) {
            if (progress != null) {
                progress.close();
                progress = null;
            }
            out.printf(Locale.ROOT, "epoch %d: train loss %.4f accuracy %.2f%%%s, %.1f s, %.0f images/s%n", s.epoch(), s.trainLoss(),
                    100 * s.trainAccuracy(), s.testAccuracy() == null ? "" : String.format(Locale.ROOT, "; test loss %.4f accuracy %.2f%%",
                            s.testLoss(), 100 * s.testAccuracy()), s.seconds(), s.imagesPerSecond());
            out.flush();
        }
    }
}
