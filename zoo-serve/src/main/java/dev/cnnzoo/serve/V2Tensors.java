package dev.cnnzoo.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cnnzoo.graph.DType;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.runtime.InferenceSession;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Tensors in the Open Inference Protocol's JSON form: {@code {"name", "shape", "datatype", "data"}},
 * the data row-major, flat or nested. The protocol's datatype names map to ONNX's element types
 * (FP32 = float, INT64 = int64, ...). Every refusal names the input and what was wrong with it.
 */
final class V2Tensors {
    private V2Tensors() {
    }

    /** The protocol's name for an element type ("FP32" for float). */
    static String datatype(DType type) {
        return switch (type) {
            case FLOAT -> "FP32";
            case DOUBLE -> "FP64";
            case INT64 -> "INT64";
            case INT32 -> "INT32";
            case UINT8 -> "UINT8";
            case BOOL -> "BOOL";
            default -> type.name();
        };
    }

    /** The datatype a host tensor of this type is reported as (the runtime returns doubles as floats). */
    static String datatypeOf(Tensor t) {
        return t.dtype() == DType.DOUBLE ? "FP32" : datatype(t.dtype());
    }

    /** The request's inputs: {@code request} is the body's JSON, {@code ports} the model's inputs. */
    static Map<String, Tensor> inputs(JsonNode request, List<InferenceSession.Port> ports) {
        if (request == null || !request.isObject()) {
            throw RequestException.badRequest("the body must be a JSON object with \"inputs\"");
        }
        JsonNode inputs = request.get("inputs");
        if (inputs == null || !inputs.isArray() || inputs.isEmpty()) {
            throw RequestException.badRequest("\"inputs\" must be a non-empty array of tensors {\"name\", \"shape\", \"datatype\", \"data\"}");
        }
        Map<String, Tensor> feeds = new LinkedHashMap<>();
        for (JsonNode in : inputs) {
            String name = text(in, "name", "an input");
            InferenceSession.Port port = ports.stream().filter(p -> p.name().equals(name)).findFirst()
                    .orElseThrow(() -> RequestException.badRequest("the model has no input named '" + name + "'; its inputs are "
                            + ports.stream().map(InferenceSession.Port::name).toList()));
            if (feeds.put(name, tensor(in, port)) != null) {
                throw RequestException.badRequest("input '" + name + "' is given twice");
            }
        }
        for (InferenceSession.Port p : ports) {
            if (!feeds.containsKey(p.name())) {
                throw RequestException.badRequest("input '" + p.name() + "' (" + describe(p) + ") is missing");
            }
        }
        int batch = -1;
        for (Map.Entry<String, Tensor> e : feeds.entrySet()) {
            int n = e.getValue().shape().dim(0);
            if (batch >= 0 && n != batch) {
                throw RequestException.badRequest("the inputs disagree on the batch size: input '" + e.getKey() + "' has " + n + " rows, "
                        + "another " + batch);
            }
            batch = n;
        }
        return feeds;
    }

    /** The names of the outputs the request asks for ({@code "outputs"}), or null for all of them. */
    static List<String> requestedOutputs(JsonNode request, List<InferenceSession.Port> ports) {
        JsonNode outputs = request.get("outputs");
        if (outputs == null || outputs.isNull()) {
            return null;
        }
        if (!outputs.isArray()) {
            throw RequestException.badRequest("\"outputs\" must be an array of {\"name\"}");
        }
        List<String> names = new ArrayList<>();
        for (JsonNode o : outputs) {
            String name = text(o, "name", "a requested output");
            if (ports.stream().noneMatch(p -> p.name().equals(name))) {
                throw RequestException.badRequest("the model has no output named '" + name + "'; its outputs are "
                        + ports.stream().map(InferenceSession.Port::name).toList());
            }
            names.add(name);
        }
        return names;
    }

