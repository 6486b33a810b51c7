package dev.cnnzoo.graph;

import java.util.Arrays;
import java.util.Objects;

/**
 * A concrete tensor on the host: a static shape and its elements in row-major order.
 * Floating-point tensors hold {@code float[]} data (FLOAT16 and BFLOAT16 files are widened on
 * reading); integer and boolean tensors hold {@code long[]}.
 */
public final class Tensor {
    private final DType dtype;
    private final Shape shape;
    private final float[] floats;
    private final long[] longs;

    private Tensor(DType dtype, Shape shape, float[] floats, long[] longs) {
        if (!shape.isStatic()) {
            throw new IllegalArgumentException("a concrete tensor needs a static shape, got " + shape);
        }
        long n = shape.elements();
        long have = floats != null ? floats.length : longs.length;
        if (n != have) {
            throw new IllegalArgumentException("shape " + shape + " holds " + n + " elements but " + have + " were given");
        }
        this.dtype = dtype;
        this.shape = shape;
        this.floats = floats;
        this.longs = longs;
    }

    /**
     * The shape {@code dims} if a tensor of it fits in a Java array.
     *
     * @param what names the tensor in the error
     * @throws dev.cnnzoo.api.ZooException when its element count passes 2^31 − 1 (a batch or size typed too large)
     */
    public static Shape holdableShape(String what, long... dims) {
        long n = 1;
        for (long d : dims) {
            if (d < 0) {
                throw new dev.cnnzoo.api.ZooException(what + " has a negative dimension: " + java.util.Arrays.toString(dims));
            }
            n = n > Integer.MAX_VALUE || d > Integer.MAX_VALUE ? Long.MAX_VALUE : n * d;     // both below 2^31: no overflow
        }
        if (n > Integer.MAX_VALUE) {
            StringBuilder shape = new StringBuilder();
            for (long d : dims) {
                shape.append(shape.length() == 0 ? "" : "×").append(d);
            }
            throw new dev.cnnzoo.api.ZooException(what + " would be " + shape + (n == Long.MAX_VALUE ? "" : String.format(java.util.Locale.ROOT,
                    " (%,d values)", n)) + ", more than one tensor can hold (2,147,483,647 values); use a smaller batch or size");
        }
        return Shape.of(dims);
    }

    public static Tensor of(Shape shape, float[] data) {
        return new Tensor(DType.FLOAT, shape, Objects.requireNonNull(data), null);
    }

    public static Tensor ofLongs(Shape shape, long[] data) {
        return new Tensor(DType.INT64, shape, null, Objects.requireNonNull(data));
    }

    public static Tensor ofBools(Shape shape, long[] zeroOrOne) {
        return new Tensor(DType.BOOL, shape, null, Objects.requireNonNull(zeroOrOne));
    }

    /** A one-dimensional INT64 tensor, the form ONNX takes axes, pads and shapes in. */
    public static Tensor int64s(long... values) {
        return ofLongs(Shape.of(values.length), values.clone());
    }

    public static Tensor scalar(float value) {
        return of(Shape.scalar(), new float[] {value});
    }

    public static Tensor zeros(Shape shape) {
        return of(shape, new float[Math.toIntExact(shape.elements())]);
    }

    public static Tensor filled(Shape shape, float value) {
        float[] d = new float[Math.toIntExact(shape.elements())];
        Arrays.fill(d, value);
        return of(shape, d);
    }

    public DType dtype() {
        return dtype;
    }

    public Shape shape() {
        return shape;
    }

    public boolean isFloating() {
        return floats != null;
    }

    /** The elements of a floating-point tensor (the array itself, not a copy). */
    public float[] floats() {
        if (floats == null) {
            throw new IllegalStateException("tensor of " + dtype + " has no float data");
        }
        return floats;
    }

    /** The elements of an integer or boolean tensor (the array itself, not a copy). */
    public long[] longs() {
        if (longs == null) {
            throw new IllegalStateException("tensor of " + dtype + " has no integer data");
        }
        return longs;
    }

    public long elements() {
        return shape.elements();
    }

    public Tensor reshape(Shape newShape) {
        return new Tensor(dtype, newShape, floats, longs);
    }

    public Tensor copy() {
        return new Tensor(dtype, shape, floats == null ? null : floats.clone(), longs == null ? null : longs.clone());
    }

    /** Element-wise equality of dtype, shape and bits. */
    public boolean bitEquals(Tensor other) {
        return dtype == other.dtype && shape.equals(other.shape)
                && Arrays.equals(floats, other.floats) && Arrays.equals(longs, other.longs);
    }

    @Override
    public String toString() {
        return "Tensor(" + dtype + ", " + shape + ")";
    }
}
