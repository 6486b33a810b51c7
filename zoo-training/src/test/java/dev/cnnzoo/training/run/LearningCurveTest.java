package dev.cnnzoo.training.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LearningCurveTest {
    @TempDir
    Path dir;

    /** A metrics log as the trainer writes it: step records every 20 steps, an epoch record per epoch. */
    private static List<JsonNode> log(int epochs, boolean withTest) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> records = new ArrayList<>();
        for (int e = 1; e <= epochs; e++) {
            for (int s = 20; s <= 60; s += 20) {
                records.add(json.readTree("{\"kind\":\"step\",\"epoch\":" + (e - 1) + ",\"step\":" + ((e - 1) * 60 + s)
                        + ",\"loss\":9.9,\"accuracy\":0.01}"));
            }
            records.add(json.readTree("{\"kind\":\"epoch\",\"epoch\":" + e + ",\"step\":" + e * 60 + ",\"train_loss\":" + (2.0 / e)
                    + ",\"train_accuracy\":" + (0.5 + 0.05 * e) + ",\"test_loss\":" + (withTest ? String.valueOf(2.5 / e) : "null")
                    + ",\"test_accuracy\":" + (withTest ? String.valueOf(0.45 + 0.05 * e) : "null") + "}"));
        }
        return records;
    }

    @Test
    void everyEpochUpToTheLastHasTrainAndTestLossAndAccuracyInPercent() throws IOException {
        LearningCurve.Epochs e = LearningCurve.Epochs.of(log(5, true));
        assertEquals(List.of(1.0, 2.0, 3.0, 4.0, 5.0), e.epoch(), "the epoch records, to the last; step records are not plotted");
        assertEquals(List.of(2.0, 1.0, 2.0 / 3, 0.5, 0.4), e.trainLoss(), "the epoch's mean training loss, not single batches'");
        assertEquals(List.of(2.5, 1.25, 2.5 / 3, 0.625, 0.5), e.testLoss());
        assertEquals(75.0, e.trainAccuracy().get(4), 1e-9, "percent, as the command line prints it");
        assertEquals(70.0, e.testAccuracy().get(4), 1e-9);
        assertEquals(e.epoch(), e.testEpoch());

        Path png = dir.resolve("learning_curve.png");
        LearningCurve.write(png, "toy on data", log(5, true));
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(2 * LearningCurve.PANEL_WIDTH, img.getWidth(), "loss and accuracy panels side by side");
        assertEquals(LearningCurve.HEIGHT, img.getHeight());
    }

    @Test
    void withoutATestSplitOnlyTrainingIsPlotted() throws IOException {
        LearningCurve.Epochs e = LearningCurve.Epochs.of(log(2, false));
        assertEquals(List.of(), e.testLoss());
        assertEquals(2, e.trainLoss().size());
        Path png = dir.resolve("curve.png");
        LearningCurve.write(png, "toy", log(2, false));
        assertEquals(2 * LearningCurve.PANEL_WIDTH, ImageIO.read(png.toFile()).getWidth());
        LearningCurve.write(dir.resolve("none.png"), "toy", List.of());
        assertFalse(Files.exists(dir.resolve("none.png")), "nothing to draw before the first epoch ends");
    }
}
