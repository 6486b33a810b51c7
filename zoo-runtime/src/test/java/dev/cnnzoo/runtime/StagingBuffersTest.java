package dev.cnnzoo.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.onnxruntime.OnnxTensor;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.testkit.TestTensors;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

class StagingBuffersTest {
    /** Bytes held by the JVM's direct buffers, freed or not by a collection yet. */
    private static long directBytes() {
        return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
    }

    @Test
    void eachTensorHoldsItsOwnValuesAndShapeThroughReuse() {
        StagingBuffers staging = new StagingBuffers();
        Tensor big = TestTensors.uniform(Shape.of(4, 3, 8, 8), 1);
        Tensor small = TestTensors.uniform(Shape.of(2, 3, 8, 8), 2);   // a last, shorter batch in the same buffer
        Tensor labels = Tensor.ofLongs(Shape.of(3), new long[] {7, -1, Long.MAX_VALUE});
        for (Tensor t : new Tensor[] {big, small, big}) {
            try (OnnxTensor n = staging.tensor("input", t)) {
                Tensor back = InferenceSession.hostTensor(n);
                assertEquals(t.shape(), back.shape());
                assertArrayEquals(t.floats(), back.floats());
            }
        }
        try (OnnxTensor n = staging.tensor("labels", labels)) {
            assertArrayEquals(labels.longs(), InferenceSession.hostTensor(n).longs());
        }
    }

    @Test
    void aThousandBatchesTakeOneBuffer() {
        // A tensor made from a Java array takes a direct buffer of its own (1 MB here) that only a
        // collection frees: a thousand of them would hold a gigabyte until then.
        StagingBuffers staging = new StagingBuffers();
        Tensor batch = TestTensors.uniform(Shape.of(8, 3, 100, 100), 3);
        staging.tensor("input", batch).close();
        long before = directBytes();
        for (int i = 0; i < 1000; i++) {
            staging.tensor("input", batch).close();
        }
        assertEquals(before, directBytes(), "direct buffer bytes after 1,000 batches of 960 KB");
    }
}
