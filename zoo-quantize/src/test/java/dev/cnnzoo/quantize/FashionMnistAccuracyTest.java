package dev.cnnzoo.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.training.data.Dataset;
import dev.cnnzoo.training.data.Datasets;
import dev.cnnzoo.training.data.Split;
import dev.cnnzoo.training.run.Evaluator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The zoo's two Fashion-MNIST networks, quantized with their shipped weights and 512 calibration
 * images of the training set, classify the 10,000 test images within half a point of their float
 * accuracy. About 40 s for both on two shared cores, most of it the 10,000-image evaluations.
 */
class FashionMnistAccuracyTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @CsvSource({"fashion-cnn, 0.9295", "lenet5, 0.8920"})
    void int8AccuracyIsWithinHalfAPointOfFloat(String id, double recordedFp32) throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(Datasets.DEBIAN_FASHION_MNIST), "Debian's dataset-fashion-mnist is not installed");
        long start = System.nanoTime();
        ModelZoo zoo = ModelZoo.load();
        Model model = zoo.build(id);
        FloatModel fp32 = FloatModel.of(model, zoo.pretrained(id).bind(model.graph()), ExportOptions.defaults());
        CalibrationData data = CalibrationData.open(Datasets.DEBIAN_FASHION_MNIST, fp32, Quantizer.DEFAULT_SAMPLES, 0);
        QuantizedModel q = Quantizer.quantize(fp32, data, Quantizer.Options.defaults().runtime(RuntimeOptions.cpu(2)), Calibrator.Progress.NONE);
        Path int8 = dir.resolve(id + "-int8.onnx");
        Path float32 = dir.resolve(id + ".onnx");
        q.write(int8);
        Files.write(float32, fp32.proto().toByteArray());

        Dataset test = Datasets.open(Datasets.DEBIAN_FASHION_MNIST, Split.TEST, 1, 28, 28);
        double floatAccuracy = accuracy(float32, fp32, test);
        double int8Accuracy = accuracy(int8, fp32, test);
        // The float file through the same evaluation reproduces the shipped figure to the image (0.01 %).
        assertEquals(recordedFp32, floatAccuracy, 1.5e-4, id + " in float");
        assertTrue(Math.abs(int8Accuracy - floatAccuracy) <= 0.005, String.format(Locale.ROOT, "%s: int8 %.2f %% against float %.2f %%", id,
                100 * int8Accuracy, 100 * floatAccuracy));
        assertEquals(Map.of(), Map.copyOf(q.report().unknownOps().stream().collect(java.util.stream.Collectors.toMap(n -> n.name(), n -> n.op()))),
                "every op of the zoo's networks is known to the quantizer");
        System.out.printf(Locale.ROOT, "%s: float %.2f %%, int8 %.2f %% (%.1f s)%n", id, 100 * floatAccuracy, 100 * int8Accuracy,
                (System.nanoTime() - start) / 1e9);
    }

    private static double accuracy(Path file, FloatModel model, Dataset test) {
        try (InferenceSession s = InferenceSession.open(file, RuntimeOptions.cpu(2))) {
            return Evaluator.evaluate(s, model.preprocessing(), test, 500).accuracy();
        }
    }
}
