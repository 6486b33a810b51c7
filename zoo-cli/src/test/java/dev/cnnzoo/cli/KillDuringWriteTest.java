package dev.cnnzoo.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.io.AtomicFile;
import dev.cnnzoo.training.Checkpoint;
import dev.cnnzoo.training.TrainingArtifacts;
import dev.cnnzoo.training.data.SyntheticData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `zoo export`, `zoo import` and a training run's checkpoint write, each in a JVM of its own killed
 * with SIGKILL at several moments: before writing, as its temporary file appears, and while it is
 * written. After every kill the target is absent, the previous whole file or the new whole file,
 * never a part; the temporary file a kill leaves behind is gone once the next command has run.
 */
class KillDuringWriteTest {
    @TempDir
    Path dir;

    /** When to kill: {@code afterStartMillis} after the start, or {@code afterTemporaryMillis} after a temporary file appears. */
    private record Moment(long afterStartMillis, long afterTemporaryMillis) {
        static Moment afterStart(long ms) {
            return new Moment(ms, -1);
        }

        static Moment afterTemporary(long ms) {
            return new Moment(-1, ms);
        }
    }

    private static List<Path> temporaries(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.filter(AtomicFile::isTemporary).toList();
        }
    }

    /** Runs {@code command} and kills it with SIGKILL at {@code m}; returns whether it was killed (rather than done first). */
    private boolean killAt(List<String> command, Path folder, Moment m) throws Exception {
        Process p = ZooProcess.start(command, Map.of(), dir.resolve("child.log"));
        long start = System.nanoTime();
        long deadline = start + TimeUnit.MINUTES.toNanos(3);
        try {
            if (m.afterStartMillis() >= 0) {
                Thread.sleep(m.afterStartMillis());
            } else {
                while (p.isAlive() && temporaries(folder).isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                Thread.sleep(m.afterTemporaryMillis());
            }
            boolean alive = p.isAlive();
            p.destroyForcibly();                          // SIGKILL on Linux: no shutdown hook, no finally block runs
            assertTrue(p.waitFor(1, TimeUnit.MINUTES));
            return alive;
        } finally {
            p.destroyForcibly();
        }
    }

    /**
     * Kills {@code command} (which writes {@code target}, whose whole new content is {@code fresh}) at
     * each moment, with {@code previous} in place before every kill but the first; checks the target
     * after the kill and the folder after {@code next} has run.
     *
     * @return how many kills left a temporary file behind
     */
    private int killRepeatedly(List<String> command, Path target, byte[] previous, byte[] fresh, String[] next, List<Moment> moments)
            throws Exception {
        int leftBehind = 0;
        for (int i = 0; i < moments.size(); i++) {
            Files.deleteIfExists(target);
            if (i > 0) {
                Files.write(target, previous);
            }
            boolean killed = killAt(command, target.getParent(), moments.get(i));
            String when = "kill " + i + " (" + moments.get(i) + ", " + (killed ? "killed" : "already done") + ")";
            if (Files.exists(target)) {
                byte[] now = Files.readAllBytes(target);
                assertTrue(Arrays.equals(now, fresh) || (i > 0 && Arrays.equals(now, previous)),
                        when + ": the target is the previous whole file or the new whole file, " + now.length + " bytes");
            } else {
                assertEquals(0, i, when + ": the previous file is never lost");
            }
            leftBehind += temporaries(target.getParent()).isEmpty() ? 0 : 1;

            ZooCommandTest.Result r = ZooCommandTest.zoo(next);
            assertEquals(0, r.exit(), r.err());
            assertEquals(List.of(), temporaries(target.getParent()), when + ": the next command removed the dead writer's temporary");
            assertArrayEquals(fresh, Files.readAllBytes(target));
        }
        return leftBehind;
    }

    /** Kill moments for a write that starts after some seconds of building and lasts well under a second. */
    private static final List<Moment> MOMENTS = List.of(Moment.afterStart(300), Moment.afterTemporary(0), Moment.afterTemporary(120),
            Moment.afterTemporary(350));

    @Test
    void aKilledExportLeavesTheOldOrTheNewFileAndNoTemporary() throws Exception {
        Path reference = Files.createDirectory(dir.resolve("reference"));
        Path work = Files.createDirectory(dir.resolve("work"));
        // resnet18: 47 MB, written for most of a second after several seconds of building.
        assertEquals(0, ZooCommandTest.zoo("export", "resnet18", "-o", reference.resolve("old.onnx").toString(), "--seed", "1").exit());
        assertEquals(0, ZooCommandTest.zoo("export", "resnet18", "-o", reference.resolve("new.onnx").toString(), "--seed", "2").exit());
        Path target = work.resolve("resnet18.onnx");
        String[] args = {"export", "resnet18", "-o", target.toString(), "--seed", "2"};
        int leftBehind = killRepeatedly(ZooProcess.command(args), target, Files.readAllBytes(reference.resolve("old.onnx")),
                Files.readAllBytes(reference.resolve("new.onnx")), args, MOMENTS);
        assertTrue(leftBehind > 0, "some kill landed while the file was being written");
    }

    @Test
    void aKilledImportLeavesTheOldOrTheNewFileAndNoTemporary() throws Exception {
        Path reference = Files.createDirectory(dir.resolve("reference"));
        Path work = Files.createDirectory(dir.resolve("work"));
        Path source = reference.resolve("resnet18-other.onnx");
        assertEquals(0, ZooCommandTest.zoo("export", "resnet18", "-o", source.toString(), "--seed", "2").exit());
        Path old = reference.resolve("old.onnx");
        assertEquals(0, ZooCommandTest.zoo("export", "resnet18", "-o", old.toString(), "--seed", "1").exit());
        assertEquals(0, ZooCommandTest.zoo("import", "resnet18", old.toString(), "-o", reference.resolve("old.safetensors").toString()).exit());
        assertEquals(0, ZooCommandTest.zoo("import", "resnet18", source.toString(), "-o", reference.resolve("new.safetensors").toString()).exit());
        byte[] previous = Files.readAllBytes(reference.resolve("old.safetensors"));
        byte[] fresh = Files.readAllBytes(reference.resolve("new.safetensors"));
        // The file names itself in its metadata (zoo.imported_from): the same name for the reference and the target.
        Path target = work.resolve("resnet18.safetensors");
        String[] args = {"import", "resnet18", source.toString(), "-o", target.toString()};
        int leftBehind = killRepeatedly(ZooProcess.command(args), target, previous, fresh, args, MOMENTS);
        assertTrue(leftBehind > 0, "some kill landed while the file was being written");
    }

    @Test
    void aKilledCheckpointWriteLeavesAWholeCheckpointAndTheResumedRunNoTemporary() throws Exception {
        Path data = SyntheticData.idx(dir.resolve("data"), 320, 32, 4);     // 20 steps of 16
        List<Integer> atKill = new ArrayList<>();
        int leftBehind = 0;
        // fashion-cnn's checkpoint (weights and Nadam's two moments) is 17 MB, written after every step.
        for (long delay : new long[] {0, 4, 12}) {
            Path run = dir.resolve("run" + delay);
            List<String> train = new ArrayList<>(List.of("train", "fashion-cnn", "--data", data.toString(), "--epochs", "1", "--batch", "16",
                    "--checkpoint-every", "1", "--threads", "2", "--no-progress", "--out", run.toString()));
            Files.createDirectories(run);
            // Past the first checkpoints (the run's start writes one before any step), then at a temporary's appearance.
            Process p = ZooProcess.start(ZooProcess.command(train.toArray(String[]::new)), Map.of(), dir.resolve("train.log"));
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            Path checkpoint = run.resolve(TrainingArtifacts.CHECKPOINT);
            while (p.isAlive() && System.nanoTime() < deadline && (!Files.exists(checkpoint) || Checkpoint.read(checkpoint).step() < 3)) {
                Thread.sleep(5);
            }
            while (p.isAlive() && System.nanoTime() < deadline && temporaries(run).isEmpty()) {
                Thread.sleep(1);
            }
            Thread.sleep(delay);
            p.destroyForcibly();
            assertTrue(p.waitFor(1, TimeUnit.MINUTES));
            Checkpoint c = Checkpoint.read(checkpoint);           // whole: the previous checkpoint or the new one
            atKill.add((int) c.step());
            leftBehind += temporaries(run).isEmpty() ? 0 : 1;

            train.add("--resume");
            ZooCommandTest.Result r = ZooCommandTest.zoo(train.toArray(String[]::new));
            assertEquals(0, r.exit(), r.err());
            assertEquals(List.of(), temporaries(run), "the resumed run removed the killed run's temporary");
            assertEquals(20, Checkpoint.read(checkpoint).step());
        }
        assertTrue(atKill.stream().allMatch(s -> s >= 3 && s < 20), "killed mid-run: " + atKill);
        assertTrue(leftBehind > 0, "some kill landed while a checkpoint was being written: " + atKill);
    }
}
