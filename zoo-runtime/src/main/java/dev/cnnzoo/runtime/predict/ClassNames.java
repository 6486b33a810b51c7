package dev.cnnzoo.runtime.predict;

import dev.cnnzoo.api.ZooException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Names of a classifier's classes, by output index: text with one name per line, the first line
 * naming class 0. Lines starting with {@code #} are comments; trailing blank lines are ignored.
 */
public final class ClassNames {
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

    static List<String> parse(String text) {
        List<String> lines = text.lines().filter(l -> !l.startsWith("#")).map(String::strip).toList();
        int end = lines.size();
        while (end > 0 && lines.get(end - 1).isEmpty()) {
            end--;
        }
        return List.copyOf(lines.subList(0, end));
    }
}
