package dev.cnnzoo.cli;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.io.AtomicFile;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.training.TrainingArtifacts;
import dev.cnnzoo.training.data.Dataset;
import dev.cnnzoo.training.data.Datasets;
import dev.cnnzoo.training.data.Split;
import dev.cnnzoo.training.run.Evaluator;
import dev.cnnzoo.training.run.TrainingRun;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "eval", description = "Loss and accuracy of trained weights on a dataset's test split, overall and per class.")
final class EvalCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL")
    String id;

    @Option(names = "--checkpoint", paramLabel = "DIR|FILE", description = "A training run's folder or its checkpoint file (or give --weights).")
    Path checkpoint;

    @Mixin
    WeightsMixin weights;

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

    @Mixin
    RuntimeMixin runtime;

    @Mixin
    ModelOptions modelOptions;


    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if ((checkpoint != null) == weights.given()) {
            throw new CommandLine.ParameterException(spec.commandLine(), checkpoint != null
                    ? "--checkpoint and --weights are mutually exclusive (give one)"
                    : "Missing required option: give --checkpoint=DIR|FILE or --weights=FILE|pretrained");
        }
        if (limit < 0) {
            throw new ZooException("--limit must be 0 (every image) or more, got " + limit);
        }
        if (predictions != null) {
            AtomicFile.checkTarget(predictions);        // before the evaluation, not after it
        }
        RuntimeOptions options = runtime.options();
        ModelZoo zoo = ModelZoo.load();
        Model model;
        Weights w;
        Path dataDir = data;
        if (checkpoint != null) {
            Path file = Files.isDirectory(checkpoint) ? checkpoint.resolve(TrainingArtifacts.CHECKPOINT) : checkpoint;
            if (!Files.exists(file)) {
                throw new ZooException("no checkpoint at " + file);
            }
            TrainingRun run = TrainingRun.read(checkpoint, zoo);
            if (!run.model().id().equals(id)) {
                throw new ZooException(file + " is a checkpoint of " + run.model().id() + ", not " + id);
            }
            model = run.model();
            w = run.weights();
            if (dataDir == null) {
                dataDir = run.job().data();
            }
        } else {
            model = zoo.build(id, modelOptions.config());
            w = weights.resolve(zoo, model).weights();
        }
        if (dataDir == null) {
            dataDir = TrainCommand.defaultData();
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
        Evaluator.Result r = Evaluator.evaluate(model, w, d, options, batch);
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
