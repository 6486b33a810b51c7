package dev.cnnzoo.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.OptimizedGraph;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.testkit.Conformance;
import dev.cnnzoo.testkit.OnnxChecker;
import dev.cnnzoo.training.data.BatchLoader;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every network of the zoo quantizes, loads in ONNX Runtime with every quantized convolution and
 * dense layer fused into an integer kernel, passes the full ONNX checker, and computes logits
 * close to its float model's on images like the calibration images.
 *
 * <p>Cost: each model is calibrated on {@value #CALIBRATION} images at its default input size and
 * compared on {@value #COMPARED}; -Dquantize.models=GLOB narrows the set.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EveryModelQuantizesTest {
    static final int CALIBRATION = 4;
    static final int COMPARED = 4;

    @TempDir
    Path dir;

    /** Per model: its quantized file, what the quantization reported, and the figures of the comparison. */
    private record Quantized(Path file, QuantizationReport report, double relativeError, double topOneAgreement, double seconds) {
    }

    private final Map<String, Quantized> models = new LinkedHashMap<>();

    @BeforeAll
    void quantizeEveryModel() throws IOException {
        ModelZoo zoo = ModelZoo.load();
        String glob = System.getProperty("quantize.models", "");
        List<ModelInfo> infos = glob.isBlank() ? zoo.list() : zoo.list(glob);
        RuntimeOptions runtime = RuntimeOptions.cpu(2);
        for (ModelInfo info : infos) {
            long start = System.nanoTime();
            Model model = zoo.build(info.id());
            FloatModel fp32 = FloatModel.of(model, Weights.initial(model.graph(), 0), ExportOptions.defaults());
            CalibrationData calibration = CalibrationData.of(new SmoothImages(CALIBRATION, fp32.channels(), fp32.height(), fp32.width(), 1),
                    fp32, CALIBRATION, 0);
            QuantizedModel q = Quantizer.quantize(fp32, calibration, Quantizer.Options.defaults().runtime(runtime), Calibrator.Progress.NONE);
            Path file = dir.resolve(info.id() + "-int8.onnx");
            q.write(file);
            float[][] logits = new float[2][];
            Tensor images;
            try (BatchLoader loader = CalibrationData.of(new SmoothImages(COMPARED, fp32.channels(), fp32.height(), fp32.width(), 2), fp32,
                    COMPARED, 0).loader(COMPARED)) {
                images = loader.evaluation().next().images();
            }
            try (InferenceSession s = InferenceSession.open(fp32.proto().toByteArray(), runtime)) {
                logits[0] = s.run(images).floats();
            }
            try (InferenceSession s = InferenceSession.open(file, runtime)) {
                logits[1] = s.run(images).floats();
            }
            Quantized result = new Quantized(file, q.report(), relativeError(logits[0], logits[1], COMPARED),
                    topOneAgreement(logits[0], logits[1], COMPARED), (System.nanoTime() - start) / 1e9);
            models.put(info.id(), result);
            System.out.printf(Locale.ROOT, "%-22s relative error %.4f, top-1 agreement %.2f, %.1f s%n", info.id(), result.relativeError,
                    result.topOneAgreement, result.seconds);
        }
    }

    /** ‖int8 − float‖ / ‖float − its row means‖ over the batch: the error against the logits' own spread. */
    static double relativeError(float[] fp32, float[] int8, int rows) {
        int classes = fp32.length / rows;
        double err = 0;
        double spread = 0;
        for (int r = 0; r < rows; r++) {
            double mean = 0;
            for (int k = 0; k < classes; k++) {
                mean += fp32[r * classes + k];
            }
            mean /= classes;
            for (int k = 0; k < classes; k++) {
                int i = r * classes + k;
                err += (int8[i] - fp32[i]) * (double) (int8[i] - fp32[i]);
                spread += (fp32[i] - mean) * (fp32[i] - mean);
            }
        }
        return Math.sqrt(err / spread);
    }

    static double topOneAgreement(float[] fp32, float[] int8, int rows) {
        int classes = fp32.length / rows;
        int agree = 0;
        for (int r = 0; r < rows; r++) {
            agree += argmax(fp32, r * classes, classes) == argmax(int8, r * classes, classes) ? 1 : 0;
        }
        return agree / (double) rows;
    }

    private static int argmax(float[] a, int from, int n) {
        int best = 0;
        for (int k = 1; k < n; k++) {
            if (a[from + k] > a[from + best]) {
                best = k;
            }
        }
        return best;
    }

    @Test
    void int8LogitsFollowTheFloatModels() {
        List<String> failures = new ArrayList<>();
        for (Map.Entry<String, Quantized> e : models.entrySet()) {
            Quantized q = e.getValue();
            if (q.relativeError > 0.15) {
                failures.add(e.getKey() + ": relative error " + q.relativeError);
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    @Test
    void onnxRuntimeFusesEveryQuantizedConvolutionAndDenseLayer() {
        for (Map.Entry<String, Quantized> e : models.entrySet()) {
            Map<String, Integer> ops = OptimizedGraph.of(e.getValue().file, RuntimeOptions.cpu(2)).opCounts();
            Map<String, Integer> quantized = e.getValue().report.quantizedOps();
            assertEquals(quantized.getOrDefault("Conv", 0), ops.getOrDefault("QLinearConv", 0), e.getKey() + ": " + ops);
            assertEquals(quantized.getOrDefault("Gemm", 0), ops.getOrDefault("QGemm", 0), e.getKey() + ": " + ops);
            assertEquals(0, ops.getOrDefault("Conv", 0) + ops.getOrDefault("Gemm", 0), e.getKey() + " runs no float convolution: " + ops);
        }
    }

    @Test
    @Conformance
    void everyQuantizedModelPassesTheFullChecker() {
        OnnxChecker.fullCheck(models.values().stream().map(Quantized::file).toArray(Path[]::new));
    }

    @Test
    void quantizedFilesRecordTheirCalibration() throws IOException {
        for (Map.Entry<String, Quantized> e : models.entrySet()) {
            try (InferenceSession s = InferenceSession.open(e.getValue().file, RuntimeOptions.cpu(1))) {
                String json = s.metadata().get("zoo.quantization");
                assertTrue(json.contains("\"method\":\"minmax\"") && json.contains("\"samples\":" + CALIBRATION), e.getKey() + ": " + json);
                assertEquals(e.getKey(), s.metadata().get("zoo.id"));
            }
            assertTrue(Files.size(e.getValue().file) > 0);
        }
    }
}
