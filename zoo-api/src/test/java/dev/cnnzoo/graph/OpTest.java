package dev.cnnzoo.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Pool;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class OpTest {
    @Test
    void everyOperatorIsFoundByItsOnnxSpelling() {
        for (Op op : Op.values()) {
            assertEquals(op, Op.of(op.opType()));
            assertEquals(Optional.of(op), Op.find(op.opType()));
        }
        assertEquals("MaxPool", Op.MAX_POOL.opType());
        assertEquals("LRN", Op.LRN.opType());
    }

    @Test
    void anOperatorOutsideTheVocabularyIsRefusedByName() {
        assertTrue(Op.find("Tile").isEmpty());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Op.of("Tile"));
        assertTrue(e.getMessage().contains("'Tile'"), e.getMessage());
    }

    @Test
    void nodesCarryTheirOperatorAndItsOnnxSpelling() {
        GraphBuilder g = new GraphBuilder("t");
        Value y = g.op(Op.RELU, Attributes.none(), g.input("x", DType.FLOAT, Shape.batched(3)));
        g.output("y", y);
        Node relu = g.build().nodes().get(0);
        assertTrue(relu.is(Op.RELU));
        assertEquals("Relu", relu.op());
    }

    @Test
    void anOutputCountTheOperatorDoesNotGiveIsRefused() {
        Net net = new Net("outputs");
        Value x = net.input(2, 8, 8);
        Attributes window = Attributes.of("kernel_shape", new long[] {2, 2}, "strides", new long[] {2, 2});
        List<Value> both = net.graph().op(Op.MAX_POOL, 2, window, x);
        assertEquals(List.of(DType.FLOAT, DType.INT64), both.stream().map(Value::dtype).toList());
        ShapeException e;
        try (var s = net.scope("relu")) {
            e = assertThrows(ShapeException.class, () -> net.graph().op(Op.RELU, 2, Attributes.none(), x));
        }
        assertEquals("relu", e.layer());
        assertTrue(e.getMessage().contains("Relu gives 1 output here, not 2"), e.getMessage());
        assertEquals(Shape.of(Shape.BATCH, 2, 4, 4), net.maxPool(x, Pool.of(2)).shape());
    }
}
