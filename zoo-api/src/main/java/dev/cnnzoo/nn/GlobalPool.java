package dev.cnnzoo.nn;

/** How a headless network reduces its last feature maps (Keras's {@code pooling}, timm's {@code global_pool}). */
public enum GlobalPool {
    /** Global average pooling to a vector per image. */
    AVG,
    /** Global max pooling to a vector per image. */
    MAX,
    /** No pooling: the feature maps themselves. */
    NONE
}
