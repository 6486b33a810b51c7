package dev.cnnzoo.cli;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.io.AtomicFile;
import dev.cnnzoo.runtime.Device;
import dev.cnnzoo.runtime.Devices;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.training.Checkpoint;
import dev.cnnzoo.training.TrainingArtifacts;
import dev.cnnzoo.training.data.Dataset;
import dev.cnnzoo.training.data.Datasets;
import dev.cnnzoo.training.data.Split;
import dev.cnnzoo.training.run.Evaluator;
import dev.cnnzoo.training.run.TrainingJob;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "eval", description = "Loss and accuracy of trained weights on a dataset's test split, overall and per class.")
final class EvalCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL")
    String id;

    @ArgGroup(multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = "--checkpoint", paramLabel = "DIR|FILE", description = "A training run's folder or its checkpoint file.")
        Path checkpoint;

        @Option(names = "--weights", paramLabel = "FILE|pretrained", description = "Weights (.safetensors) or the zoo's pretrained ones.")
        String weights;
    }

    @Option(names = "--data", paramLabel = "DIR", description = "Dataset folder (default: the run's, else Debian's Fashion-MNIST).")
    Path data;

    @Option(names = "--split", defaultValue = "test", description = "test or train (default ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--batch", defaultValue = "256", description = "Batch size (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--limit", defaultValue = "0", description = "Only the first N images.")
    int limit;

    @Option(names = "--predictions", paramLabel = "FILE.csv", description = "Also write each image's label and predicted class.")
    Path predictions;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda.")
    String device;

    @Option(names = "--threads", defaultValue = "0", description = "Intra-op threads; 0 lets ONNX Runtime choose.")
    int threads;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    WeightCheckOptions weightChecks;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (limit < 0) {
            throw new ZooException("--limit must be 0 (every image) or more, got " + limit);
        }
        if (predictions != null) {
            AtomicFile.checkTarget(predictions);        // before the evaluation, not after it
        }
        Device where = Devices.usable(Device.parse(device));
        Model model;
        Weights w;
        Path dataDir = data;
        if (source.checkpoint != null) {
            Path file = Files.isDirectory(source.checkpoint) ? source.checkpoint.resolve(TrainingArtifacts.CHECKPOINT) : source.checkpoint;
            if (!Files.exists(file)) {
                throw new ZooException("no checkpoint at " + file);
            }
            Checkpoint c = Checkpoint.read(file);
            TrainingJob job = TrainingJob.fromProperties(c.properties());
            if (!job.modelId().equals(id)) {
                throw new ZooException(file + " is a checkpoint of " + job.modelId() + ", not " + id);
            }
            model = ModelZoo.load().build(id, job.config());
            w = WeightFiles.checked(() -> c.weights(model.graph().parameters().keySet().stream().toList())
                    .bind(model.graph(), weightChecks.checks()));
            if (dataDir == null) {
                dataDir = Path.of(job.data());
            }
        } else {
            model = ModelZoo.load().build(id, modelOptions.config());
            w = WeightFiles.checked(() -> WeightFiles.read(source.weights, model).bind(model.graph(), weightChecks.checks()));
        }
        if (dataDir == null) {
            dataDir = Datasets.defaultFolder();
        }
        Split s = switch (split.toLowerCase(Locale.ROOT)) {
            case "test" -> Split.TEST;
            case "train" -> Split.TRAIN;
            default -> throw new ZooException("--split must be test or train, got '" + split + "'");
        };
        int[] size = model.config().inputSize();
        Dataset d = Datasets.open(dataDir, s, model.config().inputChannels(), size[0], Math.max(size[0], model.info().preprocessing().resize()));
        if (d == null) {
            throw new ZooException(dataDir + " has no " + split + " split");
        }
        if (limit > 0) {
            d = d.limit(limit);
        }
        Evaluator.Result r = Evaluator.evaluate(model, w, d, RuntimeOptions.cpu(threads).device(where), batch);
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "%s on %s: loss %.4f, accuracy %.2f%% (%d images)%n", model.id(), d.description(), r.loss(),
                100 * r.accuracy(), d.size());
        List<String> classes = d.classes();
        for (int k = 0; k < r.totalPerClass().length && k < classes.size(); k++) {
            if (r.totalPerClass()[k] > 0) {
                out.printf(Locale.ROOT, "  %-14s %6.2f%%  (%d/%d)%n", classes.get(k), 100.0 * r.correctPerClass()[k] / r.totalPerClass()[k],
                        r.correctPerClass()[k], r.totalPerClass()[k]);
            }
        }
        if (predictions != null) {
            StringBuilder csv = new StringBuilder("image,label,predicted,predicted_label\n");
            for (int i = 0; i < d.size(); i++) {
                int p = r.predictions()[i];
                csv.append(i).append(',').append(d.label(i)).append(',').append(p).append(',')
                        .append(p < classes.size() ? quote(classes.get(p)) : "").append('\n');
            }
            AtomicFile.write(predictions, csv.toString().getBytes(StandardCharsets.UTF_8));
            out.printf("wrote %s%n", predictions);
        }
        out.flush();
        return 0;
    }

    private static String quote(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
