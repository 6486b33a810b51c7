package dev.cnnzoo.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Lrn;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.OnnxExporter;
import dev.cnnzoo.onnx.quantize.QdqRewrite;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.testkit.Close;
import dev.cnnzoo.testkit.TestTensors;
import dev.cnnzoo.weights.Weights;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The float model the quantizer calibrates computes what the model it was given computes, run by ONNX Runtime. */
class FloatPreparationTest {
    /**
     * LRN becomes its formula (Mul, a 1×1 Conv summing the channel window, Pow, Div) and gives ONNX
     * Runtime's LRN within 1e-5: GoogLeNet's and AlexNet's settings (Géron's radius 2, α 2e-5, and
     * Caffe's size 5, α 1e-4), other constants, and a window wider than the channels.
     */
    @ParameterizedTest
    @CsvSource({"5, 0.0001, 0.75, 1.0, 16", "5, 0.00002, 0.75, 1.0, 16", "3, 0.001, 0.5, 2.0, 16", "9, 0.0001, 0.75, 1.0, 6"})
    void lrnAsItsFormulaGivesOnnxRuntimesLrn(int size, double alpha, double beta, double bias, int channels) {
        Net net = new Net("lrn");
        net.output(Net.LOGITS, net.lrn("norm", net.relu(net.conv("conv", net.input(3, 12, 12), Conv.of(channels, 3).pad(1))),
                Lrn.ofSize(size, alpha, beta, bias)));
        Graph g = net.build();
        ModelProto original = OnnxExporter.toProto(g, Weights.initial(g, 3), ExportOptions.defaults());
        ModelProto prepared = QdqRewrite.plan(original, List.of()).fp32();
        assertEquals(List.of("Conv", "Relu", "Mul", "Conv", "Pow", "Div"),
                prepared.getGraph().getNodeList().stream().map(NodeProto::getOpType).toList());
        Tensor images = TestTensors.images(2, 3, 12, 12, 4);
        try (InferenceSession a = InferenceSession.open(original.toByteArray(), RuntimeOptions.cpu(1));
                InferenceSession b = InferenceSession.open(prepared.toByteArray(), RuntimeOptions.cpu(1))) {
            Close.assertRelative("LRN size " + size, a.run(images).floats(), b.run(images).floats(), 1e-5);
        }
    }
}
