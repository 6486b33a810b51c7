package dev.cnnzoo.lenet;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.ModelExporter;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.testkit.Close;
import dev.cnnzoo.testkit.TestTensors;
import dev.cnnzoo.weights.Weights;
import org.junit.jupiter.api.Test;

/** LeNet-5's ONNX output against a direct computation of the paper's equations in plain Java (double precision). */
class LeNet5ReferenceTest {
    /** Table 1 of the paper, typed in again here: which S2 maps (rows) each C3 map (columns) reads. */
    private static final String[] TABLE_1 = {
        "X...XXX..XXXX.XX",
        "XX...XXX..XXXX.X",
        "XXX...XXX..X.XXX",
        ".XXX..XXXX..X.XX",
        "..XXX..XXXX.XX.X",
        "...XXX..XXXX.XXX",
    };

    @Test
    void onnxOutputEqualsPlainJava() {
        Model model = ModelZoo.load().build("lenet5");
        Weights w = Weights.initial(model.graph(), 2024);
        Tensor batch = TestTensors.images(4, 1, 28, 28, 77);
        float[] onnx;
        try (InferenceSession s = InferenceSession.open(ModelExporter.toBytes(model, w, ExportOptions.defaults()), RuntimeOptions.cpu(1))) {
            onnx = s.run(batch).floats();
        }
        float[] expected = new float[4 * 10];
        for (int n = 0; n < 4; n++) {
            double[][][] image = new double[1][28][28];
            for (int i = 0; i < 28; i++) {
                for (int j = 0; j < 28; j++) {
                    image[0][i][j] = batch.floats()[n * 784 + i * 28 + j];
                }
            }
            double[] out = forward(w, image);
            for (int k = 0; k < 10; k++) {
                expected[n * 10 + k] = (float) out[k];
            }
        }
        Close.assertRelative("lenet5 logits", expected, onnx, 1e-5);
    }

    private static double[] forward(Weights w, double[][][] image) {
        double[][][] x = pad(image, 2);
        x = squash(conv(x, w.get("c1.weight"), w.get("c1.bias")));
        x = squash(subsample(x, w.get("s2.weight"), w.get("s2.bias")));
        x = squash(c3(x, w));
        x = squash(subsample(x, w.get("s4.weight"), w.get("s4.bias")));
        x = squash(conv(x, w.get("c5.weight"), w.get("c5.bias")));
        double[] c5 = new double[120];
        for (int k = 0; k < 120; k++) {
            c5[k] = x[k][0][0];
        }
        float[] fw = w.get("f6.weight").floats();
        float[] fb = w.get("f6.bias").floats();
        double[] f6 = new double[84];
        for (int i = 0; i < 84; i++) {
            double a = fb[i];
            for (int j = 0; j < 120; j++) {
                a += fw[i * 120 + j] * c5[j];
            }
            f6[i] = 1.7159 * Math.tanh(2.0 / 3.0 * a);
        }
        float[] codes = LeNet5.ClassCodes.codes(10);
        double[] y = new double[10];
        for (int k = 0; k < 10; k++) {
            double d = 0;
            for (int j = 0; j < 84; j++) {
                double diff = f6[j] - codes[k * 84 + j];
                d += diff * diff;
            }
            y[k] = -d;
        }
        return y;
    }

    private static double[][][] pad(double[][][] x, int p) {
        int h = x[0].length;
        int wd = x[0][0].length;
        double[][][] out = new double[x.length][h + 2 * p][wd + 2 * p];
        for (int c = 0; c < x.length; c++) {
            for (int i = 0; i < h; i++) {
                System.arraycopy(x[c][i], 0, out[c][i + p], p, wd);
            }
        }
        return out;
    }

