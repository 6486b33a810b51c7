package dev.cnnzoo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.training.data.SyntheticData;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training output that is not a terminal (a log file, a pipe, this test) gets one plain line per logged step, no progress bar. */
class TrainProgressTest {
    @TempDir
    Path dir;

    @Test
    void aPlainLinePerLoggedStepWhenOutputIsNotATerminal() throws Exception {
        Path data = SyntheticData.idx(dir.resolve("data"), 640, 32, 9);       // 40 steps of 16; the log records every 20th
        ZooCommandTest.Result r = ZooCommandTest.zoo("train", "lenet5-modern", "--data", data.toString(), "--epochs", "2", "--batch", "16",
                "--threads", "1", "--out", dir.resolve("run").toString());
        assertEquals(0, r.exit(), r.err());
        List<String> steps = r.out().lines().filter(l -> l.startsWith("epoch ") && l.contains(" step ")).toList();
        assertEquals(4, steps.size(), r.out());
        assertTrue(steps.get(0).matches("epoch 1/2 step 20/40: loss \\d+\\.\\d{4}, accuracy \\d+\\.\\d{2}%, lr 1\\.00e-03, \\d+ images/s, "
                + "epoch ends in \\d+(s|m\\d{2}s)"), steps.get(0));
        assertTrue(steps.get(3).startsWith("epoch 2/2 step 40/40: "), steps.get(3));
        assertFalse(r.out().contains("\r") || r.out().contains("%|") || r.out().contains("[="), "no progress bar drawn into the output");
        assertEquals(2, r.out().lines().filter(l -> l.matches("epoch \\d: train loss .*")).count(), "and a line per epoch");

        ZooCommandTest.Result quiet = ZooCommandTest.zoo("train", "lenet5-modern", "--data", data.toString(), "--epochs", "1", "--batch", "16",
                "--threads", "1", "--no-progress", "--out", dir.resolve("quiet").toString());
        assertEquals(0, quiet.exit(), quiet.err());
        assertFalse(quiet.out().contains(" step "), "--no-progress: epoch lines only");
    }
}
