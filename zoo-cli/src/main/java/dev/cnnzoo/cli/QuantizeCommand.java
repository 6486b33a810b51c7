package dev.cnnzoo.cli;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.quantize.FloatModel;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "quantize", description = {"Static INT8 quantization: calibrate a zoo model or a float ONNX file on sample images and write it "
        + "in QDQ form (standard QuantizeLinear/DequantizeLinear; ONNX Runtime fuses them into integer kernels).",
        "Weights int8 per output channel, activations uint8 per tensor, biases int32. Layers that gain nothing stay in float; the "
                + "file's zoo.quantization metadata records them, the calibration and what was quantized."})
final class QuantizeCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL|FILE.onnx", description = "A zoo model id, or a float ONNX file (torchvision's export, say).")
    String target;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT.onnx", description = "The quantized model to write.")
    Path output;

    @Mixin
    WeightsMixin weights;

    @Option(names = "--opset", paramLabel = "N", defaultValue = "17", description = "A zoo model's ONNX opset, 13 to 21 (default ${DEFAULT-VALUE}).")
    int opset;

    @Option(names = "--preprocessing", paramLabel = "imagenet|inception",
            description = "For a file without zoo metadata: how images are normalised (default imagenet).")
    String preprocessing;

    @Mixin
    QuantizeOptions quantize;

    @Mixin
    ModelOptions modelOptions;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        ModelZoo zoo = ModelZoo.load();
        Path file = Path.of(target);
        FloatModel fp32;
        if (target.endsWith(".onnx") || (!zoo.contains(target) && Files.isRegularFile(file))) {
            if (weights.given() || !modelOptions.arguments().isEmpty()) {
                throw new ZooException("--weights and the model options apply to zoo ids; " + target + " is an ONNX file");
            }
            fp32 = FloatModel.read(file, FloatModel.Recipe.parse(preprocessing == null ? "imagenet" : preprocessing));
        } else {
            if (preprocessing != null) {
                throw new ZooException("--preprocessing applies to ONNX files; a zoo model knows its own");
            }
            Model model = zoo.build(target, modelOptions.config());
            Weights w = weights.given() ? weights.resolve(zoo, model).weights() : Weights.initial(model.graph(), model.config().seed());
            if (!weights.given()) {
                out.printf("%s with seeded initial weights (seed %d): give --weights to quantize trained ones%n", model.id(), model.config().seed());
            }
            fp32 = FloatModel.of(model, w, ExportOptions.defaults().opset(opset));
        }
        quantize.quantize(fp32, output, out);
        out.flush();
        return 0;
    }
}
