package dev.cnnzoo.training.run;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cnnzoo.io.AtomicFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The learning curve as a PNG: training loss by epoch on the left axis, accuracies on the right. */
public final class LearningCurve {
    private LearningCurve() {
    }

    public static void write(Path png, String title, List<JsonNode> records, long stepsPerEpoch) throws IOException {
        List<Double> lossX = new ArrayList<>();
        List<Double> loss = new ArrayList<>();
        List<Double> epochX = new ArrayList<>();
        List<Double> trainAcc = new ArrayList<>();
        List<Double> testAcc = new ArrayList<>();
        List<Double> testX = new ArrayList<>();
        for (JsonNode r : records) {
            double x = r.path("step").asDouble() / stepsPerEpoch;
            if (r.path("kind").asText().equals("step")) {
                lossX.add(x);
                loss.add(r.path("loss").asDouble());
            } else if (r.path("kind").asText().equals("epoch")) {
                epochX.add(x);
                trainAcc.add(r.path("train_accuracy").asDouble());
                if (r.has("test_accuracy") && !r.get("test_accuracy").isNull()) {
                    testX.add(x);
                    testAcc.add(r.path("test_accuracy").asDouble());
                }
            }
        }
        if (loss.isEmpty()) {
            return;
        }
        XYChart chart = new XYChartBuilder().width(900).height(540).title(title).xAxisTitle("epoch").build();
        chart.setYAxisGroupTitle(0, "training loss");
        chart.setYAxisGroupTitle(1, "accuracy");
        chart.getStyler().setYAxisGroupPosition(1, org.knowm.xchart.style.Styler.YAxisPosition.Right);
        XYSeries l = chart.addSeries("training loss", lossX, loss);
        l.setMarker(SeriesMarkers.NONE);
        if (!trainAcc.isEmpty()) {
            XYSeries a = chart.addSeries("training accuracy", epochX, trainAcc);
            a.setYAxisGroup(1);
        }
        if (!testAcc.isEmpty()) {
            XYSeries t = chart.addSeries("test accuracy", testX, testAcc);
            t.setYAxisGroup(1);
        }
        byte[] bytes = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        AtomicFile.write(png, bytes);
    }
}
