package dev.cnnzoo.quantize;

import dev.cnnzoo.api.Preprocessing;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.training.data.Augmentation;
import dev.cnnzoo.training.data.BatchLoader;
import dev.cnnzoo.training.data.Dataset;
import dev.cnnzoo.training.data.Datasets;
import dev.cnnzoo.training.data.Split;
import java.nio.file.Path;

/**
 * The images calibration runs through a float model: a random sample of a dataset (anything
 * {@code zoo train} reads: IDX, CIFAR-10, image folders), normalised as the model's preprocessing
 * says, checked against the model's input.
 */
public final class CalibrationData {
    private final Dataset images;
    private final Preprocessing preprocessing;
    private final String source;

    private CalibrationData(Dataset images, Preprocessing preprocessing, String source) {
        this.images = images;
        this.preprocessing = preprocessing;
        this.source = source;
    }

    /**
     * {@code samples} images drawn at random (fixed by {@code seed}) from the training split of the
     * dataset in {@code dir} (or the folder itself, for image folders without splits), at the
     * model's input size.
     */
    public static CalibrationData open(Path dir, FloatModel model, int samples, long seed) {
        int resize = Math.max(model.height(), model.preprocessing().resize());
        Dataset d = Datasets.open(dir, Split.TRAIN, model.channels(), model.height(), resize);
        return of(d, model, samples, seed);
    }

    /**
     * {@code samples} images of {@code data} for {@code model}.
     *
     * @throws ZooException when the images' channels or size are not the model's input, or the data
     *                      holds fewer images than asked for
     */
    public static CalibrationData of(Dataset data, FloatModel model, int samples, long seed) {
        if (samples < 1) {
            throw new ZooException("calibration needs at least 1 sample, got " + samples);
        }
        if (data.channels() != model.channels()) {
            throw new ZooException(data.description() + " has " + data.channels() + "-channel images but " + model.description() + " takes "
                    + model.channels() + " channel(s)");
        }
        if (data.height() != model.height() || data.width() != model.width()) {
            throw new ZooException(data.description() + " holds " + data.height() + "×" + data.width() + " images but " + model.description()
                    + " takes " + model.height() + "×" + model.width() + " (IDX and CIFAR-10 images keep their size; image folders are "
                    + "resized to the model's input)");
        }
        if (data.size() < samples) {
            throw new ZooException(data.description() + " holds " + data.size() + " images, too few for the " + samples
                    + " calibration samples asked for (ask for at most " + data.size() + ")");
        }
        return new CalibrationData(data.sample(samples, seed), model.preprocessing(), data.description());
    }

    public int size() {
        return images.size();
    }

    /** "N images drawn from SOURCE". */
    public String describe() {
        return images.size() + " images drawn from " + source;
    }

    /** The dataset the samples come from. */
    public String source() {
        return source;
    }

    /** Normalised batches of {@code batch} images (the last one possibly smaller), prepared on a background thread. */
    BatchLoader loader(int batch) {
        return new BatchLoader(images, preprocessing, Augmentation.none(), batch, 0, 1);
    }

    /** The first image alone, to size the batches. */
    BatchLoader first() {
        return new BatchLoader(images.limit(1), preprocessing, Augmentation.none(), 1, 0, 1);
    }
}