    /** A VALID 5×5 convolution with full connections: weight [out][in][5][5]. */
    private static double[][][] conv(double[][][] x, Tensor weight, Tensor bias) {
        int outMaps = weight.shape().dim(0);
        int inMaps = weight.shape().dim(1);
        int size = x[0].length - 4;
        double[][][] out = new double[outMaps][size][size];
        for (int o = 0; o < outMaps; o++) {
            for (int i = 0; i < size; i++) {
                for (int j = 0; j < size; j++) {
                    double a = bias.floats()[o];
                    for (int c = 0; c < inMaps; c++) {
                        a += window(x[c], i, j, weight.floats(), ((o * inMaps) + c) * 25);
                    }
                    out[o][i][j] = a;
                }
            }
        }
        return out;
    }

    private static double window(double[][] map, int i, int j, float[] kernel, int offset) {
        double a = 0;
        for (int u = 0; u < 5; u++) {
            for (int v = 0; v < 5; v++) {
                a += map[i + u][j + v] * kernel[offset + u * 5 + v];
            }
        }
        return a;
    }

    /** C3: map k sums 5×5 windows over the S2 maps Table 1 connects it to, with its own kernel per connection. */
    private static double[][][] c3(double[][][] s2, Weights w) {
        double[][][] out = new double[16][10][10];
        for (int k = 0; k < 16; k++) {
            // The zoo stores C3 as three groups: maps 0–5 (3 inputs), 6–14 (4 inputs), 15 (6 inputs).
            String group = k < 6 ? "c3.from3" : k < 15 ? "c3.from4" : "c3.from6";
            int indexInGroup = k < 6 ? k : k < 15 ? k - 6 : 0;
            float[] kernels = w.get(group + ".weight").floats();
            int fanIn = w.get(group + ".weight").shape().dim(1);
            double bias = w.get(group + ".bias").floats()[indexInGroup];
            int[] inputs = connections(k);
            if (inputs.length != fanIn) {
                throw new AssertionError("map " + k + " reads " + inputs.length + " maps in Table 1, " + fanIn + " in the zoo");
            }
            for (int i = 0; i < 10; i++) {
                for (int j = 0; j < 10; j++) {
                    double a = bias;
                    for (int c = 0; c < inputs.length; c++) {
                        a += window(s2[inputs[c]], i, j, kernels, (indexInGroup * fanIn + c) * 25);
                    }
                    out[k][i][j] = a;
                }
            }
        }
        return out;
    }

    /**
     * The S2 maps C3 map {@code k} reads, in the order the zoo stores their kernels, after checking
     * that they are exactly the maps Table 1 marks in column {@code k}.
     */
    private static int[] connections(int k) {
        int[] fromTable = java.util.stream.IntStream.range(0, 6).filter(r -> TABLE_1[r].charAt(k) == 'X').toArray();
        int[] zoo = LeNet5.C3_CONNECTIONS[k];
        int[] sorted = zoo.clone();
        java.util.Arrays.sort(sorted);
        if (!java.util.Arrays.equals(fromTable, sorted)) {
            throw new AssertionError("C3 map " + k + " reads " + java.util.Arrays.toString(sorted) + " in the zoo but "
                    + java.util.Arrays.toString(fromTable) + " in Table 1");
        }
        return zoo;
    }

    private static double[][][] subsample(double[][][] x, Tensor coefficient, Tensor bias) {
        int maps = x.length;
        int size = x[0].length / 2;
        double[][][] out = new double[maps][size][size];
        for (int m = 0; m < maps; m++) {
            for (int i = 0; i < size; i++) {
                for (int j = 0; j < size; j++) {
                    double mean = (x[m][2 * i][2 * j] + x[m][2 * i + 1][2 * j] + x[m][2 * i][2 * j + 1] + x[m][2 * i + 1][2 * j + 1]) / 4;
                    out[m][i][j] = mean * coefficient.floats()[m] + bias.floats()[m];
                }
            }
        }
        return out;
    }

    private static double[][][] squash(double[][][] x) {
        for (double[][] map : x) {
            for (double[] row : map) {
                for (int j = 0; j < row.length; j++) {
                    row[j] = 1.7159 * Math.tanh(2.0 / 3.0 * row[j]);
                }
            }
        }
        return x;
    }
}
