package dev.cnnzoo.nn;

import java.util.Arrays;

/** Small helpers the layer specs share. */
final class Layers {
    private Layers() {
    }

    /** One value for every axis, or exactly one per axis. */
    static int[] perAxis(String what, int[] values, int axes) {
        if (values.length == axes) {
            return values.clone();
        }
        if (values.length == 1) {
            int[] out = new int[axes];
            Arrays.fill(out, values[0]);
            return out;
        }
        throw new IllegalArgumentException(what + " " + Arrays.toString(values) + " needs 1 or " + axes + " values");
    }

    static void requirePositive(String what, int... values) {
        for (int v : values) {
            if (v <= 0) {
                throw new IllegalArgumentException(what + " must be positive, got " + Arrays.toString(values));
            }
        }
    }
}
