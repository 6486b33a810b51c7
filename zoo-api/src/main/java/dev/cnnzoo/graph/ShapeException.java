package dev.cnnzoo.graph;

/** A node's inputs do not fit together; the message names the layer and the shapes involved. */
public class ShapeException extends RuntimeException {
    private final String layer;

    public ShapeException(String layer, String message) {
        super("layer '" + layer + "': " + message);
        this.layer = layer;
    }

    /** The scope path of the layer that failed. */
    public String layer() {
        return layer;
    }
}
