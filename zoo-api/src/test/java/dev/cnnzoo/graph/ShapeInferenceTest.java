package dev.cnnzoo.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Lrn;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Padding;
import dev.cnnzoo.nn.Pool;
import org.junit.jupiter.api.Test;

class ShapeInferenceTest {
    @Test
    void mismatchNamesTheLayerAndBothShapes() {
        Net net = new Net("bad");
        Value x = net.input(3, 32, 32);
        Value a = net.conv("branch_a", x, Conv.of(8, 3).pad(1));
        Value b = net.conv("branch_b", x, Conv.of(8, 3));
        ShapeException e;
        try (var s = net.scope("merge")) {
            e = assertThrows(ShapeException.class, () -> net.add(a, b));
        }
        assertEquals("merge", e.layer());
        assertTrue(e.getMessage().contains("N×8×32×32") && e.getMessage().contains("N×8×30×30"), e.getMessage());
    }

    @Test
    void tooSmallInputNamesTheLayer() {
        Net net = new Net("small");
        Value x = net.input(1, 4, 4);
        ShapeException e = assertThrows(ShapeException.class, () -> net.conv("c5", x, Conv.of(120, 5)));
        assertEquals("c5", e.layer());
        assertTrue(e.getMessage().contains("N×1×4×4"), e.getMessage());
    }

    @Test
    void denseRefusesUnflattenedInput() {
        Net net = new Net("flat");
        Value x = net.input(3, 4, 4);
        ShapeException e = assertThrows(ShapeException.class, () -> net.dense("fc", x, 10));
        assertTrue(e.getMessage().contains("flatten"), e.getMessage());
    }

    @Test
    void samePaddingGivesCeilOfInputOverStride() {
        // TensorFlow's rule: output = ceil(input / stride) whatever the kernel.
        for (int size : new int[] {7, 8, 224, 299}) {
            for (int k : new int[] {1, 3, 5, 7}) {
                for (int s : new int[] {1, 2, 3}) {
                    Net net = new Net("same");
                    Value y = net.conv("c", net.input(1, size, size), Conv.of(1, k).stride(s).same());
                    assertEquals((size + s - 1) / s, y.shape().dim(2), "size " + size + " kernel " + k + " stride " + s);
                }
            }
        }
    }

    @Test
    void samePaddingPutsTheOddPixelAtTheEnd() {
        int[] pads = Padding.same().resolve(new int[] {8}, new int[] {4}, new int[] {1}, new int[] {1});
        assertEquals(1, pads[0]);
        assertEquals(2, pads[1]);
    }

    @Test
    void convolutionsInOneTwoAndThreeDimensions() {
        Net net = new Net("dims");
        GraphBuilder g = net.graph();
        Value seq = g.input("seq", DType.FLOAT, Shape.batched(4, 100));
        assertEquals(Shape.of(Shape.BATCH, 8, 50), net.conv("c1d", seq, Conv.of(8, 3).stride(2).same()).shape());
        Value vol = g.input("vol", DType.FLOAT, Shape.batched(2, 16, 32, 32));
        assertEquals(Shape.of(Shape.BATCH, 6, 14, 30, 30), net.conv("c3d", vol, Conv.of(6, 3)).shape());
    }

    @Test
    void symbolicAxisUnderAOneWideKernelKeepsItsSize() {
        // The batch moved into a spatial axis (a weight gradient's im2col as one convolution): a kernel of
        // 1 there, unpadded and unstrided, leaves the axis as it was.
        GraphBuilder g = new Net("columns").graph();
        Value images = g.input("images", DType.FLOAT, Shape.of(1, 4, Shape.BATCH, 6, 6));
        Value kernels = g.input("kernels", DType.FLOAT, Shape.of(36, 1, 1, 3, 3));
        Value cols = g.op(Op.CONV, Attributes.builder().put("kernel_shape", new int[] {1, 3, 3}).put("group", 4)
                .put("pads", new int[] {0, 1, 1, 0, 1, 1}).build(), images, kernels);
        assertEquals(Shape.of(1, 36, Shape.BATCH, 6, 6), cols.shape());
        ShapeException e = assertThrows(ShapeException.class, () -> g.op(Op.CONV, Attributes.builder()
                .put("kernel_shape", new int[] {2, 3, 3}).put("group", 4).build(), images, g.input("k2", DType.FLOAT, Shape.of(4, 1, 2, 3, 3))));
        assertTrue(e.getMessage().contains("N"), e.getMessage());
    }

