package dev.cnnzoo.training.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.training.Checkpoint;
import dev.cnnzoo.training.Loss;
import dev.cnnzoo.training.Optimizer;
import dev.cnnzoo.training.TrainingArtifacts;
import dev.cnnzoo.training.data.Augmentation;
import dev.cnnzoo.training.data.SyntheticData;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
    @TempDir
    Path dir;

    private static final Trainer TRAINER = new Trainer(new Trainer.Settings(RuntimeOptions.cpu(2), StepEngine.Mode.FUSED, 2, 2));

    private static TrainingJob job(Path data, int epochs, Optimizer opt, double lr) {
        return TrainingJob.builder(data).optimizer(opt).learningRate(lr).schedule(Schedule.cosine()).warmupSteps(2).loss(Loss.crossEntropy())
                .epochs(epochs).batchSize(16).seed(11).checkpointEvery(5).build();
    }

    private static Model model(String id) {
        return ModelZoo.load().build(id, ModelConfig.builder().seed(3).build());
    }

    @Test
    void aRunLearnsWritesItsFilesAndExportsTheNetwork() throws IOException {
        Path data = SyntheticData.idx(dir.resolve("data"), 320, 96, 1);
        Path out = dir.resolve("run");
        Trainer.Outcome o = TRAINER.train(TrainingRun.start(out, model("lenet5-modern"), job(data, 3, Optimizer.adam(), 3e-3)));
        assertEquals(3, o.epochs().size());
        assertEquals(60, o.steps());
        for (String f : List.of(TrainingArtifacts.TRAINING_MODEL, TrainingArtifacts.EVAL_MODEL, TrainingArtifacts.OPTIMIZER_MODEL,
                TrainingArtifacts.CHECKPOINT, TrainingArtifacts.STEP_MODEL, Trainer.METRICS_FILE, Trainer.CURVE_FILE, Trainer.MODEL_FILE,
                Trainer.WEIGHTS_FILE)) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        // The classes are easy to tell apart: the run must learn them.
        assertTrue(o.epochs().get(2).testAccuracy() > 0.9, "test accuracy " + o.epochs().get(2).testAccuracy());
        assertTrue(o.epochs().get(2).trainLoss() < o.epochs().get(0).trainLoss());
        Checkpoint c = Checkpoint.read(out.resolve(TrainingArtifacts.CHECKPOINT));
        assertEquals(60, c.step());
        assertEquals(3, c.epoch());
        assertTrue(c.tensors().containsKey("conv1.weight.exp_avg"));
        assertTrue(Weights.of(c.weights(List.copyOf(o.trained().names())).asMap()).bitEquals(Safetensors.read(out.resolve(Trainer.WEIGHTS_FILE))));
        assertEquals(3 + 60 / 2, Files.readAllLines(out.resolve(Trainer.METRICS_FILE)).size());

        assertTrue(assertThrows(ZooException.class, () -> TRAINER.train(model("lenet5-modern"), job(data, 1, Optimizer.adam(), 1e-3), out))
                .getMessage().contains("already holds a training run; resume it"));
    }

    @Test
    void anInterruptedRunResumesToTheSameWeights() throws IOException {
        Path data = SyntheticData.idx(dir.resolve("data"), 160, 32, 2);
        TrainingJob job = job(data, 2, Optimizer.nadam(), 1e-3);
        Trainer.Outcome straight = TRAINER.train(model("fashion-cnn"), job, dir.resolve("straight"));

        Path out = dir.resolve("interrupted");
        class Crash extends RuntimeException {
        }
        // Stop mid-epoch 2 (step 13 of 20); the last checkpoint was written at step 10 (every 5 steps).
        assertThrows(Crash.class, () -> TRAINER.train(TrainingRun.start(out, model("fashion-cnn"), job), new Trainer.Listener() {
            @Override
            public void step(Trainer.Progress p) {
                if (p.step() == 13) {
                    throw new Crash();
                }
            }
        }));
        assertEquals(10, Checkpoint.read(out.resolve(TrainingArtifacts.CHECKPOINT)).step());
        Trainer.Outcome resumed = TRAINER.train(TrainingRun.resume(out, model("fashion-cnn"), job));
        assertTrue(straight.trained().bitEquals(resumed.trained()), "an interrupted and resumed run ends with the same weights");
        assertEquals(straight.epochs().get(1).trainLoss(), resumed.epochs().get(resumed.epochs().size() - 1).trainLoss(), 0.0,
                "and reports the same epoch figures");
        assertEquals(Files.readAllLines(dir.resolve("straight").resolve(Trainer.METRICS_FILE)).size(),
                Files.readAllLines(out.resolve(Trainer.METRICS_FILE)).size());

        TrainingJob other = job(data, 2, Optimizer.adam(), 1e-3);
        assertTrue(assertThrows(ZooException.class, () -> TRAINER.train(TrainingRun.resume(out, model("fashion-cnn"), other)))
                .getMessage().contains("made by another run: optimizer"));
    }

    @Test
    void aDivergingRunStopsAndKeepsItsLastGoodCheckpoint() throws IOException {
        Path data = SyntheticData.idx(dir.resolve("data"), 160, 16, 3);
        Path out = dir.resolve("diverged");
        TrainingJob wild = TrainingJob.builder(data).optimizer(Optimizer.sgd(0.9, false)).learningRate(1e4).schedule(Schedule.constant())
                .epochs(2).batchSize(16).seed(1).augmentation(Augmentation.none()).checkpointEvery(2).build();
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
                () -> TRAINER.train(ModelZoo.load().build("lenet5-modern"), wild, out));
        assertTrue(e.getMessage().contains("training stopped") && e.getMessage().contains("lower learning rate"), e.getMessage());
        Checkpoint kept = Checkpoint.read(out.resolve(TrainingArtifacts.CHECKPOINT));
        assertTrue(kept.tensors().values().stream().allMatch(t -> !t.isFloating() || allFinite(t.floats())), "the kept checkpoint is finite");
    }

    private static boolean allFinite(float[] a) {
        for (float v : a) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }
}
