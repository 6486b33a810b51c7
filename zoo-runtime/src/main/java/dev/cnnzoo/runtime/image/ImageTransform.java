package dev.cnnzoo.runtime.image;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.Preprocessing;
import dev.cnnzoo.api.ZooException;

/**
 * A model's preprocessing as torchvision's evaluation transforms run it:
 * {@code Resize(resize)}, {@code CenterCrop(crop)}, {@code ToTensor()},
 * {@code Normalize(mean, std)}. The resize scales the shorter side to {@code resize} and the
 * longer one in proportion (rounded down), with {@link Resampling}'s antialiasing filter; the crop
 * takes the centre, its offset rounded half to even as Python rounds, padding with zeros where the
 * image is smaller; then each channel becomes (x − mean) / std.
 *
 * <p>For a model built for another input size than its recipe's crop, the resize scales with it
 * (a 256 → 224 recipe at 112×112 resizes to 128).
 */
public final class ImageTransform {
    private final int channels;
    private final int height;
    private final int width;
    private final int resize;
    private final float[] mean;
    private final float[] std;
    private final Resampling.Filter filter;

    /** A zoo model's preprocessing at its configured input size and channels. */
    public static ImageTransform forModel(Model model) {
        int[] size = model.config().inputSize();
        return new ImageTransform(model.info().preprocessing(), model.config().inputChannels(), size[0], size[1]);
    }

    public ImageTransform(Preprocessing pre, int channels, int height, int width) {
        if (pre.channels() != channels) {
            throw new ZooException("the model's preprocessing normalises " + pre.channels() + " channel(s) but it is built for "
                    + channels + " input channels");
        }
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.resize = pre.forInput(height, width).resize();
        this.mean = pre.mean().clone();
        this.std = pre.std().clone();
        this.filter = Resampling.Filter.parse(pre.interpolation());
    }

    /** The size the shorter side is resized to. */
    public int resize() {
        return resize;
    }

    public int channels() {
        return channels;
    }

    /** The height of the images it makes. */
    public int height() {
        return height;
    }

    /** The width of the images it makes. */
    public int width() {
        return width;
    }

    /** "resize 256 (bilinear, antialiased), centre crop 224×224, normalise". */
    public String describe() {
        return "resize the shorter side to " + resize + " (" + filter.name().toLowerCase(java.util.Locale.ROOT) + ", antialiased), centre crop "
                + height + "×" + width + ", normalise";
    }

    /** The network's input for one image: channels × height × width floats. */
    public float[] apply(Planes image) {
        float[] out = new float[channels * height * width];
        apply(image, out, 0);
        return out;
    }

    /** Writes the network's input for one image into {@code dst} at {@code offset}. */
    public void apply(Planes image, float[] dst, int offset) {
        if (image.channels() != channels) {
            throw new ZooException("the image has " + image.channels() + " channel(s), the model takes " + channels);
        }
        Planes resized = resizeShorterSide(image);
        centreCrop(resized, dst, offset);
        int plane = height * width;
        for (int c = 0; c < channels; c++) {
            for (int i = 0; i < plane; i++) {
                int k = offset + c * plane + i;
                dst[k] = (dst[k] - mean[c]) / std[c];
            }
        }
    }

    /** torchvision's {@code Resize(int)}: shorter side to {@link #resize()}, longer side ⌊resize·long/short⌋. */
    public Planes resizeShorterSide(Planes image) {
        return Resampling.shorterSideTo(image, resize, filter);
    }

    /** Where torchvision's {@code CenterCrop} starts a window of {@code crop} in {@code size}: Python's round, half to even. */
    public static int centreOffset(int size, int crop) {
        return (int) Math.rint((size - crop) / 2.0);
    }

    /** torchvision's {@code CenterCrop}: zero padding where the image is smaller, then the centre window. */
    void centreCrop(Planes image, float[] dst, int offset) {
        int h = image.height();
        int w = image.width();
        // Padding first, split as torchvision splits it (the extra pixel to the bottom and right).
        int padTop = height > h ? (height - h) / 2 : 0;
        int padLeft = width > w ? (width - w) / 2 : 0;
        int paddedH = Math.max(h, height);
        int paddedW = Math.max(w, width);
        int top = centreOffset(paddedH, height);
        int left = centreOffset(paddedW, width);
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < height; y++) {
                int sy = y + top - padTop;
                int row = offset + (c * height + y) * width;
                for (int x = 0; x < width; x++) {
                    int sx = x + left - padLeft;
                    dst[row + x] = sy >= 0 && sy < h && sx >= 0 && sx < w ? image.values()[(c * h + sy) * w + sx] : 0f;
                }
            }
        }
    }
}
