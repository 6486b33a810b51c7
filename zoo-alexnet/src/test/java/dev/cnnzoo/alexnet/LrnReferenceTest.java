package dev.cnnzoo.alexnet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.OnnxExporter;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.testkit.Close;
import dev.cnnzoo.weights.Weights;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * ONNX Runtime's output of the zoo's LRN layer against Equation 13-2 of Géron's <i>Hands-On Machine Learning</i> (1st ed.; ch. 14 in the
 * 2nd) computed
 * directly, in double precision:
 *
 * <pre>
 * b_i = a_i · (k + α · Σ_{j = max(0, i − r)}^{min(i + r, f_n − 1)} a_j²)^(−β),  r = 2, α = 0.00002, β = 0.75, k = 1
 * </pre>
 *
 * The text prints the window's bounds as i ± r/2, the paper's n/2 with n renamed, but it calls r
 * the depth radius and implements the equation with TensorFlow's {@code depth_radius}, whose window
 * is i ± r; its constants are the paper's n = 5, α = 10⁻⁴ (§3.3) in that convention only. So the
 * window is i ± r here, as in {@link dev.cnnzoo.nn.Lrn}.
 */
class LrnReferenceTest {
    private static final int MAPS = 9;
    private static final int HEIGHT = 5;
    private static final int WIDTH = 4;

    @Test
    void onnxRuntimesLrnEqualsEquation13_2() {
        Tensor a = reluActivations(2, 11);
        float[] onnx = runLrn(a);
        Close.assertRelative("LRN, ONNX Runtime vs Equation 13-2", equation(a, 2, 0.00002, 0.75, 1), onnx, 1e-6);
    }

    /** The comparison tells a window of 2r + 1 from the r + 1 maps of the printed bounds, and α from α·size. */
    @Test
    void theComparisonSeesTheWindowAndTheAlphaScaling() {
        Tensor a = reluActivations(2, 11);
        float[] onnx = runLrn(a);
        assertThrows(AssertionError.class, () -> Close.assertRelative("window i ± r/2", equation(a, 1, 0.00002, 0.75, 1), onnx, 1e-6));
        assertThrows(AssertionError.class, () -> Close.assertRelative("α not scaled", equation(a, 2, 0.00002 / 5, 0.75, 1), onnx, 1e-6));
    }

    @Test
    void conversionToOnnxAttributes() {
        // size = 2r + 1 and alpha = α·size: the paper's own n = 5, α = 1e-4.
        assertEquals(5, AlexNet.LRN.size());
        assertEquals(1e-4f, AlexNet.LRN.onnxAlpha(), 1e-12f);
        assertEquals(0.75f, AlexNet.LRN.beta());
        assertEquals(1f, AlexNet.LRN.bias());
    }

    /**
     * Non-negative activations (LRN follows a ReLU) large enough that the normaliser matters: with
     * values up to 255, α·Σa² reaches about 6 and the divisor (1 + α·Σa²)^0.75 about 4.
     */
    private static Tensor reluActivations(int batch, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[batch * MAPS * HEIGHT * WIDTH];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextInt(4) == 0 ? 0f : (float) (r.nextDouble() * 255);
        }
        return Tensor.of(Shape.of(batch, MAPS, HEIGHT, WIDTH), a);
    }

    private static float[] runLrn(Tensor a) {
        Net net = new Net("lrn");
        Value x = net.input(MAPS, HEIGHT, WIDTH);
        net.output("out", net.lrn(x, AlexNet.LRN));
        Graph g = net.build();
        byte[] model = OnnxExporter.toBytes(g, Weights.of(Map.of()), ExportOptions.defaults());
        try (InferenceSession s = InferenceSession.open(model, RuntimeOptions.cpu(1))) {
            return s.run(a).floats();
        }
    }

    /** Equation 13-2 over the maps at every position, the window clipped at the first and last map. */
    private static float[] equation(Tensor activations, int radius, double alpha, double beta, double k) {
        float[] a = activations.floats();
        float[] b = new float[a.length];
        int batch = activations.shape().dim(0);
        int plane = HEIGHT * WIDTH;
        for (int n = 0; n < batch; n++) {
            for (int p = 0; p < plane; p++) {
                for (int i = 0; i < MAPS; i++) {
                    double sum = 0;
                    for (int j = Math.max(0, i - radius); j <= Math.min(i + radius, MAPS - 1); j++) {
                        double aj = a[(n * MAPS + j) * plane + p];
                        sum += aj * aj;
                    }
                    int at = (n * MAPS + i) * plane + p;
                    b[at] = (float) (a[at] * Math.pow(k + alpha * sum, -beta));
                }
            }
        }
        return b;
    }
}
