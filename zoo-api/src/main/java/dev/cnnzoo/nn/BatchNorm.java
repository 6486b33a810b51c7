package dev.cnnzoo.nn;

/**
 * Batch normalisation settings. {@code momentum} uses PyTorch's convention
 * (running ← (1 − momentum)·running + momentum·batch); ONNX's attribute is 1 − momentum.
 */
public record BatchNorm(double epsilon, double momentum, boolean zeroScale) {
    /** PyTorch's defaults: ε = 1e-5, momentum 0.1. */
    public static BatchNorm defaults() {
        return new BatchNorm(1e-5, 0.1, false);
    }

    public BatchNorm epsilon(double eps) {
        return new BatchNorm(eps, momentum, zeroScale);
    }

    public BatchNorm momentum(double m) {
        return new BatchNorm(epsilon, m, zeroScale);
    }

    /**
     * Starts the scale γ at zero, so a residual unit begins as the identity (Goyal et al. 2017;
     * torchvision's {@code zero_init_residual}).
     */
    public BatchNorm withZeroScale() {
        return new BatchNorm(epsilon, momentum, true);
    }
}
