package dev.cnnzoo.cli;

import static dev.cnnzoo.cli.ZooCommandTest.zoo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.testkit.Conformance;
import dev.cnnzoo.testkit.Python;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code zoo export ID --features-only} for every id in the zoo writes a file that passes the full
 * ONNX checker and whose outputs are the stages its {@code zoo.feature_info} lists. One checker
 * process for all of them.
 */
@Conformance
class FeaturesOnlyExportConformanceTest {
    @TempDir
    Path dir;

    @Test
    void everyIdExportedForItsFeaturesOnlyPassesTheFullChecker() throws IOException {
        ModelZoo models = ModelZoo.load();
        List<String> files = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (ModelInfo info : models.list()) {
            Path file = dir.resolve(info.id() + "-features.onnx");
            ZooCommandTest.Result r = zoo("export", info.id(), "--features-only", "-o", file.toString());
            assertEquals(0, r.exit(), info.id() + ": " + r.err());
            files.add(file.toString());
            int stages = models.build(info.id(), ModelConfig.builder().featuresOnly(true).build()).graph().featureStages().size();
            expected.add("ok " + file + " " + stages);
        }
        try {
            String out = Python.runResource(getClass(), "check_feature_exports.py", files.toArray(String[]::new));
            for (String line : expected) {
                assertTrue(out.lines().anyMatch(line::equals), line + " in\n" + out);
            }
        } finally {
            for (String f : files) {
                Files.deleteIfExists(Path.of(f));
            }
        }
    }
}
