package dev.cnnzoo.training.run;

import dev.cnnzoo.api.ZooException;

/** The loss became NaN or infinite, or exploded; the run stopped and its last good checkpoint is kept. */
public final class TrainingDivergedException extends ZooException {
    public TrainingDivergedException(String message) {
        super(message);
    }
}
