package dev.cnnzoo.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Summary;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "info", description = "Show a model's metadata and its per-layer summary (shapes, parameters, MACs, memory).")
final class InfoCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL")
    String id;

    @Option(names = "--depth", paramLabel = "D", description = "Group layers by the first D parts of their names (default: every layer).")
    Integer depth;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "32", description = "Batch size for the training-memory figure (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--json", description = "Print the metadata as JSON (with the counterparts in torchvision, timm and Keras, "
            + "which tools/export_torchvision.py reads) instead of the summary.")
    boolean json;

    @Mixin
    ModelOptions modelOptions;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (depth != null && depth < 1) {
            throw new dev.cnnzoo.api.ZooException("--depth must be at least 1, got " + depth);
        }
        if (batch < 1) {
            throw new dev.cnnzoo.api.ZooException("--batch must be at least 1, got " + batch);
        }
        Model model = ModelZoo.load().build(id, modelOptions.config());
        ModelInfo info = model.info();
        Summary s = Summary.of(model.graph());
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(json(describe(info, Summary.of(model.graph().inferenceForm(false)))));
            out.flush();
            return 0;
        }
        int[] size = model.config().inputSize();
        out.printf("%s: %s%n", info.id(), info.description());
        out.printf("  family         %s%n", info.family());
        out.printf("  paper          %s (%s)%s%n", info.paper().citation(), info.paper().venue(),
                info.paper().url() != null ? " " + info.paper().url() : "");
        out.printf("  input          %d×%d×%d, %d classes%n", model.config().inputChannels(), size[0], size[1], model.config().classes());
        out.printf("  preprocessing  %s%n", model.preprocessing());
        if (info.reported() != null) {
            out.printf("  reported       %s%s (%s)%n",
                    info.reported().top1() != null ? "top-1 error " + info.reported().top1() + "%" : "",
                    info.reported().top5() != null ? (info.reported().top1() != null ? ", " : "") + "top-5 error " + info.reported().top5() + "%" : "",
                    info.reported().protocol());
        }
        if (!info.options().isEmpty()) {
            new TreeMap<>(info.options()).forEach((k, v) -> out.printf("  option         %s: %s%n", k, v));
        }
        if (info.auxiliary()) {
            out.printf("  auxiliary      %s%n", model.config().auxiliary() ? "on (training outputs; dropped from inference exports unless --aux)" : "off");
        }
        long deployed = model.graph().inferenceForm(false).trainableParameterCount();
        out.printf("  parameters     %s trainable, %s state%s%n", Format.grouped(s.parameters()), Format.grouped(s.stateScalars()),
                deployed != s.parameters() ? " (" + Format.grouped(deployed) + " without the auxiliary classifiers)" : "");
        out.printf("  MACs           %s per image%n", Format.grouped(s.macs()));
        out.printf("  memory         weights %s; activations %s at inference (batch 1), %s in training (batch %d)%n",
                Format.bytes(s.weightBytes()), Format.bytes(s.inferenceActivationBytes(1)), Format.bytes(s.trainingActivationBytes(batch)), batch);
        if (!model.graph().featureStages().isEmpty()) {
            out.println();
            out.println(model.config().featuresOnly() ? "feature stages (the outputs)"
                    : "feature stages (--features-only outputs them; --out-indices picks some)");
            out.print(s.featureStageTable());
        }
        out.println();
        out.print(s.table(depth == null ? Integer.MAX_VALUE : depth));
        out.flush();
        return 0;
    }

    /** The model's metadata with the parameters and MACs of {@code deployed}, the network as it is exported. */
    static Map<String, Object> describe(ModelInfo info, Summary deployed) {
        Map<String, Object> m = new LinkedHashMap<>(info.describe());
        m.put("parameters", deployed.parameters());
        m.put("macs", deployed.macs());
        return m;
    }

    static String json(Object value) {
        try {
            return new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
