package dev.cnnzoo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.training.Checkpoint;
import dev.cnnzoo.training.TrainingArtifacts;
import dev.cnnzoo.training.data.SyntheticData;
import dev.cnnzoo.training.run.Trainer;
import dev.cnnzoo.weights.Safetensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real `zoo train` process killed with SIGKILL mid-epoch: its checkpoint is whole at every moment
 * (it is read over and over while the run rewrites it), and `--resume` finishes the run with the
 * same weights as a run that was never interrupted.
 */
class TrainKillTest {
    @TempDir
    Path dir;

    private List<String> trainArgs(Path data, Path out) {
        return List.of("train", "fashion-cnn", "--data", data.toString(), "--epochs", "2", "--batch", "16", "--checkpoint-every", "4",
                "--threads", "2", "--no-progress", "--out", out.toString());
    }

    @Test
    void aKilledRunResumesAndEndsWithTheUninterruptedWeights() throws Exception {
        Path data = SyntheticData.idx(dir.resolve("data"), 320, 32, 4);     // 20 steps per epoch
        Path straight = dir.resolve("straight");
        assertEquals(0, ZooCommandTest.zoo(trainArgs(data, straight).toArray(String[]::new)).exit());

        Path killed = dir.resolve("killed");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Zoo.class.getName()));
        cmd.addAll(trainArgs(data, killed));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("killed.log").toFile()).start();
        Path checkpoint = killed.resolve(TrainingArtifacts.CHECKPOINT);
        long seen = -1;
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (seen < 12 && p.isAlive() && System.nanoTime() < deadline) {
            if (Files.exists(checkpoint)) {
                seen = Checkpoint.read(checkpoint).step();   // must never fail on a half-written file
            }
            Thread.sleep(20);
        }
        assertTrue(p.isAlive(), "the run ended before it could be killed: " + Files.readString(dir.resolve("killed.log")));
        p.destroyForcibly();                                  // SIGKILL on Linux
        assertTrue(p.waitFor(1, TimeUnit.MINUTES));
        long atKill = Checkpoint.read(checkpoint).step();
        assertTrue(atKill >= 12 && atKill < 40, "killed mid-run, last checkpoint at step " + atKill);

        List<String> resume = new ArrayList<>(trainArgs(data, killed));
        resume.add("--resume");
        ZooCommandTest.Result r = ZooCommandTest.zoo(resume.toArray(String[]::new));
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("resuming at step " + atKill), r.out());
        assertEquals(40, Checkpoint.read(checkpoint).step());
        assertTrue(Safetensors.read(straight.resolve(Trainer.WEIGHTS_FILE)).bitEquals(Safetensors.read(killed.resolve(Trainer.WEIGHTS_FILE))),
                "the resumed run ends with the uninterrupted run's weights");
    }

}
