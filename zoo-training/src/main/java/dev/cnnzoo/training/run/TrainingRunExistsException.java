package dev.cnnzoo.training.run;

import dev.cnnzoo.api.ZooException;
import java.nio.file.Path;

/** A new run was asked for in a folder that holds one already: it is resumed, or another folder is used. */
public final class TrainingRunExistsException extends ZooException {
    private final Path dir;

    public TrainingRunExistsException(Path dir) {
        super(dir + " already holds a training run; resume it (TrainingRun.resume) or train into another folder");
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }
}
