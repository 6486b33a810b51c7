package dev.cnnzoo.graph;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The attributes of an ONNX node. Values are stored as ONNX has them: {@code Long} (INT),
 * {@code Float} (FLOAT), {@code String} (STRING), {@code long[]} (INTS), {@code float[]}
 * (FLOATS), {@link Tensor} (TENSOR).
 */
public final class Attributes {
    private static final Attributes EMPTY = new Attributes(Map.of());
    private final Map<String, Object> values;

    private Attributes(Map<String, Object> values) {
        this.values = values;
    }

    public static Attributes none() {
        return EMPTY;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Attributes from name/value pairs: {@code Attributes.of("axis", 1)}. */
    public static Attributes of(Object... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("attributes come in name/value pairs");
        }
        Builder b = builder();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            b.put((String) namesAndValues[i], namesAndValues[i + 1]);
        }
        return b.build();
    }

    public Map<String, Object> asMap() {
        return Collections.unmodifiableMap(values);
    }

    public boolean has(String name) {
        return values.containsKey(name);
    }

    public long getInt(String name, long fallback) {
        Object v = values.get(name);
        return v == null ? fallback : (Long) v;
    }

    public float getFloat(String name, float fallback) {
        Object v = values.get(name);
        return v == null ? fallback : (Float) v;
    }

    public String getString(String name, String fallback) {
        Object v = values.get(name);
        return v == null ? fallback : (String) v;
    }

    /** An INTS attribute, or {@code null} when absent. */
    public long[] getInts(String name) {
        Object v = values.get(name);
        return v == null ? null : ((long[]) v).clone();
    }

    public Tensor getTensor(String name) {
        return (Tensor) values.get(name);
    }

    /** A copy with one attribute added or replaced. */
    public Attributes with(String name, Object value) {
        Builder b = builder();
        values.forEach(b::put);
        return b.put(name, value).build();
    }

    /** A copy without the named attribute. */
    public Attributes without(String name) {
        Map<String, Object> copy = new LinkedHashMap<>(values);
        copy.remove(name);
        return new Attributes(copy);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("{");
        values.forEach((k, v) -> {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append(k).append('=');
            if (v instanceof long[] a) {
                sb.append(Arrays.toString(a));
            } else if (v instanceof float[] a) {
                sb.append(Arrays.toString(a));
            } else {
                sb.append(v);
            }
        });
        return sb.append('}').toString();
    }

    public static final class Builder {
        private final Map<String, Object> values = new LinkedHashMap<>();

        /** Adds an attribute, normalising Java's convenient types to ONNX's. */
        public Builder put(String name, Object value) {
            values.put(name, normalise(name, value));
            return this;
        }

        public Attributes build() {
            return new Attributes(new LinkedHashMap<>(values));
        }

        private static Object normalise(String name, Object v) {
            if (v instanceof Integer i) {
                return i.longValue();
            }
            if (v instanceof Long || v instanceof String || v instanceof Tensor) {
                return v;
            }
            if (v instanceof Double d) {
                return d.floatValue();
            }
            if (v instanceof Float) {
                return v;
            }
            if (v instanceof Boolean b) {
                return b ? 1L : 0L;
            }
            if (v instanceof int[] a) {
                return Arrays.stream(a).asLongStream().toArray();
            }
            if (v instanceof long[] a) {
                return a.clone();
            }
            if (v instanceof float[] a) {
                return a.clone();
            }
            throw new IllegalArgumentException("attribute " + name + " has unsupported type " + v.getClass().getName());
        }
    }
}
