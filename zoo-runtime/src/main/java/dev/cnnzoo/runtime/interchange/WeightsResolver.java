package dev.cnnzoo.runtime.interchange;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.PretrainedWeights;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.runtime.predict.ClassNames;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.WeightChecks;
import dev.cnnzoo.weights.Weights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The weights of a model from wherever a user names them ({@link WeightsSource}): the zoo's
 * pretrained weights, a safetensors file, or a PyTorch checkpoint, Keras HDF5 file or ONNX file
 * (mapped onto the model's names by {@link WeightImport}). Each file format is a {@link Format},
 * recognised by its content; another one is one more, added with {@link #with}.
 *
 * <p>Two uses: {@link #resolve} takes every tensor the model needs and refuses a missing one or a
 * shape that differs (export, inference, evaluation); {@link #transfer} takes what matches and keeps
 * the model's seeded initial values for the rest, listing them (fine-tuning with a new head).
 */
public final class WeightsResolver {
    /**
     * Weights for a model.
     *
     * @param weights the model's tensors, in its order
     * @param unused  tensors of the source that the model has no use for
     * @param kept    with {@link #transfer}: what kept its initial value, and why
     * @param labels  class names by output index, where the source records them (else empty)
     * @param notes   what the mapping did that a user should know (a batch-norm ε absorbed, a layout converted)
     */
    public record Resolved(Weights weights, WeightsSource source, List<String> unused, List<String> kept, List<String> labels,
            List<String> notes) {
        public Resolved {
            unused = List.copyOf(unused);
            kept = List.copyOf(kept);
            labels = List.copyOf(labels);
            notes = List.copyOf(notes);
        }

        /** How many tensors came from the source. */
        public int loaded() {
            return weights.size() - kept.size();
        }
    }

    /** One file format: which files it reads, and how their tensors become a model's. */
    public interface Format {
        /** For messages: "safetensors", "ONNX". */
        String name();

        /** Whether {@code file} is in this format (by its first bytes or its name). */
        boolean reads(Path file);

        /**
         * The tensors of {@code file} for {@code model}.
         *
         * @param partial keep the model's initial value (listed in {@code kept}) where the file has
         *                nothing that fits, instead of failing
         * @param checks  what every tensor must be to become a weight (floating point; finite unless allowed)
         */
        Resolved read(Path file, Model model, boolean partial, WeightChecks checks);
    }

    /**
     * A format whose reader returns the file's tensors under the model's own names (a PyTorch state
     * dict of a network that the zoo names as torchvision does): they are matched by name.
     *
     * @param suffixes the file names it reads, e.g. ".pth", ".pt"
     */
    public static Format byName(String name, List<String> suffixes, Function<Path, Weights> reader) {
        return new NamedTensors(name, file -> suffixes.stream().anyMatch(s -> file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(s)),
                file -> new Contents(reader.apply(file), List.of()));
    }

    /** Safetensors: tensors matched by name; the class names the trainer records in the metadata. */
    public static final Format SAFETENSORS = new NamedTensors("safetensors", WeightsResolver::isSafetensors, file -> {
        Safetensors.Contents c = Safetensors.readWithMetadata(file);
        return new Contents(c.weights(), ClassNames.inMetadata(c.metadata()));
    });

    /** PyTorch's {@code torch.save} zip archives: a state dict, mapped by {@link WeightImport} (torchvision's and timm's names). */
    public static final Format PYTORCH = imported("PyTorch", WeightFileFormat.PYTORCH);

    /** Keras's HDF5 weights, mapped layer by layer onto the zoo's names and layouts by {@link WeightImport}. */
    public static final Format KERAS = imported("Keras HDF5", WeightFileFormat.KERAS);

    /** ONNX: the initializers, mapped by name, by the node using them and through folded batch norms ({@link WeightImport}). */
    public static final Format ONNX = imported("ONNX", WeightFileFormat.ONNX);

    /** A format {@link WeightImport} maps onto the model, recognised by its content ({@link WeightFileFormat}). */
    private static Format imported(String name, WeightFileFormat kind) {
        return new Format() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public boolean reads(Path file) {
                return WeightFileFormat.of(file) == kind;
            }

            @Override
            public Resolved read(Path file, Model model, boolean partial, WeightChecks checks) {
                WeightImport.Report r = WeightImport.from(file, model, partial, checks);
                return new Resolved(r.weights(), WeightsSource.file(file), r.unused(), r.kept(), List.of(), r.notes());
            }
        };
    }

    private final ModelZoo zoo;
    private final List<Format> formats;
    private final WeightChecks checks;

    /** Safetensors, PyTorch, Keras and ONNX files, and the pretrained weights of {@code zoo}'s models. */
    public WeightsResolver(ModelZoo zoo) {
        this(zoo, List.of(SAFETENSORS, PYTORCH, KERAS, ONNX), WeightChecks.strict());
    }

    private WeightsResolver(ModelZoo zoo, List<Format> formats, WeightChecks checks) {
        this.zoo = java.util.Objects.requireNonNull(zoo, "zoo");
        this.formats = List.copyOf(formats);
        this.checks = java.util.Objects.requireNonNull(checks, "checks");
    }

    /** This resolver checking tensors as {@code checks} says (by default {@link WeightChecks#strict()}: finite floating point). */
    public WeightsResolver checking(WeightChecks checks) {
        return new WeightsResolver(zoo, formats, checks);
    }

    /** This resolver reading one more format, asked before the others. */
    public WeightsResolver with(Format format) {
        List<Format> f = new ArrayList<>();
        f.add(format);
        f.addAll(formats);
        return new WeightsResolver(zoo, f, checks);
    }

    public List<Format> formats() {
        return formats;
    }

    /**
     * Every tensor {@code model} needs, from {@code source}.
     *
     * @throws ZooException naming a tensor the source lacks or whose shape differs, a file that does
     *                      not exist or that no format reads, or a model without pretrained weights
     */
    public Resolved resolve(WeightsSource source, Model model) {
        return read(source, model, false);
    }

    /**
     * Fine-tuning's start: every tensor of {@code model} that {@code source} has with the same shape,
     * the model's seeded initial value for the rest (a classifier replaced for other classes), listed
     * in {@link Resolved#kept()}.
     */
    public Resolved transfer(WeightsSource source, Model model) {
        return read(source, model, true);
    }

    private Resolved read(WeightsSource source, Model model, boolean partial) {
        if (source instanceof WeightsSource.File f) {
            Path file = f.path();
            if (!Files.exists(file)) {
                throw new ZooException("weights file " + file + " does not exist");
            }
            if (Files.isDirectory(file)) {
                throw new ZooException("weights file " + file + " is a folder, not a file");
            }
            if (!Files.isRegularFile(file)) {
                throw new ZooException("weights file " + file + " is not a regular file");
            }
            Format format = formats.stream().filter(x -> x.reads(file)).findFirst().orElseThrow(() -> new ZooException(file
                    + " is in none of the weight formats the zoo reads (" + String.join(", ", formats.stream().map(Format::name).toList()) + ")"));
            return format.read(file, model, partial, checks);
        }
        Weights all = zoo.pretrained(model.id());
        List<String> labels = zoo.pretrainedInfo(model.id()).map(PretrainedWeights::labels).orElse(List.of());
        return byName(all, model, partial, source, labels, checks);
    }

    /** Tensors named as the model names them, bound exactly or transferred. */
    private static Resolved byName(Weights all, Model model, boolean partial, WeightsSource source, List<String> labels,
            WeightChecks checks) {
        List<String> unused = all.unused(model.graph());
        if (partial) {
            Weights.Transfer t = all.transfer(model.graph(), model.config().seed(), checks);
            return new Resolved(t.weights(), source, unused, t.kept(), labels, List.of());
        }
        return new Resolved(all.bind(model.graph(), checks), source, unused, List.of(), labels, List.of());
    }

    private record Contents(Weights weights, List<String> labels) {
    }

    private record NamedTensors(String name, Predicate<Path> recognises, Function<Path, Contents> reader) implements Format {
        @Override
        public boolean reads(Path file) {
            return recognises.test(file);
        }

        @Override
        public Resolved read(Path file, Model model, boolean partial, WeightChecks checks) {
            Contents c = reader.apply(file);
            return byName(c.weights(), model, partial, WeightsSource.file(file), c.labels(), checks);
        }
    }

    static boolean isSafetensors(Path file) {
        return WeightFileFormat.of(file) == WeightFileFormat.SAFETENSORS;
    }
}