    private static Tensor tensor(JsonNode in, InferenceSession.Port port) {
        String name = port.name();
        String datatype = text(in, "datatype", "input '" + name + "'");
        String expected = datatype(port.dtype());
        if (!datatype.equals(expected)) {
            throw RequestException.badRequest("input '" + name + "' has datatype " + datatype + " but the model takes " + expected);
        }
        JsonNode shapeNode = in.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw RequestException.badRequest("input '" + name + "' needs \"shape\", an array of dimensions");
        }
        long[] dims = new long[shapeNode.size()];
        long elements = 1;
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
                throw RequestException.badRequest("input '" + name + "' has shape " + shapeNode + ": dimensions must be integers ≥ 0");
            }
            dims[i] = d.asLong();
            // Capped just past what an array can hold, so that no product overflows.
            elements = dims[i] != 0 && elements > Integer.MAX_VALUE / dims[i] ? Integer.MAX_VALUE + 1L : elements * dims[i];
        }
        boolean fits = dims.length == port.shape().length && dims.length > 0;
        for (int i = 0; fits && i < dims.length; i++) {
            fits = port.shape()[i] < 0 || port.shape()[i] == dims[i];
        }
        if (!fits) {
            throw RequestException.badRequest("input '" + name + "' has shape " + Arrays.toString(dims) + " but the model takes "
                    + describe(port) + " (-1: any size)");
        }
        if (dims[0] == 0) {
            throw RequestException.badRequest("input '" + name + "' has no rows (shape " + Arrays.toString(dims) + ")");
        }
        JsonNode data = in.get("data");
        if (data == null || !data.isArray()) {
            throw RequestException.badRequest("input '" + name + "' needs \"data\", an array of its " + expected + " values, row-major");
        }
        // The body's size bounds the elements that can be present, but a shape can claim more.
        if (elements > Integer.MAX_VALUE) {
            throw RequestException.badRequest("input '" + name + "' has shape " + Arrays.toString(dims) + ", too many elements");
        }
        Flat flat = new Flat(port.dtype(), (int) elements, name);
        flat.add(data);
        if (flat.count != elements) {
            throw RequestException.badRequest("input '" + name + "' has shape " + Arrays.toString(dims) + " (" + elements + " values) but "
                    + (flat.count > elements ? "more" : flat.count) + " values in \"data\"");
        }
        Shape shape = Shape.of(dims);
        return switch (port.dtype()) {
            case FLOAT -> Tensor.of(shape, flat.floats);
            case BOOL -> Tensor.ofBools(shape, flat.longs);
            default -> Tensor.ofLongs(shape, flat.longs);
        };
    }

    /** The values of nested arrays, row-major, checked against the element type. */
    private static final class Flat {
        final DType type;
        final float[] floats;
        final long[] longs;
        final String input;
        int count;

        Flat(DType type, int capacity, String input) {
            this.type = type;
            this.input = input;
            this.floats = type == DType.FLOAT ? new float[capacity] : null;
            this.longs = type == DType.FLOAT ? null : new long[capacity];
            if (type != DType.FLOAT && type != DType.INT64 && type != DType.BOOL) {
                throw RequestException.badRequest("input '" + input + "' is " + datatype(type) + ", which the zoo cannot feed (FP32, INT64, BOOL)");
            }
        }

        void add(JsonNode node) {
            for (JsonNode v : node) {
                if (v.isArray()) {
                    add(v);
                    continue;
                }
                int at = count++;
                int capacity = floats != null ? floats.length : longs.length;
                if (at >= capacity) {
                    continue;           // counted, reported as too many values
                }
                switch (type) {
                    case FLOAT -> {
                        if (!v.isNumber()) {
                            throw RequestException.badRequest("input '" + input + "': value " + at + " is " + v + ", not a number");
                        }
                        floats[at] = v.floatValue();
                    }
                    case BOOL -> {
                        if (!v.isBoolean()) {
                            throw RequestException.badRequest("input '" + input + "': value " + at + " is " + v + ", not true or false");
                        }
                        longs[at] = v.booleanValue() ? 1 : 0;
                    }
                    default -> {
                        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
                            throw RequestException.badRequest("input '" + input + "': value " + at + " is " + v + ", not a 64-bit integer");
                        }
                        longs[at] = v.longValue();
                    }
                }
            }
        }
    }

    /** A response output: name, shape, datatype and the values, flat and row-major. */
    static Map<String, Object> output(String name, Tensor t) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("name", name);
        o.put("shape", t.shape().longDims());
        o.put("datatype", datatypeOf(t));
        if (t.dtype() == DType.BOOL) {
            long[] a = t.longs();
            boolean[] b = new boolean[a.length];
            for (int i = 0; i < a.length; i++) {
                b[i] = a[i] != 0;
            }
            o.put("data", b);
        } else {
            o.put("data", t.isFloating() ? t.floats() : t.longs());
        }
        return o;
    }

    /** A model input's or output's metadata: {@code {"name", "datatype", "shape"}}, -1 for a variable dimension. */
    static Map<String, Object> metadata(InferenceSession.Port p) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("name", p.name());
        o.put("datatype", datatype(p.dtype()));
        o.put("shape", Arrays.stream(p.shape()).map(d -> d < 0 ? -1 : d).toArray());
        return o;
    }

    private static String describe(InferenceSession.Port p) {
        return datatype(p.dtype()) + " " + Arrays.toString(Arrays.stream(p.shape()).map(d -> d < 0 ? -1 : d).toArray());
    }

    private static String text(JsonNode node, String field, String what) {
        JsonNode v = node == null || !node.isObject() ? null : node.get(field);
        if (v == null || !v.isTextual()) {
            throw RequestException.badRequest(what + " needs \"" + field + "\", a string");
        }
        return v.asText();
    }
}
