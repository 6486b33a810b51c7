package dev.cnnzoo.graph;

import java.util.Arrays;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * A tensor shape whose dimensions are all static except, optionally, one symbolic dimension: the
 * batch {@link #BATCH} (the ONNX dim_param {@code N}) or a multiple of it, −k meaning k·N. Multiples
 * arise where a gradient folds the batch into another axis (a grouped convolution's weight
 * gradient runs over G·N channels).
 */
public final class Shape {
    /** The symbolic batch dimension N; −k stands for k·N. */
    public static final int BATCH = -1;

    private final int[] dims;

    private Shape(int[] dims) {
        if (Arrays.stream(dims).filter(d -> d < 0).count() > 1) {
            throw new IllegalArgumentException("more than one symbolic dimension in " + Arrays.toString(dims));
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

    /** Whether a dimension is the batch or a multiple of it. */
    public boolean hasBatch() {
        return Arrays.stream(dims).anyMatch(d -> d < 0);
    }

    /** Whether dimension value {@code d} is symbolic (N or k·N). */
    public static boolean isSymbolic(int d) {
        return d < 0;
    }

    public boolean isStatic() {
        return !hasBatch();
    }

    /**
     * Number of elements; the batch dimension, if any, counts as {@code batch} (k·N as k·batch).
     *
     * @throws ArithmeticException when the count passes a 64-bit integer
     */
    public long elements(int batch) {
        long n = 1;
        for (int d : dims) {
            n = Math.multiplyExact(n, d < 0 ? (long) -d * batch : d);
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

    /** This shape with the batch dimension set to {@code batch} (k·N becomes k·batch). */
    public Shape withBatch(int batch) {
        return new Shape(Arrays.stream(dims).map(d -> d < 0 ? -d * batch : d).toArray());
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
        return IntStream.of(dims).mapToObj(Shape::dimName).collect(Collectors.joining("×"));
    }

    /** "N" for the batch, "4N" for 4·N, else the number. */
    public static String dimName(int d) {
        return d == BATCH ? "N" : d < 0 ? -d + "N" : Integer.toString(d);
    }
}
