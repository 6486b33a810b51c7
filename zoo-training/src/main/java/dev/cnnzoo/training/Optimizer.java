package dev.cnnzoo.training;

import java.util.List;
import java.util.Locale;

/**
 * An optimizer's hyperparameters (the learning rate is not one: a schedule feeds it each step).
 * Update rules and state names follow PyTorch's {@code torch.optim}, so a checkpoint's optimizer
 * state reads like a PyTorch one ({@code exp_avg}, {@code exp_avg_sq}, {@code momentum_buffer}).
 *
 * @param weightDecay L2 penalty added to the gradient (SGD, Adam, NAdam) or decoupled decay (AdamW)
 */
public record Optimizer(Kind kind, double momentum, boolean nesterov, double beta1, double beta2, double epsilon,
        double weightDecay, double momentumDecay) {

    public enum Kind {
        SGD, ADAM, ADAMW, NADAM;

        public static Kind parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new dev.cnnzoo.api.ZooException("unknown optimizer '" + s + "'; use sgd, adam, adamw or nadam");
            }
        }
    }

    public Optimizer {
        if (!(momentum >= 0 && momentum < 1)) {
            throw new dev.cnnzoo.api.ZooException("momentum must be in [0, 1), got " + momentum);
        }
        if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) {
            throw new dev.cnnzoo.api.ZooException("betas must be in [0, 1), got " + beta1 + " and " + beta2);
        }
        if (!(epsilon > 0) || Double.isInfinite(epsilon)) {
            throw new dev.cnnzoo.api.ZooException("epsilon must be positive, got " + epsilon);
        }
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new dev.cnnzoo.api.ZooException("weight decay must be 0 or more, got " + weightDecay);
        }
        if (nesterov && momentum == 0) {
            throw new dev.cnnzoo.api.ZooException("Nesterov momentum needs a momentum above 0");
        }
    }

    /**
     * The optimizer {@code kind} with the zoo's defaults: SGD with momentum 0.9, Adam and NAdam
     * without weight decay, AdamW with PyTorch's 0.01.
     */
    public static Optimizer of(Kind kind) {
        return switch (kind) {
            case SGD -> sgd(0.9, false);
            case ADAM -> adam();
            case ADAMW -> adamw(0.01);
            case NADAM -> nadam();
        };
    }

    /** {@link #of(Kind)} by name: sgd, adam, adamw or nadam. */
    public static Optimizer of(String kind) {
        return of(Kind.parse(kind));
    }

    /** SGD with momentum (PyTorch's form: v ← μv + g, p ← p − lr·v; Nesterov: p ← p − lr·(g + μv)). */
    public static Optimizer sgd(double momentum, boolean nesterov) {
        return new Optimizer(Kind.SGD, momentum, nesterov, 0.9, 0.999, 1e-8, 0, 0);
    }

    /** Kingma and Ba 2015: β₁ = 0.9, β₂ = 0.999, ε = 1e-8. */
    public static Optimizer adam() {
        return new Optimizer(Kind.ADAM, 0, false, 0.9, 0.999, 1e-8, 0, 0);
    }

    /** Loshchilov and Hutter 2019: Adam with decoupled weight decay (PyTorch's default 0.01). */
    public static Optimizer adamw(double weightDecay) {
        return new Optimizer(Kind.ADAMW, 0, false, 0.9, 0.999, 1e-8, weightDecay, 0);
    }

    /**
     * Dozat 2016's Nesterov Adam with the momentum schedule μ_t = β₁(1 − ½·0.96^(tψ)), ψ = 0.004, as
     * Keras's Nadam (which Géron's Hands-On Machine Learning, 2nd ed., ch. 14, trains its Fashion-MNIST network
     * with) and PyTorch's NAdam.
     */
    public static Optimizer nadam() {
        return new Optimizer(Kind.NADAM, 0, false, 0.9, 0.999, 1e-7, 0, 0.004);
    }

    public Optimizer withWeightDecay(double wd) {
        return new Optimizer(kind, momentum, nesterov, beta1, beta2, epsilon, wd, momentumDecay);
    }

    /** The optimizer's per-parameter state, by PyTorch's names. */
    public List<String> stateNames() {
        return switch (kind) {
            case SGD -> momentum > 0 ? List.of("momentum_buffer") : List.of();
            case ADAM, ADAMW, NADAM -> List.of("exp_avg", "exp_avg_sq");
        };
    }

    /** State shared by every parameter: NAdam's running product of μ_t. */
    public List<String> globalStateNames() {
        return kind == Kind.NADAM ? List.of(OptimizerGraph.MU_PRODUCT) : List.of();
    }

    /** The initial value of a global state. */
    public float initialGlobal(String name) {
        return 1f;
    }

    /** A one-line description for logs and checkpoints. */
    public String describe() {
        return switch (kind) {
            case SGD -> String.format(Locale.ROOT, "sgd(momentum=%s%s, weight_decay=%s)", momentum, nesterov ? ", nesterov" : "", weightDecay);
            case ADAM, ADAMW -> String.format(Locale.ROOT, "%s(betas=(%s, %s), eps=%s, weight_decay=%s)", kind.name().toLowerCase(Locale.ROOT),
                    beta1, beta2, epsilon, weightDecay);
            case NADAM -> String.format(Locale.ROOT, "nadam(betas=(%s, %s), eps=%s, momentum_decay=%s, weight_decay=%s)", beta1, beta2,
                    epsilon, momentumDecay, weightDecay);
        };
    }
}
