package dev.cnnzoo.cli;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.runtime.Device;
import dev.cnnzoo.runtime.Devices;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.training.Checkpoint;
import dev.cnnzoo.training.Loss;
import dev.cnnzoo.training.Optimizer;
import dev.cnnzoo.training.TrainingArtifacts;
import dev.cnnzoo.training.data.Dataset;
import dev.cnnzoo.training.data.Datasets;
import dev.cnnzoo.training.data.Split;
import dev.cnnzoo.training.run.StepEngine;
import dev.cnnzoo.training.run.Trainer;
import dev.cnnzoo.training.run.TrainingJob;
import dev.cnnzoo.weights.Weights;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "train", description = {"Train a model on a dataset through its training artifacts (standard ONNX ops, plain ONNX Runtime).",
        "The data folder holds IDX files (MNIST, Fashion-MNIST), CIFAR-10 binary batches, or one folder of images per class."})
public final class TrainCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL")
    String id;

    @Option(names = "--data", paramLabel = "DIR", description = "Dataset folder (default: Debian's /usr/share/datasets/fashion-mnist when installed).")
    Path data;

    @Option(names = "--epochs", defaultValue = "10", description = "Epochs (default ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch", defaultValue = "64", description = "Batch size (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--optimizer", defaultValue = "nadam", description = "sgd, adam, adamw or nadam (default ${DEFAULT-VALUE}).")
    String optimizer;

    @Option(names = "--lr", defaultValue = "1e-3", description = "Base learning rate (default ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--momentum", defaultValue = "0.9", description = "SGD momentum (default ${DEFAULT-VALUE}).")
    double momentum;

    @Option(names = "--nesterov", description = "Nesterov momentum for SGD.")
    boolean nesterov;

    @Option(names = "--weight-decay", defaultValue = "0", description = "L2 weight decay (decoupled for adamw; default 0.01 there).")
    Double weightDecay;

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

    @Option(names = "--weights", paramLabel = "FILE|pretrained", description = "Start from these weights (matching names and shapes; a replaced head starts fresh).")
    String weights;

    @Option(names = "--augment", paramLabel = "LIST", description = "none, or a comma list of shift, crop, flip, lighting (default: by dataset format).")
    String augment;

    @Option(names = "--out", paramLabel = "DIR", description = "Output folder (default runs/MODEL).")
    Path out;

    @Option(names = "--resume", description = "Continue the run in --out from its checkpoint, exactly where it stopped.")
    boolean resume;

    @Option(names = "--checkpoint-every", defaultValue = "500", description = "Also checkpoint every N steps (default ${DEFAULT-VALUE}; always at each epoch's end).")
    int checkpointEvery;

    @Option(names = "--limit", defaultValue = "0", description = "Use only the first N images of each split (smoke runs).")
    int limit;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda (default ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--threads", defaultValue = "0", description = "Intra-op threads; 0 lets ONNX Runtime choose.")
    int threads;

    @Option(names = "--separate", description = "Run ONNX Runtime's layout (training then optimizer model) instead of the fused step model.")
    boolean separate;

    @Option(names = "--no-progress", description = "No progress bar (logs only).")
    boolean noProgress;

    @Mixin
    ModelOptions modelOptions;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** What the options ask for: the job (new, or the one in the checkpoint to resume) and how to run it. */
    public record Prepared(TrainingJob job, Trainer.Options options) {
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter outWriter = spec.commandLine().getOut();
        Prepared p = prepare(outWriter);
        TrainingJob job = p.job();
        Path dir = p.options().outDir();
        Trainer.Outcome o = Trainer.train(job, p.options(), new Display(outWriter, !noProgress));
        outWriter.printf("trained %s for %d steps; wrote %s and %s (metrics in %s, curve in %s)%n", job.modelId(), o.steps(), o.model(),
                o.weights(), dir.resolve(Trainer.METRICS_FILE), dir.resolve(Trainer.CURVE_FILE));
        outWriter.flush();
        return 0;
    }

    /**
     * The job and run options these flags describe (`zoo spark train` takes every `zoo train` flag
     * through this); loading --weights is reported on {@code outWriter}.
     */
    public Prepared prepare(PrintWriter outWriter) {
        Device where = Devices.usable(Device.parse(device));
        Path dir = out != null ? out : Path.of("runs", id);
        TrainingJob job;
        Weights initial = null;
        if (resume) {
            Path cp = dir.resolve(TrainingArtifacts.CHECKPOINT);
            if (!Files.exists(cp)) {
                throw new ZooException("--resume: " + dir + " holds no checkpoint (" + TrainingArtifacts.CHECKPOINT + ")");
            }
            TrainingJob saved = TrainingJob.fromProperties(Checkpoint.read(cp).properties());
            if (!saved.modelId().equals(id)) {
                throw new ZooException("--resume: " + dir + " holds a run of " + saved.modelId() + ", not " + id);
            }
            job = saved.withEpochs(Math.max(epochs, saved.epochs()));
        } else {
            job = newJob(dir);
            if (weights != null) {
                Model model = ModelZoo.load().build(job.modelId(), job.config());
                Weights loaded = WeightFiles.read(weights, model);
                Weights.Transfer t = loaded.transfer(model.graph(), model.config().seed());
                outWriter.printf("weights: %d tensors loaded from %s%s%n", t.loaded().size(), weights,
                        t.kept().isEmpty() ? "" : "; starting fresh: " + String.join(", ", t.kept()));
                initial = t.weights();
            }
        }
        return new Prepared(job, new Trainer.Options(dir, RuntimeOptions.cpu(threads).device(where),
                separate ? StepEngine.Mode.SEPARATE : StepEngine.Mode.FUSED, resume, initial, 20, 2));
    }

    /** A job from the flags; the model's input and classes follow the data unless given. */
    private TrainingJob newJob(Path dir) {
        Path dataDir = data != null ? data : Datasets.defaultFolder();
        ModelZoo zoo = ModelZoo.load();
        ModelInfo info = zoo.find(id);
        ModelConfig asked = modelOptions.config();
        ModelConfig resolved = asked.resolve(info);
        Dataset probe = Datasets.open(dataDir, Split.TRAIN, resolved.inputChannels(), resolved.inputSize()[0],
                Math.max(resolved.inputSize()[0], info.preprocessing().resize()));
        ModelConfig.Builder b = asked.toBuilder();
        if (modelOptions.classes == null) {
            b.classes(probe.classes().size());
        }
        if (modelOptions.input == null) {
            b.input(probe.channels(), probe.height(), probe.width());
        }
        Optimizer.Kind kind = Optimizer.Kind.parse(optimizer);
        Optimizer opt = switch (kind) {
            case SGD -> Optimizer.sgd(momentum, nesterov);
            case ADAM -> Optimizer.adam();
            case ADAMW -> Optimizer.adamw(0.01);
            case NADAM -> Optimizer.nadam();
        };
        if (weightDecay != null && (weightDecay > 0 || kind != Optimizer.Kind.ADAMW)) {
            opt = opt.withWeightDecay(weightDecay);
        }
        return new TrainingJob(id, b.build(), dataDir.toString(), limit, opt, lr, schedule, warmup, new Loss(labelSmoothing, auxWeight),
                epochs, batch, asked.resolve(info).seed(), freezeUntil, augment, checkpointEvery);
    }

    /** Progress bar per epoch and a line per epoch. */
    private static final class Display implements Trainer.Listener {
        private final PrintWriter out;
        private final boolean bar;
        private ProgressBar progress;

        Display(PrintWriter out, boolean bar) {
            this.out = out;
            this.bar = bar;
        }

        @Override
        public void started(TrainingJob job, Dataset train, Dataset test, long firstStep, long stepsPerEpoch) {
            out.printf("%s on %s: %d training images%s, %d steps per epoch of %d, %s, lr %s (%s)%s%n", job.modelId(), train.description(),
                    train.size(), test == null ? "" : ", " + test.size() + " test images", stepsPerEpoch, job.batchSize(),
                    job.optimizer().describe(), job.learningRate(), job.schedule(), firstStep > 0 ? "; resuming at step " + firstStep : "");
            out.flush();
        }

        @Override
        public void step(Trainer.Progress p) {
            if (!bar) {
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
