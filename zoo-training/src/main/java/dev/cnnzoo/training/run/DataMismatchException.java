package dev.cnnzoo.training.run;

import dev.cnnzoo.api.ZooException;

/** The model is built for other images or another class count than the data has. */
public final class DataMismatchException extends ZooException {
    /** What differs. */
    public enum Aspect {
        /** Channels, height and width; {@link #fits()} is "CxHxW". */
        INPUT,
        /** The number of classes; {@link #fits()} is the data's count. */
        CLASSES
    }

    private final Aspect aspect;
    private final String problem;
    private final String fits;

    public DataMismatchException(Aspect aspect, String problem, String fits) {
        super(problem + "; build the model for " + (aspect == Aspect.INPUT ? fits + " input" : fits + " classes"));
        this.aspect = aspect;
        this.problem = problem;
        this.fits = fits;
    }

    public Aspect aspect() {
        return aspect;
    }

    /** What differs, without advice. */
    public String problem() {
        return problem;
    }

    /** The value that fits the data: "CxHxW" for the input, the class count for the classes. */
    public String fits() {
        return fits;
    }
}
