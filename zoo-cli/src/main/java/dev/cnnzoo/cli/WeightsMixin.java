package dev.cnnzoo.cli;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.runtime.interchange.WeightsResolver;
import dev.cnnzoo.runtime.interchange.WeightsSource;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code --weights FILE|pretrained}, shared by every command that loads a zoo model's weights: one
 * {@link WeightsResolver} reads them, and tensors the model does not use are listed on stderr.
 */
final class WeightsMixin {
    @Option(names = "--weights", paramLabel = "FILE|pretrained",
            description = "The model's weights: 'pretrained' (the zoo's own), a .safetensors file, a PyTorch .pth checkpoint, a Keras .h5 "
                    + "file, or an ONNX file (mapped onto the model's names).")
    String weights;

    @Mixin
    WeightCheckOptions checks;

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    /** The resolver every command uses: the formats the zoo reads, checking tensors as strictly as the flags say. */
    WeightsResolver resolver(ModelZoo zoo) {
        return resolver(zoo, checks);
    }

    /** The resolver of a command whose weights come without this mixin's {@code --weights} (zoo serve's ID=FILE list). */
    static WeightsResolver resolver(ModelZoo zoo, WeightCheckOptions checks) {
        return new WeightsResolver(zoo).checking(checks.checks());
    }

    boolean given() {
        return weights != null;
    }

    /** For commands that cannot do without weights: picocli's missing-option error, usage included. */
    void require() {
        if (!given()) {
            throw new CommandLine.ParameterException(mixee.commandLine(), "Missing required option: '--weights=FILE|pretrained'");
        }
    }

    WeightsSource source() {
        return WeightsSource.parse(weights);
    }

    /** Every tensor {@code model} needs, from the weights given. */
    WeightsResolver.Resolved resolve(ModelZoo zoo, Model model) {
        return reported(resolver(zoo).resolve(source(), model), model);
    }

    /** Fine-tuning's start: what matches from the weights given, the model's initial values for the rest. */
    WeightsResolver.Resolved transfer(ModelZoo zoo, Model model) {
        return reported(resolver(zoo).transfer(source(), model), model);
    }

    /** "weights from FILE" or "its pretrained weights", or {@code otherwise} when none were given. */
    String describe(String otherwise) {
        return given() ? source().describe() : otherwise;
    }

    private WeightsResolver.Resolved reported(WeightsResolver.Resolved r, Model model) {
        PrintWriter err = mixee.commandLine().getErr();
        r.notes().forEach(note -> err.println("zoo: " + note));
        err.flush();
        List<String> unused = r.unused();
        if (!unused.isEmpty()) {
            String where = r.source() instanceof WeightsSource.File f ? f.path().toString() : "the pretrained weights";
            err.printf("zoo: %d tensor(s) in %s are not used by %s: %s%n", unused.size(), where, model.id(),
                    String.join(", ", unused.subList(0, Math.min(10, unused.size()))) + (unused.size() > 10 ? ", …" : ""));
            err.flush();
        }
        return r;
    }
}
