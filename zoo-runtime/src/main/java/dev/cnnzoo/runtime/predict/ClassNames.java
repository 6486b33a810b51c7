package dev.cnnzoo.runtime.predict;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.runtime.interchange.WeightsResolver;
import dev.cnnzoo.runtime.interchange.WeightsSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Names of a classifier's classes, by output index: text with one name per line, the first line
 * naming class 0. Lines starting with {@code #} are comments; trailing blank lines are ignored.
 */
public final class ClassNames {
    /** The safetensors metadata entry in which zoo-trained weights name their classes (a JSON array). */
    public static final String WEIGHTS_METADATA = "zoo.labels";
    private static final String IMAGENET = "imagenet-1k.txt";
    private static List<String> imagenet;

    private ClassNames() {
    }

    /** The 1,000 ImageNet-1k classes, as torchvision names them. */
    public static synchronized List<String> imagenet() {
        if (imagenet == null) {
            try (InputStream in = ClassNames.class.getResourceAsStream(IMAGENET)) {
                if (in == null) {
                    throw new ZooException("the resource " + IMAGENET + " is missing from zoo-runtime's jar");
                }
                imagenet = parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new ZooException("cannot read the ImageNet class names: " + e.getMessage(), e);
            }
            if (imagenet.size() != 1000) {
                throw new IllegalStateException(IMAGENET + " holds " + imagenet.size() + " names, not 1000");
            }
        }
        return imagenet;
    }

    /** The names in a labels file. */
    public static List<String> read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ZooException("labels file " + file + " does not exist");
        }
        try {
            List<String> names = parse(Files.readString(file, StandardCharsets.UTF_8));
            if (names.isEmpty()) {
                throw new ZooException("labels file " + file + " names no classes");
            }
            return names;
        } catch (IOException e) {
            throw new ZooException("cannot read labels file " + file + ": " + e.getMessage(), e);
        }
    }

    /** A classifier's class names (empty when nothing names them) and where they came from. */
    public record Resolved(List<String> names, String from) {
    }

    /**
     * The class names of {@code model} run with {@code weights}: those in {@code labelsFile} when
     * given, else those the weights record (the zoo's pretrained weights, or a zoo-trained file's
     * {@value #WEIGHTS_METADATA}), else ImageNet-1k's for a 1,000-class model, else none.
     *
     * @throws ZooException when the names found are not as many as the model's classes
     */
    public static Resolved resolve(Model model, WeightsResolver.Resolved weights, Path labelsFile) {
        List<String> names;
        String from;
        if (labelsFile != null) {
            names = read(labelsFile);
            from = labelsFile.toString();
        } else {
            names = weights.labels();
            from = weights.source() instanceof WeightsSource.Pretrained ? "the pretrained weights" : "the weights file";
        }
        if (names.isEmpty() && model.config().classes() == 1000) {
            names = imagenet();
            from = "ImageNet-1k";
        }
        if (!names.isEmpty() && names.size() != model.config().classes()) {
            throw new ZooException(from + " names " + names.size() + " classes but " + model.id() + " has " + model.config().classes()
                    + (labelsFile != null ? "" : "; give the names in a labels file"));
        }
        return new Resolved(names, names.isEmpty() ? "nowhere (numbered)" : from);
    }

    /** The class names a zoo-trained weights file records, or none. */
    public static List<String> inMetadata(Map<String, String> metadata) {
        String json = metadata.get(WEIGHTS_METADATA);
        if (json == null) {
            return List.of();
        }
        try {
            return List.of(new ObjectMapper().readValue(json, String[].class));
        } catch (IOException e) {
            return List.of();        // a malformed entry only costs the names
        }
    }

    static List<String> parse(String text) {
        List<String> lines = text.lines().filter(l -> !l.startsWith("#")).map(String::strip).toList();
        int end = lines.size();
        while (end > 0 && lines.get(end - 1).isEmpty()) {
            end--;
        }
        return List.copyOf(lines.subList(0, end));
    }
}
