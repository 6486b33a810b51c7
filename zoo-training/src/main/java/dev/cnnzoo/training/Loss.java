package dev.cnnzoo.training;

/**
 * The training objective: softmax cross-entropy on the logits against integer labels, with
 * optional label smoothing (Szegedy et al. 2015, Inception v3 §7: ε = 0.1), plus the auxiliary
 * classifiers' cross-entropy weighted by {@code auxiliaryWeight} (GoogLeNet §5: 0.3).
 */
public record Loss(double labelSmoothing, double auxiliaryWeight) {
    public Loss {
        if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
            throw new dev.cnnzoo.api.ZooException("label smoothing must be in [0, 1), got " + labelSmoothing);
        }
        if (!(auxiliaryWeight >= 0) || Double.isInfinite(auxiliaryWeight)) {
            throw new dev.cnnzoo.api.ZooException("the auxiliary loss weight must be 0 or more, got " + auxiliaryWeight);
        }
    }

    /** Plain cross-entropy; auxiliary heads, where present, weighted 0.3. */
    public static Loss crossEntropy() {
        return new Loss(0, 0.3);
    }

    public Loss labelSmoothing(double epsilon) {
        return new Loss(epsilon, auxiliaryWeight);
    }

    public Loss auxiliaryWeight(double weight) {
        return new Loss(labelSmoothing, weight);
    }
}
