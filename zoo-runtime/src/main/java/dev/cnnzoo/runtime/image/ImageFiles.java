package dev.cnnzoo.runtime.image;

import dev.cnnzoo.api.ZooException;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DirectColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Image files decoded with the JDK's ImageIO (JPEG, PNG, BMP, GIF, TIFF) into {@link Planes} with
 * the channels a network takes, values in [0, 1].
 *
 * <p>Samples are read as the file stores them, as Pillow reads them: a grey PNG's 128 is 128/255.
 * (Going through {@code BufferedImage.getRGB} would not do: Java treats grey images as linear
 * light and converts them to sRGB, turning 128 into about 186.) Conversions follow Pillow's
 * {@code convert}, which torchvision's recipes call: grey is replicated into R, G and B; colour
 * becomes grey by ITU-R 601 luma, L = 0.299 R + 0.587 G + 0.114 B; transparency is dropped;
 * CMYK and YCCK JPEGs become RGB as Pillow converts them ({@link Cmyk}); embedded ICC profiles are
 * not applied. Truncated or corrupt files are refused unless asked for ({@link Damaged}).
 */
public final class ImageFiles {
    public static final List<String> EXTENSIONS = List.of(".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff");

    /** A decoded image and, when it had to be converted, how (for the user to see). */
    public record Decoded(Planes planes, String conversion) {
    }

    private ImageFiles() {
    }

    /** Whether the file's name says it is an image the zoo reads. */
    public static boolean isImageName(Path file) {
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return EXTENSIONS.stream().anyMatch(n::endsWith);
    }

