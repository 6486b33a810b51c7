package dev.cnnzoo.cli;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.io.AtomicFile;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.ModelExporter;
import dev.cnnzoo.quantize.FloatModel;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "export", description = "Write a model as a standard ONNX file (dynamic batch, zoo metadata).")
final class ExportCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL")
    String id;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "The .onnx file to write.")
    Path output;

    @Option(names = "--opset", paramLabel = "N", defaultValue = "17",
            description = "ONNX opset, 13 to 21 (default ${DEFAULT-VALUE}, the newest Debian's onnx checker validates).")
    int opset;

    @Mixin
    WeightsMixin weights;

    @Option(names = "--training-form", description = "Keep dropout and auxiliary outputs (the graph as built for training).")
    boolean trainingForm;

    @Option(names = "--int8", description = "Quantize to INT8 (static, QDQ form), calibrated on --calibrate DATA; see zoo quantize.")
    boolean int8;

    @Mixin
    QuantizeOptions quantize;

    @Mixin
    ModelOptions modelOptions;


    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        AtomicFile.checkTarget(output);         // before minutes of building and loading: a folder or device is refused now
        ModelZoo zoo = ModelZoo.load();
        Model model = zoo.build(id, modelOptions.config());
        Weights w = weights.given() ? weights.resolve(zoo, model).weights() : Weights.initial(model.graph(), model.config().seed());
        ExportOptions options = ExportOptions.defaults().opset(opset).auxiliary(Boolean.TRUE.equals(modelOptions.auxiliary));
        if (trainingForm) {
            options = options.asBuilt();
        }
        PrintWriter out = spec.commandLine().getOut();
        if (int8) {
            if (trainingForm) {
                throw new ZooException("--int8 writes the inference form; it cannot be combined with --training-form");
            }
            quantize.quantize(FloatModel.of(model, w, options), output, out);
            out.flush();
            return 0;
        }
        if (quantize.anyGiven()) {
            throw new ZooException("--calibrate and the other quantization options need --int8");
        }
        List<Path> files = ModelExporter.write(model, w, output, options);
        for (Path f : files) {
            out.printf("wrote %s (%s)%n", f, Format.bytes(Files.size(f)));
        }
        // The parameters the file holds: the inference form has no auxiliary classifiers unless --aux kept them.
        out.printf("%s, opset %d, %s parameters, input N×%d×%d×%d%s%n", model.id(), opset,
                Format.grouped(ModelExporter.written(model, options).trainableParameterCount()), model.config().inputChannels(),
                model.config().inputSize()[0], model.config().inputSize()[1],
                ", " + weights.describe("seeded initial weights (seed " + model.config().seed() + ")"));
        out.flush();
        return 0;
    }
}
