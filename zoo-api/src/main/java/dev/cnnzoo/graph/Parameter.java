package dev.cnnzoo.graph;

/** A weight or a piece of state: its value in the graph and how its first values are drawn. */
public record Parameter(Value value, Init init) {
    public String name() {
        return value.name();
    }

    public Shape shape() {
        return value.shape();
    }

    public boolean trainable() {
        return value.kind() == Value.Kind.PARAMETER;
    }
}
