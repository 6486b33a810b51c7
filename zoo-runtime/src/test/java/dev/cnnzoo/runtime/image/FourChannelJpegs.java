package dev.cnnzoo.runtime.image;

import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/** Test files: YCCK JPEGs, which neither Pillow nor the JDK writes of its own accord. */
final class FourChannelJpegs {
    private static final String FORMAT = "javax_imageio_jpeg_image_1.0";

    private FourChannelJpegs() {
    }

    /**
     * The CMYK JPEG {@code cmyk} rewritten as YCCK, as libjpeg's encoder makes it (Adobe transform 2):
     * the first three stored inks become R, G, B = 255 − ink, then JFIF's Y, Cb, Cr; K stays. The
     * JDK's writer stores a raster's samples as given, so it writes these values under the marker.
     */
    static Path ycck(Path cmyk, Path out) throws IOException {
        ImageReader reader = ImageIO.getImageReadersByFormatName("jpeg").next();
        try (ImageInputStream in = ImageIO.createImageInputStream(cmyk.toFile())) {
            reader.setInput(in);
            IIOMetadata metadata = reader.getImageMetadata(0);
            var raster = reader.readRaster(0, null).createCompatibleWritableRaster();
            var source = reader.readRaster(0, null);
            int[] px = new int[4];
            for (int y = 0; y < raster.getHeight(); y++) {
                for (int x = 0; x < raster.getWidth(); x++) {
                    source.getPixel(x, y, px);
                    double r = 255 - px[0];
                    double g = 255 - px[1];
                    double b = 255 - px[2];
                    int luma = clamp(0.299 * r + 0.587 * g + 0.114 * b);
                    int cb = clamp(128 - 0.168736 * r - 0.331264 * g + 0.5 * b);
                    int cr = clamp(128 + 0.5 * r - 0.418688 * g - 0.081312 * b);
                    raster.setPixel(x, y, new int[] {luma, cb, cr, px[3]});
                }
            }
            Node tree = metadata.getAsTree(FORMAT);
            ((Element) ((Element) tree).getElementsByTagName("app14Adobe").item(0)).setAttribute("transform", "2");
            metadata.setFromTree(FORMAT, tree);
            ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(0.95f);
            try (ImageOutputStream o = ImageIO.createImageOutputStream(out.toFile())) {
                writer.setOutput(o);
                writer.write(null, new IIOImage(raster, null, metadata), param);
            } finally {
                writer.dispose();
            }
        } finally {
            reader.dispose();
        }
        return out;
    }

    private static int clamp(double v) {
        return (int) Math.max(0, Math.min(255, Math.round(v)));
    }
}
