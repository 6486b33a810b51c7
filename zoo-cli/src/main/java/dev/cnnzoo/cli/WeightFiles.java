package dev.cnnzoo.cli;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.runtime.interchange.WeightFileFormat;
import dev.cnnzoo.runtime.interchange.WeightImport;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.Weights;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;

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
        Path file = Path.of(spec);
        return foreign(file) ? WeightImport.from(file, model, false).weights() : Safetensors.read(file);
    }

    /**
     * The model's weights from a safetensors file, matched by name, or from a PyTorch checkpoint,
     * Keras HDF5 or ONNX file through {@link WeightImport}; names the model does not use are listed
     * on {@code err}, a missing name or shape mismatch is an error.
     */
    static Weights load(Path file, Model model, PrintWriter err) {
        if (foreign(file)) {
            WeightImport.Report r = WeightImport.from(file, model, false);
            if (!r.unused().isEmpty()) {
                err.printf("zoo: %d tensor(s) in %s are not used by %s: %s%n", r.unused().size(), file, model.id(),
                        String.join(", ", r.unused().subList(0, Math.min(10, r.unused().size()))) + (r.unused().size() > 10 ? ", …" : ""));
                err.flush();
            }
            return r.weights();
        }
        Weights all = Safetensors.read(file);
        Weights bound = all.bind(model.graph());
        List<String> unused = all.unused(model.graph());
        if (!unused.isEmpty()) {
            err.printf("zoo: %d tensor(s) in %s are not used by %s: %s%n", unused.size(), file, model.id(),
                    String.join(", ", unused.subList(0, Math.min(10, unused.size()))) + (unused.size() > 10 ? ", …" : ""));
            err.flush();
        }
        return bound;
    }

    /** The string metadata of a safetensors weights file (class names, the model); none for other formats. */
    static java.util.Map<String, String> metadata(Path file) {
        return foreign(file) ? java.util.Map.of() : Safetensors.readWithMetadata(file).metadata();
    }

    /** A file {@link WeightImport} maps (a PyTorch checkpoint, Keras HDF5, ONNX) rather than the zoo's own safetensors. */
    private static boolean foreign(Path file) {
        return java.nio.file.Files.isRegularFile(file) && WeightFileFormat.of(file) != WeightFileFormat.SAFETENSORS;
    }
}
