package dev.cnnzoo.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Comparisons of float arrays with tolerances relative to their scale. */
public final class Close {
    private Close() {
    }

    /**
     * Asserts max|expected − actual| ≤ tolerance · max(max|expected|, 1e-12): the error relative to
     * the scale of the values, the measure "within 1e-4 relative" means in the zoo's tests.
     */
    public static void assertRelative(String what, float[] expected, float[] actual, double tolerance) {
        assertEquals(expected.length, actual.length, what + ": lengths differ");
        double scale = 1e-12;
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            double d = Math.abs((double) expected[i] - actual[i]);
            if (Double.isNaN(actual[i]) || d > worst) {
                worst = Double.isNaN(actual[i]) ? Double.POSITIVE_INFINITY : d;
                worstAt = i;
            }
        }
        if (worst > tolerance * scale) {
            throw new AssertionError(String.format("%s: max difference %.3g at %d (expected %s, got %s) exceeds %.1g × scale %.3g",
                    what, worst, worstAt, expected[worstAt], actual[worstAt], tolerance, scale));
        }
    }

    /** Asserts |expected − actual| ≤ tolerance element-wise. */
    public static void assertAbsolute(String what, float[] expected, float[] actual, double tolerance) {
        assertEquals(expected.length, actual.length, what + ": lengths differ");
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) expected[i] - actual[i]);
            if (!(d <= tolerance)) {
                throw new AssertionError(String.format("%s: element %d differs by %.3g (expected %s, got %s), tolerance %.1g",
                        what, i, d, expected[i], actual[i], tolerance));
            }
        }
    }
}
