package dev.cnnzoo.cli;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.WeightChecks;
import dev.cnnzoo.weights.Weights;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;

/** Loading weights for a model from the command line. */
final class WeightFiles {
    private WeightFiles() {
    }

    /**
     * Every tensor in a safetensors file, or the zoo's pretrained weights for the model when
     * {@code spec} is "pretrained".
     */
    static Weights read(String spec, Model model) {
        if (spec.equals("pretrained")) {
            return dev.cnnzoo.api.ModelZoo.load().pretrained(model.id());
        }
        return Safetensors.read(Path.of(spec));
    }

    /**
     * The model's weights from a safetensors file, matched by name and checked; names the model does
     * not use are listed on {@code err}, a missing name, shape mismatch or failed check is an error.
     */
    static Weights load(Path file, Model model, PrintWriter err, WeightChecks checks) {
        Weights all = Safetensors.read(file);
        Weights bound = checked(() -> all.bind(model.graph(), checks));
        List<String> unused = all.unused(model.graph());
        if (!unused.isEmpty()) {
            err.printf("zoo: %d tensor(s) in %s are not used by %s: %s%n", unused.size(), file, model.id(),
                    String.join(", ", unused.subList(0, Math.min(10, unused.size()))) + (unused.size() > 10 ? ", …" : ""));
            err.flush();
        }
        return bound;
    }

    /** Runs a weights check, naming the flag that relaxes it when non-finite values are refused. */
    static <T> T checked(Supplier<T> check) {
        try {
            return check.get();
        } catch (WeightChecks.NonFiniteException e) {
            throw new ZooException(e.getMessage() + " (--allow-non-finite accepts them)", e);
        }
    }
}