    /**
     * The files to read for {@code paths}: a file stands for itself, a folder for the images in
     * it (by name, sorted).
     */
    public static List<Path> expand(List<Path> paths) {
        List<Path> out = new ArrayList<>();
        for (Path p : paths) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = Files.list(p)) {
                    List<Path> images = s.filter(f -> Files.isRegularFile(f) && isImageName(f)).sorted().toList();
                    if (images.isEmpty()) {
                        throw new ZooException("folder " + p + " holds no images (" + String.join(", ", EXTENSIONS) + ")");
                    }
                    out.addAll(images);
                } catch (IOException e) {
                    throw new ZooException("cannot list " + p + ": " + e.getMessage(), e);
                }
            } else {
                out.add(p);
            }
        }
        return out;
    }

    /** What a decoder does with a damaged file. */
    public enum Damaged {
        /** Refuse a truncated or corrupt file (the default: a half-grey image classifies as something). */
        REFUSE,
        /** Decode what the file holds and say so in {@link Decoded#conversion()}. */
        DECODE_WITH_WARNING
    }

    /**
     * Decodes {@code file} into {@code channels} channels (1 or 3), refusing a damaged file.
     *
     * @throws ZooException when the file is missing, unreadable, truncated or corrupt, or not an image ImageIO decodes
     */
    public static Decoded read(Path file, int channels) {
        return read(file, channels, Damaged.REFUSE);
    }

    /**
     * Decodes {@code file} into {@code channels} channels (1 or 3). A JPEG decoder reports a
     * truncated or corrupt file only as a warning, filling what is missing with grey; such a file is
     * refused, or decoded with the warning in the conversion note, as {@code damaged} says.
     *
     * @throws ZooException when the file is missing, unreadable, refused as damaged, or not an image ImageIO decodes
     */
    public static Decoded read(Path file, int channels, Damaged damaged) {
        if (channels != 1 && channels != 3) {
            throw new ZooException("images can be read as 1 (grey) or 3 (RGB) channels; the model takes " + channels);
        }
        if (!Files.exists(file)) {
            throw new ZooException("image " + file + " does not exist");
        }
        if (Files.isDirectory(file)) {
            throw new ZooException(file + " is a folder, not an image");
        }
        if (!Files.isReadable(file)) {
            throw new ZooException("cannot read image " + file + ": permission denied");
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            return decode(in, file.toString(), channels, damaged);
        } catch (IOException e) {
            throw new ZooException("cannot read image " + file + ": " + e.getMessage(), e);
        }
    }

    /** {@link #decode(byte[], String, int, Damaged)}, refusing a damaged image. */
    public static Decoded decode(byte[] bytes, String name, int channels) {
        return decode(bytes, name, channels, Damaged.REFUSE);
    }

    /**
     * Decodes an image held in memory (an upload, a Spark binary column) exactly as
     * {@link #read(Path, int, Damaged)} decodes a file; {@code name} stands for it in messages.
     */
    public static Decoded decode(byte[] bytes, String name, int channels, Damaged damaged) {
        if (channels != 1 && channels != 3) {
            throw new ZooException("images can be read as 1 (grey) or 3 (RGB) channels; the model takes " + channels);
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(new java.io.ByteArrayInputStream(bytes))) {
            return decode(in, name, channels, damaged);
        } catch (IOException e) {
            throw new ZooException("cannot read " + name + ": " + e.getMessage(), e);
        }
    }

    private static Decoded decode(ImageInputStream in, String name, int channels, Damaged damaged) {
        List<String> warnings = new ArrayList<>();
        Decoded decoded;
        try {
            Iterator<ImageReader> readers = in == null ? java.util.Collections.emptyIterator() : ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new ZooException(name + " is not an image the zoo can decode (JPEG, PNG, BMP, GIF or TIFF)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, false);
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
                Cmyk cmyk = Cmyk.of(reader);
                decoded = cmyk != null ? cmyk.decode(reader, channels) : convert(reader.read(0), channels);
                if (cmyk != null) {
                    // The JDK's verdict on an embedded profile does not matter: the conversion never applies one.
                    warnings.removeIf(w -> w.toLowerCase(Locale.ROOT).contains("color profile"));
                }
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof ZooException z) {
                throw z;
            }
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new ZooException(name + " cannot be decoded as an image (damaged or truncated?): " + why, e);
        }
        List<String> damage = warnings.stream().filter(ImageFiles::isDamage).toList();
        if (!damage.isEmpty() && damaged == Damaged.REFUSE) {
            throw new ZooException(name + " is truncated or corrupt (" + String.join("; ", damage) + "); the decoder would fill the "
                    + "missing part with grey");
        }
        if (warnings.isEmpty()) {
            return decoded;
        }
        // Damage decoded on request, and the decoder's other remarks (an invalid ICC profile ignored), are noted like conversions.
        List<String> notes = new ArrayList<>();
        if (!decoded.conversion().isEmpty()) {
            notes.add(decoded.conversion());
        }
        warnings.forEach(w -> notes.add((isDamage(w) ? "damaged, decoded anyway: " : "decoder: ") + w));
        return new Decoded(decoded.planes(), String.join(", ", notes));
    }

    /** JPEG's (libjpeg's) and PNG's words for a file that ends early or holds bad data. */
    private static boolean isDamage(String warning) {
        String w = warning.toLowerCase(Locale.ROOT);
        return w.contains("truncated") || w.contains("corrupt") || w.contains("premature end") || w.contains("bogus")
                || w.contains("missing eoi");
    }

    /** An image in memory, converted to {@code channels} channels as {@link #read} converts files. */
    public static Decoded convert(BufferedImage img, int channels) {
        int w = img.getWidth();
        int h = img.getHeight();
        ColorModel cm = img.getColorModel();
        Raster raster = img.getRaster();
        boolean direct = cm instanceof ComponentColorModel || cm instanceof DirectColorModel;
        int colours = cm.getNumColorComponents();
        List<String> notes = new ArrayList<>();
        if (cm.hasAlpha()) {
            notes.add("transparency dropped");
        }
        float[] source;
        int sourceChannels;
        if (direct && colours == 1 && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY) {
            source = samples(raster, 1, cm, w, h);
            sourceChannels = 1;
        } else if (direct && colours == 3 && cm.getColorSpace().getType() == ColorSpace.TYPE_RGB) {
            // Also an RGB image with an embedded ICC profile: the samples as stored, the profile not
            // applied, as Pillow's convert (and so torchvision's training) reads them.
            source = samples(raster, 3, cm, w, h);
            sourceChannels = 3;
            if (!cm.getColorSpace().isCS_sRGB()) {
                notes.add("embedded ICC profile not applied");
            }
        } else {
            // Palettes and other colour spaces: Java's conversion to 8-bit sRGB.
            source = argbPlanes(img.getRGB(0, 0, w, h, null, 0, w), w * h);
            sourceChannels = 3;
        }
        if (cm.getComponentSize(0) > 8 && direct) {
            notes.add(cm.getComponentSize(0) + "-bit samples scaled to [0, 1]");
        }
        float[] out;
        if (sourceChannels == channels) {
            out = source;
        } else if (channels == 3) {
            out = new float[3 * w * h];
            for (int c = 0; c < 3; c++) {
                System.arraycopy(source, 0, out, c * w * h, w * h);
            }
            notes.add("grey replicated to RGB");
        } else {
            out = new float[w * h];
            int plane = w * h;
            for (int i = 0; i < plane; i++) {
                out[i] = 0.299f * source[i] + 0.587f * source[plane + i] + 0.114f * source[2 * plane + i];
            }
            notes.add("colour converted to grey (ITU-R 601 luma)");
        }
        return new Decoded(new Planes(channels, h, w, out), String.join(", ", notes));
    }

    /** The first {@code bands} bands of the raster, each divided by its largest value. */
    private static float[] samples(Raster raster, int bands, ColorModel cm, int w, int h) {
        float[] out = new float[bands * w * h];
        int[] row = new int[w];
        for (int b = 0; b < bands; b++) {
            float max = (float) ((1L << cm.getComponentSize(b)) - 1);
            for (int y = 0; y < h; y++) {
                raster.getSamples(0, y, w, 1, b, row);
                for (int x = 0; x < w; x++) {
                    out[(b * h + y) * w + x] = row[x] / max;
                }
            }
        }
        return out;
    }

    private static float[] argbPlanes(int[] argb, int plane) {
        float[] out = new float[3 * plane];
        for (int i = 0; i < plane; i++) {
            out[i] = ((argb[i] >> 16) & 0xff) / 255f;
            out[plane + i] = ((argb[i] >> 8) & 0xff) / 255f;
            out[2 * plane + i] = (argb[i] & 0xff) / 255f;
        }
        return out;
    }
}
