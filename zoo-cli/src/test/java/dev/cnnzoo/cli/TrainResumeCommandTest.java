package dev.cnnzoo.cli;

import static dev.cnnzoo.cli.ZooCommandTest.zoo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.training.Checkpoint;
import dev.cnnzoo.training.TrainingArtifacts;
import dev.cnnzoo.training.data.SyntheticData;
import dev.cnnzoo.training.run.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `zoo train --resume` goes on with the run as it was made: a finished run stays finished, differing options are refused. */
class TrainResumeCommandTest {
    @TempDir
    Path dir;

    private static String[] args(List<String> base, String... more) {
        List<String> a = new ArrayList<>(base);
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void aFinishedRunSaysSoAndIsNotOverwrittenUnlessMoreEpochsAreAsked() throws Exception {
        Path data = SyntheticData.idx(dir.resolve("data"), 64, 16, 4);        // 4 steps an epoch
        Path out = dir.resolve("run");
        List<String> train = List.of("train", "lenet5-modern", "--data", data.toString(), "--epochs", "1", "--batch", "16", "--threads", "1",
                "--no-progress", "--out", out.toString());
        assertEquals(0, zoo(train.toArray(String[]::new)).exit());
        Path onnx = out.resolve(Trainer.MODEL_FILE);
        Path weights = out.resolve(Trainer.WEIGHTS_FILE);
        byte[] onnxBytes = Files.readAllBytes(onnx);
        byte[] weightBytes = Files.readAllBytes(weights);
        var modified = Files.getLastModifiedTime(weights);

        // The default --epochs (10) is not an order to train on: only an explicit, larger --epochs is.
        for (String[] resume : List.of(args(List.of("train", "lenet5-modern", "--out", out.toString()), "--resume"),
                args(train, "--resume"))) {
            ZooCommandTest.Result r = zoo(resume);
            assertEquals(0, r.exit(), r.err());
            assertTrue(r.out().contains("has finished its 1 epoch (step 4)") && r.out().contains("--resume --epochs N with N above 1"), r.out());
            assertArrayEquals(onnxBytes, Files.readAllBytes(onnx), "model.onnx is kept");
            assertArrayEquals(weightBytes, Files.readAllBytes(weights), "weights.safetensors is kept");
            assertEquals(modified, Files.getLastModifiedTime(weights));
            assertEquals(4, Checkpoint.read(out.resolve(TrainingArtifacts.CHECKPOINT)).step());
        }

        ZooCommandTest.Result more = zoo(args(List.of("train", "lenet5-modern", "--out", out.toString(), "--no-progress", "--threads", "1"),
                "--resume", "--epochs", "2"));
        assertEquals(0, more.exit(), more.err());
        assertTrue(more.out().contains("resuming at step 4") && more.out().contains("trained lenet5-modern for 8 steps"), more.out());
        assertEquals(8, Checkpoint.read(out.resolve(TrainingArtifacts.CHECKPOINT)).step());
        assertFalse(java.util.Arrays.equals(weightBytes, Files.readAllBytes(weights)), "asked for, the run trains on and writes new weights");
    }

    @Test
    void optionsThatDifferFromTheRunAreRefusedAndNamed() throws Exception {
        Path data = SyntheticData.idx(dir.resolve("data"), 64, 16, 5);
        Path out = dir.resolve("run");
        List<String> train = List.of("train", "lenet5-modern", "--data", data.toString(), "--batch", "16", "--threads", "1", "--no-progress",
                "--out", out.toString());
        // A run of one epoch, checkpointing every 2 steps: its checkpoint is at step 4.
        assertEquals(0, zoo(args(train, "--epochs", "1", "--checkpoint-every", "2")).exit());
        Path checkpoint = out.resolve(TrainingArtifacts.CHECKPOINT);
        byte[] before = Files.readAllBytes(checkpoint);

        ZooCommandTest.Result r = zoo(args(List.of("train", "lenet5-modern", "--out", out.toString(), "--resume"), "--lr", "0.01", "--optimizer",
                "sgd", "--batch", "16", "--classes", "5", "--weights", "pretrained"));
        assertEquals(2, r.exit());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.startsWith("zoo: --resume continues the run in " + out + " as it was made, but these options differ from it: "), err);
        assertTrue(err.contains("--lr 0.01 (the run's: 0.001)"), err);
        assertTrue(err.contains("--optimizer sgd(momentum=0.9, weight_decay=0.0) (the run's: nadam("), err);
        assertTrue(err.contains("--classes 5 (the run's: 10)"), err);
        assertTrue(err.contains("--weights pretrained (the run goes on from its checkpoint)"), err);
        assertFalse(err.contains("--batch"), "an option equal to the run's is no difference: " + err);
        assertArrayEquals(before, Files.readAllBytes(checkpoint), "nothing was trained");

        ZooCommandTest.Result shorter = zoo(args(List.of("train", "lenet5-modern", "--out", out.toString(), "--resume"), "--epochs", "0"));
        assertEquals(2, shorter.exit());
        ZooCommandTest.Result fewer = zoo(args(List.of("train", "lenet5-modern", "--out", out.toString(), "--resume", "--data", data.toString()),
                "--augment", "flip"));
        assertTrue(fewer.err().contains("--augment flip (the run's: the data format's default)"), fewer.err());

        // The options the run was made with, repeated, are no difference; more epochs lengthen it; a checkpoint interval may change.
        ZooCommandTest.Result same = zoo(args(train, "--resume", "--epochs", "2", "--checkpoint-every", "3"));
        assertEquals(0, same.exit(), same.err());
        assertEquals(8, Checkpoint.read(checkpoint).step());
        assertEquals(3, ((Number) Checkpoint.read(checkpoint).properties().get("checkpoint_every")).intValue());
    }

    @Test
    void libraryAdviceIsGivenInFlags() throws Exception {
        Path data = SyntheticData.idx(dir.resolve("data"), 32, 16, 6);
        Path out = dir.resolve("run");
        List<String> train = List.of("train", "lenet5-modern", "--data", data.toString(), "--epochs", "1", "--batch", "16", "--threads", "1",
                "--no-progress", "--out", out.toString());
        assertEquals(0, zoo(train.toArray(String[]::new)).exit());
        assertEquals("zoo: " + out + " already holds a training run; use --resume to continue it or --out for a new folder",
                zoo(train.toArray(String[]::new)).err().strip());
        ZooCommandTest.Result wrongInput = zoo(args(train.subList(0, 10), "--out", dir.resolve("other").toString(), "--input", "1x32x32"));
        assertEquals(2, wrongInput.exit());
        assertTrue(wrongInput.err().strip().endsWith("is built for 1×32×32; pass --input 1x28x28"), wrongInput.err());
        assertFalse(Files.exists(dir.resolve("other")), "nothing is written before the data is checked");
    }
}
