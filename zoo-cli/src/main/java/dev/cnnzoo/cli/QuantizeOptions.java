package dev.cnnzoo.cli;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.onnx.quantize.QdqRewrite;
import dev.cnnzoo.quantize.CalibrationData;
import dev.cnnzoo.quantize.CalibrationMethod;
import dev.cnnzoo.quantize.Calibrator;
import dev.cnnzoo.quantize.FloatModel;
import dev.cnnzoo.quantize.QuantizationReport;
import dev.cnnzoo.quantize.QuantizedModel;
import dev.cnnzoo.quantize.Quantizer;
import dev.cnnzoo.runtime.OptimizedGraph;
import dev.cnnzoo.runtime.RuntimeOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Option;

/** The options of a static INT8 quantization, shared by {@code zoo quantize} and {@code zoo export --int8}. */
final class QuantizeOptions {
    @Option(names = "--calibrate", paramLabel = "DATA",
            description = "Calibration images: a dataset folder zoo train reads (IDX, CIFAR-10 batches, a folder of images per class); its training split.")
    Path calibrate;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "" + Quantizer.DEFAULT_SAMPLES,
            description = "Calibration images, drawn at random from DATA (default ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--method", paramLabel = "minmax|percentile|entropy", defaultValue = "minmax",
            description = "How ranges are chosen: min/max, a percentile of magnitudes, or the KL-divergence threshold (default ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--percentile", paramLabel = "P", defaultValue = "" + Quantizer.DEFAULT_PERCENTILE,
            description = "With --method percentile: the share of values (%%) each range keeps (default ${DEFAULT-VALUE}).")
    double percentile;

    @Option(names = "--keep-fp32", paramLabel = "LAYER", split = ",",
            description = "Layers to leave in float: node names or their prefixes (fc3 keeps fc3/Gemm).")
    List<String> keepFp32 = new ArrayList<>();

    @Option(names = "--reduce-range", negatable = true, description = {"Weights in 7 bits, for x86 CPUs without VNNI, whose integer "
            + "kernels add pairs of products in 16 bits (default: on where this CPU is one; --no-reduce-range: 8 bits anyway)."})
    Boolean reduceRange;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0", description = "Intra-op threads of the calibration runs; 0 lets ONNX Runtime choose.")
    int threads;

    @Option(names = "--no-progress", description = "No progress bar.")
    boolean noProgress;

    /** Calibrates {@code fp32} on --calibrate's images, writes the quantized model to {@code output}, reports on {@code out}. */
    void quantize(FloatModel fp32, Path output, PrintWriter out) throws IOException {
        RuntimeOptions runtime = RuntimeOptions.cpu(threads);
        if (calibrate == null) {
            throw new ZooException("quantization needs calibration images: --calibrate DATA");
        }
        CalibrationMethod m = CalibrationMethod.parse(method);
        Quantizer.Options options = Quantizer.Options.defaults().method(m).percentile(percentile).keepFp32(keepFp32).runtime(runtime);
        if (reduceRange != null) {
            options = options.reduceRange(reduceRange);
        }
        CalibrationData data = CalibrationData.open(calibrate, fp32, samples, 0);
        QuantizedModel q;
        boolean bar = !noProgress && System.console() != null;
        if (bar) {
            try (ProgressBar progress = new ProgressBarBuilder().setTaskName("calibrating").setInitialMax(data.size()).setUnit(" images", 1)
                    .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250).clearDisplayOnFinish().build()) {
                q = Quantizer.quantize(fp32, data, options, (images, total) -> progress.stepTo(images));
            }
        } else {
            q = Quantizer.quantize(fp32, data, options, Calibrator.Progress.NONE);
        }
        q.write(output);
        report(q.report(), fp32, output, runtime, out);
    }

    private static void report(QuantizationReport r, FloatModel fp32, Path output, RuntimeOptions runtime, PrintWriter out) throws IOException {
        out.printf("wrote %s (%s; the float model is %s)%n", output, Format.bytes(Files.size(output)),
                Format.bytes(fp32.proto().getSerializedSize()));
        out.printf("calibrated with %s on %d images drawn from %s%n", r.method().id()
                + (r.percentile() != null ? " " + r.percentile() + "%" : ""), r.samples(), r.data());
        if (!r.preparation().isEmpty()) {
            List<String> parts = new ArrayList<>();
            r.preparation().forEach((what, n) -> parts.add(what + " (" + n + ")"));
            out.printf("prepared the float model: %s%n", String.join(", ", parts));
        }
        out.printf("quantized: %s%n", counts(r.quantizedOps()));
        out.println(r.reducedRange() ? "weights in 7 bits (±63): 8-bit weights can saturate the int8 kernels of x86 CPUs without VNNI "
                + "(--no-reduce-range keeps 8)" : "weights in 8 bits");
        if (r.fp32Nodes().isEmpty()) {
            out.println("left in float: nothing");
        } else {
            Map<String, List<String>> byReason = new LinkedHashMap<>();
            for (QdqRewrite.Fp32Node n : r.fp32Nodes()) {
                byReason.computeIfAbsent(n.op() + ": " + n.reason(), k -> new ArrayList<>()).add(n.name());
            }
            out.println("left in float:");
            byReason.forEach((reason, nodes) -> out.printf("  %s — %s%n", reason, nodes.size() <= 6 ? String.join(", ", nodes)
                    : String.join(", ", nodes.subList(0, 6)) + ", … (" + nodes.size() + ")"));
        }
        // What ONNX Runtime makes of the QDQ groups: integer kernels, and any QuantizeLinear/DequantizeLinear left to run alone.
        Map<String, Integer> ops = OptimizedGraph.of(output, runtime).opCounts();
        Map<String, Integer> fused = new LinkedHashMap<>();
        ops.forEach((op, c) -> {
            if (op.startsWith("QLinear") || op.equals("QGemm") || op.equals("MatMulIntegerToFloat") || op.equals("NhwcMaxPool")) {
                fused.put(op, c);
            }
        });
        out.printf("ONNX Runtime runs it as: %s; QuantizeLinear %d, DequantizeLinear %d left unfused%n", counts(fused),
                ops.getOrDefault("QuantizeLinear", 0), ops.getOrDefault("DequantizeLinear", 0));
    }

    private static String counts(Map<String, Integer> counts) {
        List<String> parts = new ArrayList<>();
        counts.forEach((op, c) -> parts.add(c + " " + op));
        return parts.isEmpty() ? "nothing" : String.join(", ", parts);
    }

    /** Whether any quantization option was given (they need --int8 on export). */
    boolean anyGiven() {
        return calibrate != null || !keepFp32.isEmpty() || reduceRange != null || threads != 0 || samples != Quantizer.DEFAULT_SAMPLES || !method.equals("minmax");
    }
}
