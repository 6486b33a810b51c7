package dev.cnnzoo.training.run;

import dev.cnnzoo.api.ZooException;

/** The loss became NaN or infinite, or exploded; the run stopped and its last good checkpoint is kept. */
public final class TrainingDivergedException extends ZooException {
    private final String problem;

    public TrainingDivergedException(String problem) {
        super(problem + " Try a lower learning rate or a learning-rate warm-up.");
        this.problem = problem;
    }

    /** What happened and what was kept, without advice. */
    public String problem() {
        return problem;
    }
}
