package dev.cnnzoo.runtime.interchange;

import dev.cnnzoo.api.ZooException;

/**
 * A weights file has nothing that fits some of a model's tensors (absent, or another shape). A
 * partial import keeps those tensors' initial values instead.
 */
public final class WeightsMismatchException extends ZooException {
    private final String problem;
    private final String keeps;

    public WeightsMismatchException(String problem, String keeps) {
        super(problem + " (a partial import keeps " + keeps + ")");
        this.problem = problem;
        this.keeps = keeps;
    }

    /** What does not fit, without advice. */
    public String problem() {
        return problem;
    }

    /** What a partial import would keep, e.g. "fc.weight's initial value". */
    public String keeps() {
        return keeps;
    }
}
