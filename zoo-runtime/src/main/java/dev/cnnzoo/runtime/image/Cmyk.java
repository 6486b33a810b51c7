package dev.cnnzoo.runtime.image;

import java.io.IOException;
import java.awt.image.Raster;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * Four-channel JPEGs (print files: CMYK, or YCCK, its luma-chroma form), decoded as Pillow decodes
 * and converts them, which is what torchvision's {@code ImageFolder} and recipes see.
 *
 * <p>The JDK's own conversion runs the inks through a colour profile (the embedded ICC profile or
 * its own), giving colours far from other decoders' (a mean red of 174 where Pillow gives 126 on a
 * test card). Instead the raw samples are read ({@link ImageReader#readRaster}, no colour conversion)
 * and converted as Pillow does:
 * <ol>
 *   <li>Adobe's APP14 marker says how the channels were coded: transform 2 is YCCK, luma-chroma for
 *       the first three inks; they are turned back with the JFIF equations (ITU-R BT.601, full
 *       range), R' = Y + 1.402 Cr', G' = Y − 0.344136 Cb' − 0.714136 Cr', B' = Y + 1.772 Cb', and
 *       each ink is 255 − R', 255 − G', 255 − B', as libjpeg's YCCK decoder does. Transform 0 (or no
 *       marker) is plain CMYK.</li>
 *   <li>Photoshop stores inks inverted (255 = no ink), and Pillow reads every four-channel JPEG so
 *       ({@code "CMYK;I"}); then its {@code convert("RGB")} computes R = (255 − K) − C (255 − K)/255, in
 *       integers with its rounding (about (255 − C)(255 − K)/255). An embedded ICC profile
 *       is not applied, by Pillow's {@code convert} nor here.</li>
 * </ol>
 */
final class Cmyk {
    private static final String FORMAT = "javax_imageio_jpeg_image_1.0";
    /** Adobe APP14's transform flag for YCCK. */
    private static final int YCCK = 2;

    private final int transform;
    private final boolean icc;

    private Cmyk(int transform, boolean icc) {
        this.transform = transform;
        this.icc = icc;
    }

    /** The four-channel JPEG {@code reader} holds, or null for any other image. */
    static Cmyk of(ImageReader reader) throws IOException {
        if (!reader.getFormatName().equalsIgnoreCase("jpeg")) {
            return null;
        }
        IIOMetadata metadata = reader.getImageMetadata(0);
        if (metadata == null || !java.util.Arrays.asList(metadata.getMetadataFormatNames()).contains(FORMAT)) {
            return null;
        }
        Element root = (Element) metadata.getAsTree(FORMAT);
        Element sof = first(root, "sof");
        if (sof == null || !"4".equals(sof.getAttribute("numFrameComponents"))) {
            return null;
        }
        Element adobe = first(root, "app14Adobe");
        int transform = adobe == null || adobe.getAttribute("transform").isEmpty() ? 0 : Integer.parseInt(adobe.getAttribute("transform"));
        return new Cmyk(transform, first(root, "app2ICC") != null || hasMarker(root, 0xE2));
    }

    /** Whether the file has an APP marker the JDK keeps as "unknown" (APP2, ICC_PROFILE, where no JFIF marker holds it). */
    private static boolean hasMarker(Element root, int tag) {
        NodeList l = root.getElementsByTagName("unknown");
        for (int i = 0; i < l.getLength(); i++) {
            if (String.valueOf(tag).equals(((Element) l.item(i)).getAttribute("MarkerTag"))) {
                return true;
            }
        }
        return false;
    }

    private static Element first(Element root, String tag) {
        NodeList l = root.getElementsByTagName(tag);
        Node n = l.getLength() == 0 ? null : l.item(0);
        return (Element) n;
    }

    /** The image as RGB (or its luma, for one channel), with the conversion noted. */
    ImageFiles.Decoded decode(ImageReader reader, int channels) throws IOException {
        Raster raster = reader.readRaster(0, null);
        int w = raster.getWidth();
        int h = raster.getHeight();
        int plane = w * h;
        int[] px = raster.getPixels(raster.getMinX(), raster.getMinY(), w, h, (int[]) null);
        float[] rgb = new float[3 * plane];
        int[] inks = new int[4];
        for (int i = 0; i < plane; i++) {
            inks(px, 4 * i, inks);
            int notK = inks[3];                     // Pillow's 255 − K, on its inverted reading
            for (int c = 0; c < 3; c++) {
                rgb[c * plane + i] = (notK - mulDiv255(255 - inks[c], notK)) / 255f;
            }
        }
        String note = (transform == YCCK ? "YCCK" : "CMYK") + " converted to RGB as Pillow does (inverted Adobe inks"
                + (icc ? "; the embedded ICC profile not applied" : "") + ")";
        if (channels == 3) {
            return new ImageFiles.Decoded(new Planes(3, h, w, rgb), note);
        }
        float[] grey = new float[plane];
        for (int i = 0; i < plane; i++) {
            grey[i] = 0.299f * rgb[i] + 0.587f * rgb[plane + i] + 0.114f * rgb[2 * plane + i];
        }
        return new ImageFiles.Decoded(new Planes(1, h, w, grey), note + ", colour converted to grey (ITU-R 601 luma)");
    }

    /** The stored (inverted) C, M, Y, K of the pixel at {@code at}. */
    private void inks(int[] px, int at, int[] out) {
        if (transform != YCCK) {
            System.arraycopy(px, at, out, 0, 4);
            return;
        }
        double y = px[at];
        double cb = px[at + 1] - 128.0;
        double cr = px[at + 2] - 128.0;
        out[0] = 255 - clamp(y + 1.402 * cr);
        out[1] = 255 - clamp(y - 0.344136 * cb - 0.714136 * cr);
        out[2] = 255 - clamp(y + 1.772 * cb);
        out[3] = px[at + 3];
    }

    private static int clamp(double v) {
        return (int) Math.max(0, Math.min(255, Math.round(v)));
    }

    /** a·b/255 rounded as Pillow's MULDIV255 does: t = a·b + 128, ((t >> 8) + t) >> 8. */
    static int mulDiv255(int a, int b) {
        int t = a * b + 128;
        return ((t >> 8) + t) >> 8;
    }
}
