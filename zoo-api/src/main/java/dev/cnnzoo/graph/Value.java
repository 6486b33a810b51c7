package dev.cnnzoo.graph;

import java.util.Objects;

/**
 * A symbolic tensor in a {@link Graph}: a name, an element type and a shape known while the
 * graph is built. Values are compared by identity; names are unique within a graph.
 */
public final class Value {
    /** Where a value comes from. */
    public enum Kind {
        /** Fed by the caller (the image batch, labels). */
        INPUT,
        /** Computed by a node. */
        ACTIVATION,
        /** A trainable parameter (a weight, a bias, a batch-norm scale). */
        PARAMETER,
        /** Non-trainable state that training updates (batch-norm running statistics). */
        STATE,
        /** Fixed data baked into the graph (reshape targets, LeNet-5's RBF codes). */
        CONSTANT
    }

    private String name;
    private final DType dtype;
    private final Shape shape;
    private final Kind kind;

    Value(String name, DType dtype, Shape shape, Kind kind) {
        this.name = Objects.requireNonNull(name);
        this.dtype = Objects.requireNonNull(dtype);
        this.shape = Objects.requireNonNull(shape);
        this.kind = Objects.requireNonNull(kind);
    }

    public String name() {
        return name;
    }

    /** Only the builder renames, and only before the graph is built (to name graph outputs). */
    void rename(String newName) {
        this.name = newName;
    }

    public DType dtype() {
        return dtype;
    }

    public Shape shape() {
        return shape;
    }

    public Kind kind() {
        return kind;
    }

    /** Parameters and state are the values a weights file holds. */
    public boolean isWeight() {
        return kind == Kind.PARAMETER || kind == Kind.STATE;
    }

    @Override
    public String toString() {
        return name + ":" + shape;
    }
}
