package dev.cnnzoo.training.run;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.training.data.Dataset;
import dev.cnnzoo.training.data.Datasets;
import dev.cnnzoo.training.data.Split;
import java.nio.file.Files;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The zoo's shipped Fashion-MNIST weights score on the real test set what their description says. */
class PretrainedAccuracyTest {
    @Test
    void shippedWeightsReachTheirRecordedAccuracy() {
        Assumptions.assumeTrue(Files.isDirectory(Datasets.DEBIAN_FASHION_MNIST), "Debian's dataset-fashion-mnist is not installed");
        ModelZoo zoo = ModelZoo.load();
        Dataset test = Datasets.open(Datasets.DEBIAN_FASHION_MNIST, Split.TEST, 1, 28, 28);
        for (String id : zoo.idsWithPretrained()) {
            String description = zoo.pretrainedInfo(id).orElseThrow().description();
            Matcher m = Pattern.compile("([0-9.]+)% test accuracy").matcher(description);
            if (!description.startsWith("Fashion-MNIST") || !m.find()) {
                continue;
            }
            double recorded = Double.parseDouble(m.group(1)) / 100;
            Model model = zoo.build(id);
            Evaluator.Result r = Evaluator.evaluate(model, zoo.pretrained(id), test, RuntimeOptions.cpu(2), 500);
            // One image is 0.01%: the evaluation is deterministic, so the figure reproduces to the image.
            assertEquals(recorded, r.accuracy(), 1.5e-4, id + " on the Fashion-MNIST test set");
        }
    }
}
