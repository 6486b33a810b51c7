package dev.cnnzoo.graph;

import java.util.Arrays;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * A tensor shape whose dimensions are all static except, optionally, a symbolic batch
 * dimension {@link #BATCH} (exported as the ONNX dim_param {@code N}).
 */
public final class Shape {
    /** The symbolic batch dimension. */
    public static final int BATCH = -1;

    private final int[] dims;

    private Shape(int[] dims) {
        for (int d : dims) {
            if (d < 0 && d != BATCH) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(dims));
            }
        }
        this.dims = dims;
    }

    public static Shape of(int... dims) {
        return new Shape(dims.clone());
    }

    public static Shape of(long... dims) {
        return new Shape(Arrays.stream(dims).mapToInt(Math::toIntExact).toArray());
    }

    /** A shape with the symbolic batch first: {@code batched(3, 224, 224)} is N×3×224×224. */
    public static Shape batched(int... perSample) {
        int[] d = new int[perSample.length + 1];
        d[0] = BATCH;
        System.arraycopy(perSample, 0, d, 1, perSample.length);
        return new Shape(d);
    }

    public static Shape scalar() {
        return new Shape(new int[0]);
    }

    public int rank() {
        return dims.length;
    }

    /** Dimension {@code i}; negative {@code i} counts from the end. */
    public int dim(int i) {
        return dims[i < 0 ? dims.length + i : i];
    }

    public int[] dims() {
        return dims.clone();
    }

    public long[] longDims() {
        return Arrays.stream(dims).asLongStream().toArray();
    }

    public boolean hasBatch() {
        return Arrays.stream(dims).anyMatch(d -> d == BATCH);
    }

    public boolean isStatic() {
        return !hasBatch();
    }

    /** Number of elements; the batch dimension, if any, counts as {@code batch}. */
    public long elements(int batch) {
        long n = 1;
        for (int d : dims) {
            n *= d == BATCH ? batch : d;
        }
        return n;
    }

    /** Number of elements of a static shape. */
    public long elements() {
        if (hasBatch()) {
            throw new IllegalStateException("shape " + this + " has a symbolic batch");
        }
        return elements(1);
    }

    /** This shape with the batch dimension set to {@code batch}. */
    public Shape withBatch(int batch) {
        return new Shape(Arrays.stream(dims).map(d -> d == BATCH ? batch : d).toArray());
    }

    public Shape withDim(int i, int value) {
        int[] d = dims.clone();
        d[i < 0 ? d.length + i : i] = value;
        return new Shape(d);
    }

    /** Dimensions from {@code from} (inclusive) to the end. */
    public int[] tail(int from) {
        return Arrays.copyOfRange(dims, from, dims.length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    /** Written as the papers write shapes: {@code N×64×112×112}; a scalar is {@code []}. */
    @Override
    public String toString() {
        if (dims.length == 0) {
            return "[]";
        }
        return IntStream.of(dims).mapToObj(d -> d == BATCH ? "N" : Integer.toString(d))
                .collect(Collectors.joining("×"));
    }
}
