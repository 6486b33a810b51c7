package dev.cnnzoo.runtime.interchange;

import dev.cnnzoo.api.ZooException;
import java.nio.file.Path;

/**
 * Where a model's weights come from, as a user names them: the zoo's own pretrained weights, or a
 * file ({@link WeightsResolver} reads it by its format).
 */
public sealed interface WeightsSource permits WeightsSource.Pretrained, WeightsSource.File {
    /** The name that stands for the zoo's pretrained weights. */
    String PRETRAINED = "pretrained";

    /** The weights the model's family ships ({@code ModelZoo.pretrained}). */
    record Pretrained() implements WeightsSource {
        @Override
        public String describe() {
            return "its pretrained weights";
        }
    }

    /** A weights file. */
    record File(Path path) implements WeightsSource {
        public File {
            java.util.Objects.requireNonNull(path, "path");
        }

        @Override
        public String describe() {
            return "weights from " + path;
        }
    }

    static WeightsSource pretrained() {
        return new Pretrained();
    }

    static WeightsSource file(Path path) {
        return new File(path);
    }

    /** {@value #PRETRAINED}, or the path of a file. */
    static WeightsSource parse(String text) {
        if (text == null || text.isBlank()) {
            throw new ZooException("no weights named: give a file or '" + PRETRAINED + "'");
        }
        return text.equals(PRETRAINED) ? pretrained() : file(Path.of(text));
    }

    /** "its pretrained weights" or "weights from FILE", for messages. */
    String describe();
}
