package dev.cnnzoo.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Pool;
import java.util.List;
import org.junit.jupiter.api.Test;

class SummaryTest {
    /**
     * Géron's exercise (Hands-On Machine Learning, ch. 13, exercise 2, 1st ed.; ch. 14 in the 2nd): three 3×3 stride-2 SAME convolutions with
     * 100, 200 and 400 maps on 200×300 RGB images.
     */
    private static Graph exercise() {
        Net net = new Net("exercise");
        Value x = net.input(3, 200, 300);
        x = net.conv("conv1", x, Conv.of(100, 3).stride(2).same());
        x = net.conv("conv2", x, Conv.of(200, 3).stride(2).same());
        x = net.conv("conv3", x, Conv.of(400, 3).stride(2).same());
        net.output("out", x);
        return net.build();
    }

    @Test
    void referenceExerciseParametersAndShapes() {
        Summary s = Summary.of(exercise());
        // (3·3·3 + 1)·100 + (3·3·100 + 1)·200 + (3·3·200 + 1)·400 = 2,800 + 180,200 + 720,400
        assertEquals(903_400, s.parameters());
        List<Summary.Row> rows = s.rows();
        assertEquals(Shape.of(Shape.BATCH, 100, 100, 150), rows.get(0).output());
        assertEquals(Shape.of(Shape.BATCH, 200, 50, 75), rows.get(1).output());
        // 75 / 2 rounds up under SAME: 38.
        assertEquals(Shape.of(Shape.BATCH, 400, 25, 38), rows.get(2).output());
    }

    @Test
    void referenceExerciseMemory() {
        Summary s = Summary.of(exercise());
        // Outputs per image: 100·150·100 = 1,500,000; 50·75·200 = 750,000; 25·38·400 = 380,000 floats.
        // Inference keeps at most two consecutive layers alive: the peak is while conv2 runs,
        // 1,500,000 + 750,000 = 2,250,000 floats · 4 bytes = 9,000,000 bytes (the text's "9 MB");
        // with the 903,400 · 4 = 3,613,600 bytes of weights that is the text's 12.6 MB.
        assertEquals(9_000_000L, s.inferenceActivationBytes(1));
        assertEquals(3_613_600L, s.weightBytes());
        assertEquals(12_613_600L, s.inferenceActivationBytes(1) + s.weightBytes());
        // Training keeps every output for the backward pass: (1,500,000 + 750,000 + 380,000) · 4 bytes
        // · 50 images = 526,000,000 bytes, plus the batch itself, 200·300·3 · 4 · 50 = 36,000,000 bytes:
        // 562,000,000 bytes of activations, 565,613,600 with the weights (the text's "about 566 MB").
        assertEquals(562_000_000L, s.trainingActivationBytes(50));
        assertEquals(565_613_600L, s.trainingActivationBytes(50) + s.weightBytes());
    }

    @Test
    void unscopedOperatorsJoinTheLayerTheyFollow() {
        Net net = new Net("keras-like");
        Value x = net.input(3, 8, 8);
        x = net.zeroPad(x, 1);
        x = net.relu(net.conv("conv", x, Conv.of(4, 3)));
        x = net.flatten(net.maxPool(x, Pool.of(2)));
        net.output("out", net.tanh(net.dense("fc", x, 2)));
        List<Summary.Row> rows = Summary.of(net.build()).rows();
        assertEquals(List.of("pad", "conv", "fc"), rows.stream().map(Summary.Row::layer).toList());
        assertEquals("Conv+Relu+MaxPool+Flatten", rows.get(1).ops());
        assertEquals("Gemm+Tanh", rows.get(2).ops());
    }

    @Test
    void macsCountConvolutionsAndDenseLayers() {
        Net net = new Net("macs");
        Value x = net.input(3, 8, 8);
        x = net.conv("conv", x, Conv.of(4, 3).pad(1));
        x = net.maxPool("pool", x, Pool.of(2));
        x = net.dense("fc", net.flatten(x), 10);
        net.output("logits", x);
        Summary s = Summary.of(net.build());
        // conv: 4·8·8 outputs · 3·3·3 taps = 6,912; dense: 10 · 64 = 640; pooling counts nothing.
        assertEquals(6_912 + 640, s.macs());
        assertEquals(4 * 27 + 4 + 640 + 10, s.parameters());
    }

    @Test
    void rowsGroupByScopeDepth() {
        Net net = new Net("nested");
        Value x = net.input(3, 8, 8);
        for (int unit = 0; unit < 2; unit++) {
            try (var layer = net.scope("layer1"); var u = net.scope(Integer.toString(unit))) {
                x = net.relu(net.conv("conv1", x, Conv.of(3, 3).pad(1)));
            }
        }
        net.output("out", x);
        Summary s = Summary.of(net.build());
        assertEquals(List.of("layer1.0.conv1", "layer1.0", "layer1.1.conv1", "layer1.1"),
                s.rows().stream().map(Summary.Row::layer).toList());
        assertEquals("Conv", s.rows().get(0).ops());
        assertEquals(List.of("layer1.0", "layer1.1"), s.rows(2).stream().map(Summary.Row::layer).toList());
        assertEquals(2 * (81 + 3), s.rows(1).get(0).parameters());
    }
}
