package dev.cnnzoo.cli;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.io.AtomicFile;
import dev.cnnzoo.runtime.interchange.WeightImport;
import dev.cnnzoo.weights.Safetensors;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "import", description = {"Map another tool's weights onto a zoo model and write them as safetensors (for export, run, predict, train).",
        "FILE: an ONNX file (its initializers; e.g. torch.onnx.export of the torchvision model, batch norms folded or not), a PyTorch "
                + "checkpoint (torch.save of a state dict; read without running any of its code), Keras HDF5 weights (save_weights or a "
                + "whole saved model) or a safetensors state dict with torchvision's or timm's names. Tensors map by name, by the ONNX node "
                + "that uses them, by Keras layer order, and by shape."})
final class ImportCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL")
    String id;

    @Parameters(index = "1", paramLabel = "FILE")
    Path file;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "WEIGHTS.safetensors", description = "The weights file to write.")
    Path output;

    @Option(names = "--partial", description = "Keep the seeded initial value of any tensor nothing maps to (e.g. a classifier for other classes).")
    boolean partial;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    WeightCheckOptions weightChecks;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        AtomicFile.checkTarget(output);
        Model model = ModelZoo.load().build(id, modelOptions.config());
        WeightImport.Report r = WeightImport.from(file, model, partial, weightChecks.checks());
        Safetensors.write(output, r.weights(), Map.of("zoo.id", model.id(), "zoo.imported_from", file.getFileName().toString()));
        PrintWriter out = spec.commandLine().getOut();
        List<String> how = new ArrayList<>();
        count(how, r, WeightImport.How.NAME, "by name");
        count(how, r, WeightImport.How.NODE, "by the ONNX node using them");
        count(how, r, WeightImport.How.ORDER, "by Keras layer order");
        if (r.count(WeightImport.How.FOLDED) > 0) {
            how.add(r.count(WeightImport.How.FOLDED) + " batch-norm tensors restored from " + r.count(WeightImport.How.FOLDED) / 4
                    + " folded convolutions");
        }
        count(how, r, WeightImport.How.INITIAL, "kept at their initial values");
        out.printf("%s: %d tensors from %s: %s%n", model.id(), r.weights().size(), file, String.join(", ", how));
        for (String note : r.notes()) {
            out.printf("  %s%n", note);
        }
        for (String k : r.kept()) {
            out.printf("  kept initial: %s%n", k);
        }
        if (!r.unused().isEmpty()) {
            out.printf("not used from %s (%d): %s%n", file.getFileName(), r.unused().size(), list(r.unused()));
        }
        if (r.counters() > 0) {
            out.printf("(%d num_batches_tracked counters left out: the zoo does not keep them)%n", r.counters());
        }
        out.printf("wrote %s (%s)%n", output, Format.bytes(Files.size(output)));
        out.flush();
        return 0;
    }

    private static void count(List<String> how, WeightImport.Report r, WeightImport.How h, String what) {
        if (r.count(h) > 0) {
            how.add(r.count(h) + " " + what);
        }
    }

    private static String list(List<String> names) {
        return String.join(", ", names.subList(0, Math.min(12, names.size()))) + (names.size() > 12 ? ", …" : "");
    }
}
