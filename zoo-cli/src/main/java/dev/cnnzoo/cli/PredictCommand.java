package dev.cnnzoo.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.PretrainedWeights;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.runtime.Device;
import dev.cnnzoo.runtime.Devices;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.runtime.image.ImageFiles;
import dev.cnnzoo.runtime.predict.ClassNames;
import dev.cnnzoo.runtime.predict.Predictor;
import dev.cnnzoo.training.run.Trainer;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "predict", description = {"Classify images: decode (JPEG, PNG, BMP, GIF, TIFF), resize, crop and normalise as the model's "
        + "preprocessing says (torchvision's transforms), run in batches, print the most probable classes.",
        "Class names: --labels, else those of pretrained or zoo-trained weights, else ImageNet-1k's for 1,000 classes."})
final class PredictCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL|FILE.onnx", description = "A zoo model id (with --weights), or an ONNX file the zoo wrote "
            + "(zoo export, zoo quantize).")
    String id;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "IMAGE|DIR", description = "Image files, or folders of them.")
    List<Path> images;

    @Option(names = "--weights", paramLabel = "FILE|pretrained", description = "Weights (.safetensors) or the zoo's pretrained ones.")
    String weights;

    @Option(names = "--labels", paramLabel = "FILE", description = "Class names, one per line, the first naming class 0.")
    Path labels;

    @Option(names = "--top", paramLabel = "K", defaultValue = "5", description = "Classes to show per image (default ${DEFAULT-VALUE}).")
    int top;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "16", description = "Images per run (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--format", paramLabel = "text|csv|json", defaultValue = "text", description = "Output (default ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--device", paramLabel = "cpu|cuda", defaultValue = "cpu", description = "Where to run (default ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0", description = "Intra-op threads; 0 lets ONNX Runtime choose.")
    int threads;

    @Mixin
    ModelOptions modelOptions;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        String fmt = format.toLowerCase(Locale.ROOT);
        if (!List.of("text", "csv", "json").contains(fmt)) {
            throw new ZooException("--format must be text, csv or json, got '" + format + "'");
        }
        if (top < 1) {
            throw new ZooException("--top must be at least 1, got " + top);
        }
        Device where = Devices.usable(Device.parse(device));     // before any model is built
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        RuntimeOptions runtime = RuntimeOptions.cpu(threads).device(where);
        ModelZoo zoo = ModelZoo.load();
        Path file = Path.of(id);
        boolean isFile = id.endsWith(".onnx") || (!zoo.contains(id) && Files.isRegularFile(file));
        List<Predictor.Prediction> predictions;
        int failed;
        try (Predictor predictor = isFile ? openFile(file, runtime) : openModel(zoo, runtime, err)) {
            // Decode everything first: a file that is not an image is reported and skipped, not fatal to the rest.
            List<Predictor.Input> inputs = new ArrayList<>();
            failed = 0;
            for (Path p : ImageFiles.expand(images)) {
                try {
                    ImageFiles.Decoded d = ImageFiles.read(p, predictor.transform().channels());
                    inputs.add(new Predictor.Input(p.toString(), d.planes(), d.conversion()));
                } catch (ZooException e) {
                    err.println("zoo: " + e.getMessage());
                    failed++;
                }
            }
            err.flush();
            if (inputs.isEmpty()) {
                throw new ZooException("none of the " + failed + " file(s) given is an image the zoo can read");
            }
            if (fmt.equals("text")) {
                out.printf("%s; %s; classes from %s%n", header, predictor.transform().describe(), predictor.hasLabels() ? namesFrom : "nowhere (numbered)");
            }
            predictions = predictor.predict(inputs, top);
        }
        switch (fmt) {
            case "text" -> text(out, predictions);
            case "csv" -> csv(out, predictions);
            default -> json(out, predictions);
        }
        out.flush();
        return failed == 0 ? 0 : 1;
    }

    /** What the text output's first line says the predictions come from, and where the class names came from. */
    private String header;
    private String namesFrom;

    /** An ONNX file the zoo wrote: its metadata says how to feed it; class names from --labels, else ImageNet's for 1,000 classes. */
    private Predictor openFile(Path file, RuntimeOptions runtime) {
        if (weights != null) {
            throw new ZooException("--weights applies to zoo ids; " + file + " is an ONNX file with its weights inside");
        }
        if (!Files.isRegularFile(file)) {
            throw new ZooException("ONNX file " + file + " does not exist");
        }
        List<String> given = labels != null ? ClassNames.read(labels) : null;
        Predictor p = Predictor.open(file, classes -> given != null ? given : classes == 1000 ? ClassNames.imagenet() : null, runtime, batch);
        header = file.getFileName().toString();
        namesFrom = labels != null ? labels.toString() : "ImageNet-1k";
        return p;
    }

    /** A zoo model with --weights; class names from --labels, the weights, or ImageNet's for 1,000 classes. */
    private Predictor openModel(ModelZoo zoo, RuntimeOptions runtime, PrintWriter err) {
        if (weights == null) {
            throw new ZooException("predicting with the zoo model " + id + " needs its weights: --weights FILE|pretrained");
        }
        Model model = zoo.build(id, modelOptions.config());
        Weights w;
        List<String> names;
        if (weights.equals("pretrained")) {
            w = zoo.pretrained(model.id()).bind(model.graph());
            names = zoo.pretrainedInfo(model.id()).map(PretrainedWeights::labels).orElse(List.of());
            namesFrom = "the pretrained weights";
        } else {
            Path file = Path.of(weights);
            w = WeightFiles.load(file, model, err);
            names = labelsIn(Safetensors.readWithMetadata(file).metadata());
            namesFrom = "the weights file";
        }
        if (labels != null) {
            names = ClassNames.read(labels);
            namesFrom = labels.toString();
        } else if ((names == null || names.isEmpty()) && model.config().classes() == 1000) {
            names = ClassNames.imagenet();
            namesFrom = "ImageNet-1k";
        }
        if (names != null && !names.isEmpty() && names.size() != model.config().classes()) {
            throw new ZooException(namesFrom + " names " + names.size() + " classes but " + model.id() + " has " + model.config().classes()
                    + (labels != null ? "" : "; give the names with --labels FILE"));
        }
        header = model.id() + " with " + (weights.equals("pretrained") ? "its pretrained weights" : "weights from " + weights);
        return Predictor.open(model, w, names, runtime, batch);
    }

    /** The class names a zoo-trained weights file records. */
    private static List<String> labelsIn(Map<String, String> metadata) {
        String json = metadata.get(Trainer.LABELS_METADATA);
        if (json == null) {
            return null;
        }
        try {
            return List.of(new ObjectMapper().readValue(json, String[].class));
        } catch (IOException e) {
            return null;        // a malformed entry only costs the names
        }
    }

    private static void text(PrintWriter out, List<Predictor.Prediction> predictions) {
        int width = predictions.stream().flatMap(p -> p.top().stream()).mapToInt(s -> s.label().length()).max().orElse(10);
        for (Predictor.Prediction p : predictions) {
            Predictor.Input in = p.input();
            out.printf("%s (%d×%d%s)%n", in.name(), in.image().width(), in.image().height(), in.conversion().isEmpty() ? "" : ", " + in.conversion());
            int rank = 1;
            for (Predictor.Score s : p.top()) {
                out.printf(Locale.ROOT, "  %d. %-" + width + "s %7.2f%%  (class %d)%n", rank++, s.label(), 100 * s.probability(), s.index());
            }
        }
    }

    private static void csv(PrintWriter out, List<Predictor.Prediction> predictions) {
        out.println("image,rank,class,label,probability");
        for (Predictor.Prediction p : predictions) {
            int rank = 1;
            for (Predictor.Score s : p.top()) {
                out.printf(Locale.ROOT, "%s,%d,%d,%s,%.6f%n", quote(p.input().name()), rank++, s.index(), quote(s.label()), s.probability());
            }
        }
    }

    private static String quote(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    private static void json(PrintWriter out, List<Predictor.Prediction> predictions) throws IOException {
        List<Map<String, Object>> list = new ArrayList<>();
        for (Predictor.Prediction p : predictions) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("image", p.input().name());
            o.put("width", p.input().image().width());
            o.put("height", p.input().image().height());
            if (!p.input().conversion().isEmpty()) {
                o.put("conversion", p.input().conversion());
            }
            List<Map<String, Object>> top = new ArrayList<>();
            for (Predictor.Score s : p.top()) {
                top.add(Map.of("class", s.index(), "label", s.label(), "probability", s.probability()));
            }
            o.put("top", top);
            list.add(o);
        }
        out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(list));
    }
}
