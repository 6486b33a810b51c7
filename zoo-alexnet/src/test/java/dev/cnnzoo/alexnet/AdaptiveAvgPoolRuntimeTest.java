package dev.cnnzoo.alexnet;

import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.OnnxExporter;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.testkit.Close;
import dev.cnnzoo.testkit.TestTensors;
import dev.cnnzoo.weights.Weights;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The adaptive pooling in front of alexnet-tv's classifier, run by ONNX Runtime, against PyTorch's
 * definition computed directly: output cell (i, j) is the mean of input rows
 * floor(i·H/6) … ceil((i+1)·H/6) − 1 and columns likewise.
 */
class AdaptiveAvgPoolRuntimeTest {
    @ParameterizedTest(name = "{0}×{1} → 6×6")
    @CsvSource({
        "7, 7",    // alexnet-tv at 256×256: overlapping bins
        "13, 9",   // uneven bins, different per axis
        "5, 6",    // growing one axis, the other already 6
        "12, 18",  // even division: one AveragePool
    })
    void onnxRuntimeMatchesPytorchsBins(int height, int width) {
        int maps = 3;
        Net net = new Net("adaptive");
        Value x = net.input(maps, height, width);
        net.output("out", net.adaptiveAvgPool(x, 6, 6));
        Tensor input = TestTensors.images(2, maps, height, width, 17);
        float[] onnx;
        try (InferenceSession s = InferenceSession.open(OnnxExporter.toBytes(net.build(), Weights.of(Map.of()),
                ExportOptions.defaults()), RuntimeOptions.cpu(1))) {
            onnx = s.run(input).floats();
        }
        Close.assertRelative("adaptive average pooling " + height + "×" + width + " → 6×6",
                bins(input.floats(), 2 * maps, height, width, 6), onnx, 1e-6);
    }

    private static float[] bins(float[] x, int planes, int height, int width, int out) {
        float[] y = new float[planes * out * out];
        for (int p = 0; p < planes; p++) {
            for (int i = 0; i < out; i++) {
                int r0 = (int) Math.floor((double) i * height / out);
                int r1 = (int) Math.ceil((double) (i + 1) * height / out);
                for (int j = 0; j < out; j++) {
                    int c0 = (int) Math.floor((double) j * width / out);
                    int c1 = (int) Math.ceil((double) (j + 1) * width / out);
                    double sum = 0;
                    for (int r = r0; r < r1; r++) {
                        for (int c = c0; c < c1; c++) {
                            sum += x[(p * height + r) * width + c];
                        }
                    }
                    y[(p * out + i) * out + j] = (float) (sum / ((r1 - r0) * (c1 - c0)));
                }
            }
        }
        return y;
    }
}
