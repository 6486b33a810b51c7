package dev.cnnzoo.cli;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.Preprocessing;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.io.AtomicFile;
import dev.cnnzoo.onnx.ZooMetadata;
import dev.cnnzoo.runtime.InferenceSession;
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

@Command(name = "eval", description = "Loss and accuracy of trained weights, or of an ONNX file the zoo wrote (an INT8 one, say), on a "
        + "dataset's test split, overall and per class.")
final class EvalCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL|FILE.onnx", description = "A zoo model id (with --weights or --checkpoint), or an ONNX file the zoo wrote "
            + "(zoo export, zoo quantize: its metadata says how to feed it).")
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
        if (limit < 0) {
            throw new ZooException("--limit must be 0 (every image) or more, got " + limit);
        }
        if (predictions != null) {
            AtomicFile.checkTarget(predictions);        // before the evaluation, not after it
        }
        Split s = switch (split.toLowerCase(Locale.ROOT)) {
            case "test" -> Split.TEST;
            case "train" -> Split.TRAIN;
            default -> throw new ZooException("--split must be test or train, got '" + split + "'");
        };
        RuntimeOptions options = runtime.options();
        ModelZoo zoo = ModelZoo.load();
        Path file = Path.of(id);
        if (id.endsWith(".onnx") || (!zoo.contains(id) && Files.isRegularFile(file))) {
            return evaluateFile(file, s, options);
        }
        if ((checkpoint != null) == weights.given()) {
            throw new CommandLine.ParameterException(spec.commandLine(), checkpoint != null
                    ? "--checkpoint and --weights are mutually exclusive (give one)"
                    : "Missing required option: give --checkpoint=DIR|FILE or --weights=FILE|pretrained");
        }
        Model model;
        Weights w;
        Path dataDir = data;
        if (checkpoint != null) {
            Path checkpointFile = Files.isDirectory(checkpoint) ? checkpoint.resolve(TrainingArtifacts.CHECKPOINT) : checkpoint;
            if (!Files.exists(checkpointFile)) {
                throw new ZooException("no checkpoint at " + checkpointFile);
            }
            TrainingRun run = TrainingRun.read(checkpoint, zoo);
            if (!run.model().id().equals(id)) {
                throw new ZooException(checkpointFile + " is a checkpoint of " + run.model().id() + ", not " + id);
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
        int[] size = model.config().inputSize();
        Dataset d = testData(dataDir, s, model.config().inputChannels(), size[0], model.preprocessing().resize());
        report(model.id(), d, Evaluator.evaluate(model, w, d, options, batch));
        return 0;
    }

    /** An ONNX file the zoo wrote: its metadata says how to prepare the images, its initializers hold the weights. */
    private int evaluateFile(Path file, Split s, RuntimeOptions options) throws IOException {
        if (checkpoint != null || weights.given()) {
            throw new ZooException("--weights and --checkpoint apply to zoo ids; " + id + " is an ONNX file with its weights inside");
        }
        if (!Files.isRegularFile(file)) {
            throw new ZooException("ONNX file " + id + " does not exist");
        }
        try (InferenceSession session = InferenceSession.open(file, options)) {
            ZooMetadata meta = new ZooMetadata(session.metadata());
            Preprocessing pre = meta.preprocessing().orElseThrow(() -> new ZooException(id + " records no zoo.preprocessing metadata, so "
                    + "how to normalise its images is unknown; evaluate files that zoo export or zoo quantize wrote"));
            int[] chw = meta.input().orElseThrow(() -> new ZooException(id + " records no zoo.input metadata (its input size)"));
            Dataset d = testData(data, s, chw[0], chw[1], pre.resize());
            report(file.getFileName().toString(), d, Evaluator.evaluate(session, pre, d, batch));
        }
        return 0;
    }

    /** The split of {@code dir} (default Debian's Fashion-MNIST) at the model's input, the first --limit images. */
    private Dataset testData(Path dir, Split s, int channels, int size, int resize) {
        Path folder = dir != null ? dir : TrainCommand.defaultData();
        Dataset d = Datasets.open(folder, s, channels, size, Math.max(size, resize));
        if (d == null) {
            throw new ZooException(folder + " has no " + split + " split");
        }
        return limit > 0 ? d.limit(limit) : d;
    }

    private void report(String name, Dataset d, Evaluator.Result r) throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "%s on %s: loss %.4f, accuracy %.2f%% (%d images)%n", name, d.description(), r.loss(),
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
    }

    private static String quote(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
