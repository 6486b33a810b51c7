package dev.cnnzoo.training.run;

import dev.cnnzoo.api.ZooException;
import java.nio.file.Path;

/**
 * A run was asked to go on after its last epoch: its trained network is written and training on
 * would overwrite it. More epochs are asked for explicitly ({@link TrainingRun#withEpochs}).
 */
public final class TrainingFinishedException extends ZooException {
    private final Path dir;
    private final int epochs;
    private final long step;

    public TrainingFinishedException(Path dir, int epochs, long step) {
        super("the run in " + dir + " has finished its " + epochs + " epoch" + (epochs == 1 ? "" : "s") + " (step " + step
                + "); to train it further, resume it with more epochs (TrainingRun.withEpochs)");
        this.dir = dir;
        this.epochs = epochs;
        this.step = step;
    }

    public Path dir() {
        return dir;
    }

    /** The epochs the run was made for, all of them done. */
    public int epochs() {
        return epochs;
    }

    public long step() {
        return step;
    }
}
