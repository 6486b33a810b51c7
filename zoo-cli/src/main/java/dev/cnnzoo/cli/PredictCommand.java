package dev.cnnzoo.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.runtime.image.ImageFiles;
import dev.cnnzoo.graph.FeatureStage;
import dev.cnnzoo.runtime.interchange.WeightsResolver;
import dev.cnnzoo.runtime.interchange.WeightsSource;
import dev.cnnzoo.runtime.predict.ClassNames;
import dev.cnnzoo.runtime.predict.FeatureExtractor;
import dev.cnnzoo.runtime.predict.Predictor;
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
        "Class names: --labels, else those of pretrained or zoo-trained weights, else ImageNet-1k's for 1,000 classes.",
        "With --features, each image's feature vector instead: its last feature stage averaged over positions."})
final class PredictCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL|FILE.onnx", description = "A zoo model id (with --weights), or an ONNX file the zoo wrote "
            + "(zoo export, zoo quantize).")
    String id;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "IMAGE|DIR", description = "Image files, or folders of them.")
    List<Path> images;

    @Mixin
    WeightsMixin weights;

    @Option(names = "--labels", paramLabel = "FILE", description = "Class names, one per line, the first naming class 0.")
    Path labels;

    @Option(names = "--top", paramLabel = "K", defaultValue = "5", description = "Classes to show per image (default ${DEFAULT-VALUE}).")
    int top;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "16", description = "Images per run (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--format", paramLabel = "text|csv|json", defaultValue = "text", description = "Output (default ${DEFAULT-VALUE}).")
    String format;

    @Mixin
    RuntimeMixin runtime;

    @Option(names = "--features", description = {"Each image's feature vector instead of its classes: the model built for its features "
            + "only, its last feature stage (the last of --out-indices) averaged over positions, one value per map (Keras's "
            + "include_top=False, pooling=\"avg\"). Printed as text (image, then the values), --format csv or json."})
    boolean features;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE.csv|FILE.safetensors", description = {"With --features, write the vectors "
            + "here instead: CSV (a header image,f0,f1,..., then a row per image) or safetensors (a tensor 'features', images × maps, "
            + "with the image names as a JSON list in the metadata under 'zoo.images')."})
    Path output;

    @Option(names = "--allow-damaged", description = "Classify truncated or corrupt images as far as they decode, with a warning "
            + "(refused by default: the decoder fills what is missing with grey).")
    boolean allowDamaged;

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
        if (output != null && !features) {
            throw new ZooException("--output writes feature vectors; it needs --features");
        }
        FeatureFile featureFile = output != null ? FeatureFile.of(output) : null;
        RuntimeOptions options = runtime.options();     // before any model is built
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ModelZoo zoo = ModelZoo.load();
        Path file = Path.of(id);
        if (id.endsWith(".onnx") || (!zoo.contains(id) && Files.isRegularFile(file))) {
            return predictFile(file, fmt, options, out, err);
        }
        weights.require();
        ModelConfig config = modelOptions.config();
        Model model = zoo.build(id, features ? config.toBuilder().featuresOnly(true).build() : config);
        WeightsResolver.Resolved resolved = weights.resolve(zoo, model);
        Weights w = resolved.weights();
        if (features) {
            return features(model, resolved, featureFile, fmt, options, out, err);
        }
        ClassNames.Resolved names = ClassNames.resolve(model, resolved, labels);

        Images decoded = decode(model.config().inputChannels(), err);
        List<Predictor.Input> inputs = decoded.inputs();
        int failed = decoded.unreadable();
        List<Predictor.Prediction> predictions;
        try (Predictor predictor = Predictor.open(model, w, names.names(), options, batch)) {
            if (fmt.equals("text")) {
                out.printf("%s with %s; %s; classes from %s%n", model.id(), resolved.source().describe(), predictor.transform().describe(),
                        names.from());
            }
            predictions = predictor.predict(inputs, top);
        }
        print(fmt, out, predictions);
        return failed == 0 ? 0 : 1;
    }

    private static void print(String fmt, PrintWriter out, List<Predictor.Prediction> predictions) throws IOException {
        switch (fmt) {
            case "text" -> text(out, predictions);
            case "csv" -> csv(out, predictions);
            default -> json(out, predictions);
        }
        out.flush();
    }

    /** An ONNX file the zoo wrote: its metadata says how to feed it; class names from --labels, else ImageNet's for 1,000 classes. */
    private int predictFile(Path file, String fmt, RuntimeOptions options, PrintWriter out, PrintWriter err) throws IOException {
        if (weights.given()) {
            throw new ZooException("--weights applies to zoo ids; " + file + " is an ONNX file with its weights inside");
        }
        if (features) {
            throw new ZooException("--features builds a zoo model for its feature stages; give a zoo id, not an ONNX file");
        }
        if (!Files.isRegularFile(file)) {
            throw new ZooException("ONNX file " + file + " does not exist");
        }
        List<String> given = labels != null ? ClassNames.read(labels) : null;
        List<Predictor.Prediction> predictions;
        int failed;
        try (Predictor predictor = Predictor.open(file, classes -> given != null ? given : classes == 1000 ? ClassNames.imagenet() : null,
                options, batch)) {
            Images decoded = decode(predictor.transform().channels(), err);
            failed = decoded.unreadable();
            if (fmt.equals("text")) {
                out.printf("%s; %s; classes from %s%n", file.getFileName(), predictor.transform().describe(),
                        !predictor.hasLabels() ? "nowhere (numbered)" : labels != null ? labels.toString() : "ImageNet-1k");
            }
            predictions = predictor.predict(decoded.inputs(), top);
        }
        print(fmt, out, predictions);
        return failed == 0 ? 0 : 1;
    }

    /** The images decoded, and how many files were not images. */
    private record Images(List<Predictor.Input> inputs, int unreadable) {
    }

    /** Every image given, decoded; a file that is not an image is reported and skipped, not fatal to the rest. */
    private Images decode(int channels, PrintWriter err) {
        List<Predictor.Input> inputs = new ArrayList<>();
        int failed = 0;
        for (Path p : ImageFiles.expand(images)) {
            try {
                ImageFiles.Decoded d = ImageFiles.read(p, channels,
                        allowDamaged ? ImageFiles.Damaged.DECODE_WITH_WARNING : ImageFiles.Damaged.REFUSE);
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
        return new Images(inputs, failed);
    }

    /** --features: each image's pooled feature vector, printed or written to a file. */
    private int features(Model model, WeightsResolver.Resolved resolved, FeatureFile file, String fmt, RuntimeOptions options, PrintWriter out,
            PrintWriter err) throws IOException {
        Images decoded = decode(model.config().inputChannels(), err);
        List<FeatureExtractor.Features> vectors;
        FeatureStage stage;
        try (FeatureExtractor extractor = FeatureExtractor.open(model, resolved.weights(), options, batch)) {
            stage = extractor.stage();
            if (fmt.equals("text") || file != null) {
                (file != null ? err : out).printf("%s with %s; %s; %s (%s, %d maps, /%d) averaged over positions%n", model.id(),
                        resolved.source().describe(), extractor.transform().describe(), stage.name(), stage.layer(), stage.channels(), stage.reduction());
            }
            vectors = extractor.extract(decoded.inputs());
        }
        if (file != null) {
            file.write(vectors, model, stage);
            err.printf("wrote %d feature vector(s) of %d values to %s%n", vectors.size(), stage.channels(), output);
        } else {
            switch (fmt) {
                case "text" -> vectors.forEach(v -> out.println(v.input().name() + " " + FeatureFile.join(v.vector(), " ")));
                case "csv" -> FeatureFile.csv(out, vectors);
                default -> out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(
                        vectors.stream().map(v -> Map.of("image", v.input().name(), "features", v.vector())).toList()));
            }
        }
        out.flush();
        err.flush();
        return decoded.unreadable() == 0 ? 0 : 1;
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

    /** A CSV field, quoted when it holds a comma or a quote. */
    static String quote(String s) {
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
