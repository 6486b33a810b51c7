package dev.cnnzoo.graph;

import java.util.Collections;
import java.util.List;

/**
 * One ONNX operator application. {@code layer} is the scope path the node was created in
 * ({@code layer1.0.conv1}); summaries group nodes by it. An omitted optional input is {@code null}.
 */
public record Node(String name, Op operator, List<Value> inputs, List<Value> outputs, Attributes attributes, String layer) {
    public Node {
        java.util.Objects.requireNonNull(operator, "operator");
        inputs = Collections.unmodifiableList(new java.util.ArrayList<>(inputs));
        outputs = List.copyOf(outputs);
    }

    /** Whether this node applies {@code op}. */
    public boolean is(Op op) {
        return operator == op;
    }

    /** The operator's ONNX spelling, the {@code op_type} the exported {@code NodeProto} carries ({@code "Conv"}). */
    public String op() {
        return operator.opType();
    }

    public Value input(int i) {
        return i < inputs.size() ? inputs.get(i) : null;
    }

    public Value output() {
        return outputs.get(0);
    }

    @Override
    public String toString() {
        return name + " = " + op() + inputs.stream().map(v -> v == null ? "-" : v.name()).toList() + " " + attributes;
    }
}
