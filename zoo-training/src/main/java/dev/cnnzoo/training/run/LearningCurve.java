package dev.cnnzoo.training.run;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cnnzoo.io.AtomicFile;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The learning curve as a PNG, from the metrics log's epoch records: loss on the left, accuracy in
 * percent on the right (as the command line prints it), each for the training images (averaged over
 * the epoch's steps, as the epoch line reports) and the test images (evaluated after the epoch), at
 * every epoch up to the last one run.
 */
public final class LearningCurve {
    static final int PANEL_WIDTH = 640;
    static final int HEIGHT = 460;
    private static final Color TRAIN = new Color(0x1f5a96);
    private static final Color TEST = new Color(0xc25e0e);

    /** Per-epoch figures from the log. */
    record Epochs(List<Double> epoch, List<Double> trainLoss, List<Double> trainAccuracy, List<Double> testEpoch, List<Double> testLoss,
            List<Double> testAccuracy) {
        static Epochs of(List<JsonNode> records) {
            Epochs e = new Epochs(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>(),
                    new ArrayList<>());
            for (JsonNode r : records) {
                if (!r.path("kind").asText().equals("epoch")) {
                    continue;
                }
                double epoch = r.path("epoch").asDouble();
                e.epoch.add(epoch);
                e.trainLoss.add(r.path("train_loss").asDouble());
                e.trainAccuracy.add(100 * r.path("train_accuracy").asDouble());
                if (r.path("test_loss").isNumber() && r.path("test_accuracy").isNumber()) {
                    e.testEpoch.add(epoch);
                    e.testLoss.add(r.path("test_loss").asDouble());
                    e.testAccuracy.add(100 * r.path("test_accuracy").asDouble());
                }
            }
            return e;
        }
    }

    private LearningCurve() {
    }

    /** Writes the curve of the epochs in {@code records} (nothing before the first epoch has ended). */
    public static void write(Path png, String title, List<JsonNode> records) throws IOException {
        Epochs e = Epochs.of(records);
        if (e.epoch().isEmpty()) {
            return;
        }
        XYChart loss = panel(title + ": loss", "cross-entropy loss", e);
        series(loss, "training loss (epoch mean)", e.epoch(), e.trainLoss(), TRAIN);
        series(loss, "test loss", e.testEpoch(), e.testLoss(), TEST);
        XYChart accuracy = panel(title + ": accuracy", "accuracy, %", e);
        series(accuracy, "training accuracy (epoch mean)", e.epoch(), e.trainAccuracy(), TRAIN);
        series(accuracy, "test accuracy", e.testEpoch(), e.testAccuracy(), TEST);
        accuracy.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);

        BufferedImage image = new BufferedImage(2 * PANEL_WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.drawImage(BitmapEncoder.getBufferedImage(loss), 0, 0, null);
            g.drawImage(BitmapEncoder.getBufferedImage(accuracy), PANEL_WIDTH, 0, null);
        } finally {
            g.dispose();
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ImageIO.write(image, "png", bytes);
        AtomicFile.write(png, bytes.toByteArray());
    }

    private static XYChart panel(String title, String yTitle, Epochs e) {
        XYChart chart = new XYChartBuilder().width(PANEL_WIDTH).height(HEIGHT).title(title).xAxisTitle("epoch").yAxisTitle(yTitle).build();
        var s = chart.getStyler();
        s.setLegendPosition(Styler.LegendPosition.InsideNE);
        s.setChartBackgroundColor(Color.WHITE);
        s.setSeriesColors(new Color[] {TRAIN, TEST});
        double last = e.epoch().get(e.epoch().size() - 1);
        // Half an epoch of margin each side; ticks at whole epochs: XChart takes the smallest round step
        // whose ticks stand at least the hint apart, and about PANEL_WIDTH - 80 pixels hold last + 1 steps.
        s.setXAxisMin(0.5);
        s.setXAxisMax(last + 0.5);
        s.setXAxisDecimalPattern("0");
        s.setXAxisTickMarkSpacingHint((int) Math.max(60, (PANEL_WIDTH - 80) / (last + 1) - 1));
        return chart;
    }

    private static void series(XYChart chart, String name, List<Double> x, List<Double> y, Color colour) {
        if (x.isEmpty()) {
            return;
        }
        XYSeries s = chart.addSeries(name, x, y);
        s.setMarker(SeriesMarkers.CIRCLE);
        s.setLineColor(colour);
        s.setMarkerColor(colour);
    }
}
