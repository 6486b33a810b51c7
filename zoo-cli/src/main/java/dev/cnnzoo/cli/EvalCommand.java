package dev.cnnzoo.cli;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.Preprocessing;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.io.AtomicFile;
import dev.cnnzoo.onnx.ZooMetadata;
import dev.cnnzoo.runtime.Device;
import dev.cnnzoo.runtime.Devices;
import dev.cnnzoo.runtime.InferenceSession;
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

@Command(name = "eval", description = "Loss and accuracy of trained weights, or of an ONNX file the zoo wrote (an INT8 one, say), on a dataset's test split, overall and per class.")
final class EvalCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL|FILE.onnx", description = "A zoo model id (with --weights or --checkpoint), or an ONNX file the zoo wrote "
            + "(zoo export, zoo quantize: its metadata says how to feed it).")
    String id;

    @ArgGroup(multiplicity = "0..1")
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

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Device where = Devices.usable(Device.parse(device));
        Split s = switch (split.toLowerCase(Locale.ROOT)) {
            case "test" -> Split.TEST;
            case "train" -> Split.TRAIN;
            default -> throw new ZooException("--split must be test or train, got '" + split + "'");
        };
        RuntimeOptions runtime = RuntimeOptions.cpu(threads).device(where);
        Path file = Path.of(id);
        if (id.endsWith(".onnx") || (!ModelZoo.load().contains(id) && Files.isRegularFile(file))) {
            if (source != null) {
                throw new ZooException("--weights and --checkpoint apply to zoo ids; " + id + " is an ONNX file with its weights inside");
            }
            if (!Files.isRegularFile(file)) {
                throw new ZooException("ONNX file " + id + " does not exist");
            }
            try (InferenceSession session = InferenceSession.open(file, runtime)) {
                ZooMetadata meta = new ZooMetadata(session.metadata());
                Preprocessing pre = meta.preprocessing().orElseThrow(() -> new ZooException(id + " records no zoo.preprocessing metadata, so "
                        + "how to normalise its images is unknown; evaluate files that zoo export or zoo quantize wrote"));
                int[] chw = meta.input().orElseThrow(() -> new ZooException(id + " records no zoo.input metadata (its input size)"));
                Dataset d = testData(data == null ? Datasets.defaultFolder() : data, s, chw[0], chw[1], pre.resize());
                report(file.getFileName().toString(), d, Evaluator.evaluate(session, pre, d, batch));
            }
            return 0;
        }
        if (source == null) {
            throw new ZooException("evaluating the zoo model " + id + " needs its weights: --weights FILE|pretrained or --checkpoint DIR");
        }
        Model model;
        Weights w;
        Path dataDir = data;
        if (source.checkpoint != null) {
            Path checkpointFile = Files.isDirectory(source.checkpoint) ? source.checkpoint.resolve(TrainingArtifacts.CHECKPOINT) : source.checkpoint;
            if (!Files.exists(checkpointFile)) {
                throw new ZooException("no checkpoint at " + checkpointFile);
            }
            Checkpoint c = Checkpoint.read(checkpointFile);
            TrainingJob job = TrainingJob.fromProperties(c.properties());
            if (!job.modelId().equals(id)) {
                throw new ZooException(checkpointFile + " is a checkpoint of " + job.modelId() + ", not " + id);
            }
            model = ModelZoo.load().build(id, job.config());
            w = c.weights(model.graph().parameters().keySet().stream().toList());
            if (dataDir == null) {
                dataDir = Path.of(job.data());
            }
        } else {
            model = ModelZoo.load().build(id, modelOptions.config());
            w = WeightFiles.read(source.weights, model).bind(model.graph());
        }
        int[] size = model.config().inputSize();
        Dataset d = testData(dataDir == null ? Datasets.defaultFolder() : dataDir, s, model.config().inputChannels(), size[0],
                model.info().preprocessing().resize());
        report(model.id(), d, Evaluator.evaluate(model, w, d, runtime, batch));
        return 0;
    }

    private Dataset testData(Path dir, Split s, int channels, int size, int resize) {
        Dataset d = Datasets.open(dir, s, channels, size, Math.max(size, resize));
        if (d == null) {
            throw new ZooException(dir + " has no " + split + " split");
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
