package dev.cnnzoo.cli;

import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Summary;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "list", description = "List the models on the class path: all, those matching a glob (resnet*), or a family.")
final class ListCommand implements Callable<Integer> {
    @Parameters(arity = "0..1", paramLabel = "GLOB", description = "Model ids to show, e.g. 'vgg*', or a family name.")
    String glob;

    @Option(names = "--json", description = "Print the models as a JSON array: each model's metadata (paper, input, preprocessing, "
            + "options, counterparts in torchvision, timm and Keras) with its parameters and MACs.")
    boolean json;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        ModelZoo zoo = ModelZoo.load();
        List<ModelInfo> models = glob == null ? zoo.list() : zoo.list(glob);
        PrintWriter out = spec.commandLine().getOut();
        if (models.isEmpty()) {
            spec.commandLine().getErr().println("zoo: no model matches '" + glob + "'");
            return 1;
        }
        if (json) {
            List<Map<String, Object>> described = new ArrayList<>();
            for (ModelInfo info : models) {
                described.add(InfoCommand.describe(info, zoo.summary(info.id())));
            }
            out.println(InfoCommand.json(described));
            return 0;
        }
        String fmt = "%-22s %-10s %5s %12s %10s  %s%n";
        out.printf(fmt, "id", "family", "year", "parameters", "MACs", "input");
        for (ModelInfo info : models) {
            Summary s = zoo.summary(info.id());
            out.printf(fmt, info.id(), info.family(), info.paper().year(), Format.grouped(s.parameters()), Format.count(s.macs()),
                    info.inputDescription());
        }
        return 0;
    }
}
