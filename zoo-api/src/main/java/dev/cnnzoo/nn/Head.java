package dev.cnnzoo.nn;

import java.util.Objects;

/**
 * How a network ends, the contract every zoo network follows (timm's and Keras's): its classifier;
 * its last feature maps without the classifier, pooled as asked (Keras's {@code include_top=False}
 * with {@code pooling}); or the feature map of every stage (timm's {@code features_only}).
 *
 * @param pool how {@link Kind#FEATURES} reduces the last maps; {@link GlobalPool#NONE} otherwise
 */
public record Head(Kind kind, GlobalPool pool) {
    public enum Kind {
        /** The classifier's output, {@link Net#LOGITS}. */
        LOGITS,
        /** The last feature maps, pooled or not, as {@link Net#FEATURES}. */
        FEATURES,
        /** Every feature stage the network marks ({@link Net#feature}), as {@code stage1}, {@code stage2}... */
        STAGES
    }

    public Head {
        Objects.requireNonNull(kind);
        Objects.requireNonNull(pool);
    }

    public static Head logits() {
        return new Head(Kind.LOGITS, GlobalPool.NONE);
    }

    public static Head features(GlobalPool pool) {
        return new Head(Kind.FEATURES, pool);
    }

    public static Head stages() {
        return new Head(Kind.STAGES, GlobalPool.NONE);
    }
}