    @Test
    void dilatedConvolutionWidensTheWindow() {
        Net net = new Net("atrous");
        Value y = net.conv("c", net.input(1, 32, 32), Conv.of(4, 3).dilation(2));
        // A 3×3 kernel dilated by 2 spans 5 pixels: 32 − 5 + 1.
        assertEquals(28, y.shape().dim(2));
    }

    @Test
    void depthwiseAndSeparableParameterCounts() {
        Net net = new Net("separable");
        Value x = net.input(32, 16, 16);
        Value dw = net.conv("dw", x, Conv.depthwise(3).multiplier(2).same().noBias());
        assertEquals(Shape.of(Shape.BATCH, 64, 16, 16), dw.shape());
        Value sep = net.separableConv("sep", x, Conv.of(64, 3).same().noBias());
        assertEquals(Shape.of(Shape.BATCH, 64, 16, 16), sep.shape());
        net.output("a", dw);
        net.output("b", sep);
        Graph graph = net.build();
        assertEquals(Shape.of(64, 1, 3, 3), graph.parameters().get("dw.weight").shape());
        // Keras's SeparableConv2D count: depthwise 3·3·32 + pointwise 32·64.
        assertEquals(3 * 3 * 32, graph.parameters().get("sep.depthwise.weight").shape().elements());
        assertEquals(32 * 64, graph.parameters().get("sep.pointwise.weight").shape().elements());
    }

    @Test
    void transposedConvolutionUpsamples() {
        Net net = new Net("up");
        Value x = net.input(8, 7, 7);
        assertEquals(Shape.of(Shape.BATCH, 4, 14, 14), net.convTranspose("up_same", x, Conv.of(4, 3).stride(2).same()).shape());
        // VALID: (7 − 1)·2 + 3 = 15.
        assertEquals(Shape.of(Shape.BATCH, 4, 15, 15), net.convTranspose("up_valid", x, Conv.of(4, 3).stride(2)).shape());
    }

    @Test
    void poolingOverlappingCeilAndDepthwise() {
        Net net = new Net("pool");
        Value x = net.input(96, 55, 55);
        // AlexNet's overlapping pooling: 3×3 stride 2 on 55 gives 27.
        assertEquals(27, net.maxPool(x, Pool.of(3).stride(2)).shape().dim(2));
        // Ceil mode keeps the partial last window: (112 − 3) / 2 rounded up + 1 = 56.
        Net net2 = new Net("ceil");
        assertEquals(56, net2.maxPool(net2.input(64, 112, 112), Pool.of(3).stride(2).ceil()).shape().dim(2));
        assertEquals(Shape.of(Shape.BATCH, 32, 55, 55), net.depthMaxPool("depth", x, 3).shape());
        assertEquals(x.shape(), net.lrn(x, Lrn.ofRadius(2, 2e-5, 0.75, 1)).shape());
    }

    @Test
    void lrnConvertsTheTextsParametersToOnnx() {
        Lrn lrn = Lrn.ofRadius(2, 0.00002, 0.75, 1);
        assertEquals(5, lrn.size());
        // ONNX divides alpha by size, so the text's α = 2e-5 becomes 2e-5 · 5 = 1e-4 (Krizhevsky's own α).
        assertEquals(1e-4f, lrn.onnxAlpha(), 1e-12f);
    }
}
