package dev.cnnzoo.quantize;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.onnx.ZooMetadata;
import dev.cnnzoo.onnx.quantize.QdqRewrite;
import dev.cnnzoo.onnx.quantize.TensorRange;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.runtime.bench.Machine;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Static INT8 quantization of a float model: folds it, calibrates the ranges of the tensors to be
 * quantized on sample images, and writes the QDQ model ({@link QdqRewrite}) with its calibration
 * and the layers left in float recorded in {@code metadata_props["zoo.quantization"]}.
 *
 * <pre>{@code
 * FloatModel fp32 = FloatModel.of(model, weights, ExportOptions.defaults());
 * CalibrationData data = CalibrationData.open(Path.of("/usr/share/datasets/fashion-mnist"), fp32, 512, 0);
 * QuantizedModel int8 = Quantizer.quantize(fp32, data, Quantizer.Options.defaults(), Calibrator.Progress.NONE);
 * int8.write(Path.of("fashion-cnn-int8.onnx"));
 * }</pre>
 */
public final class Quantizer {
    /** Calibration samples when none are asked for: enough for stable per-tensor ranges of ImageNet models. */
    public static final int DEFAULT_SAMPLES = 512;
    /** ONNX Runtime's default percentile. */
    public static final double DEFAULT_PERCENTILE = 99.999;

    /**
     * How to quantize.
     *
     * @param method     how calibration turns values into ranges
     * @param percentile for {@link CalibrationMethod#PERCENTILE}: the share of values (%) each range keeps
     * @param keepFp32   layers to leave in float (node names or their prefixes, see {@link QdqRewrite#plan})
     * @param runtime    ONNX Runtime settings of the calibration runs
     * @param reduceRange weights in 7 bits (±63) for x86 CPUs without VNNI (ONNX Runtime's reduce_range);
     *                    by default, whether the CPU quantizing is one ({@link Machine#int8PairsSaturate})
     */
    public record Options(CalibrationMethod method, double percentile, List<String> keepFp32, RuntimeOptions runtime, boolean reduceRange) {
        public Options {
            keepFp32 = List.copyOf(keepFp32);
            if (!(percentile > 0 && percentile <= 100)) {
                throw new ZooException("the calibration percentile must lie in (0, 100], got " + percentile);
            }
        }

        /**
         * Min/max calibration, everything quantizable quantized, ONNX Runtime's default threads, weights
         * in 7 bits where this CPU's int8 kernels would saturate on 8 (x86 without VNNI: lenet5 on
         * Fashion-MNIST lost 1.6 points there with 8-bit weights, Xception's logits 22 % relative error).
         */
        public static Options defaults() {
            return new Options(CalibrationMethod.MINMAX, DEFAULT_PERCENTILE, List.of(), RuntimeOptions.cpu(), Machine.int8PairsSaturate());
        }

        public Options method(CalibrationMethod m) {
            return new Options(m, percentile, keepFp32, runtime, reduceRange);
        }

        public Options percentile(double p) {
            return new Options(method, p, keepFp32, runtime, reduceRange);
        }

        public Options keepFp32(List<String> layers) {
            return new Options(method, percentile, layers, runtime, reduceRange);
        }

        public Options runtime(RuntimeOptions r) {
            return new Options(method, percentile, keepFp32, r, reduceRange);
        }

        public Options reduceRange(boolean on) {
            return new Options(method, percentile, keepFp32, runtime, on);
        }
    }

    private Quantizer() {
    }

    /**
     * Quantizes {@code model} with ranges calibrated on {@code data}.
     *
     * @throws ZooException when the model is quantized already, is not an FP32 model with one image
     *                      input, or a layer to keep does not exist
     */
    public static QuantizedModel quantize(FloatModel model, CalibrationData data, Options options, Calibrator.Progress progress) {
        QdqRewrite plan = QdqRewrite.plan(model.proto(), options.keepFp32());
        Map<String, TensorRange> ranges = Calibrator.ranges(plan.fp32(), model.inputName(), plan.calibrationTensors(), data,
                options.method(), options.percentile(), options.runtime(), progress);
        QuantizationReport report = new QuantizationReport(model.description(), options.method(),
                options.method() == CalibrationMethod.PERCENTILE ? options.percentile() : null, data.size(), data.source(),
                plan.quantizedOps(), plan.fp32Nodes(), plan.preparation(), options.reduceRange());
        // What eval and predict need to feed the file images, also for a foreign model that recorded none.
        Map<String, String> metadata = new LinkedHashMap<>(ZooMetadata.of(model.proto()).entries());
        metadata.putIfAbsent("zoo.preprocessing", ZooMetadata.preprocessingJson(model.preprocessing()));
        metadata.putIfAbsent("zoo.input", ZooMetadata.inputText(model.channels(), model.height(), model.width()));
        metadata.put(QdqRewrite.METADATA_KEY, report.toJson());
        ModelProto int8 = plan.quantize(ranges, metadata, options.reduceRange());
        return new QuantizedModel(int8, report);
    }
}
