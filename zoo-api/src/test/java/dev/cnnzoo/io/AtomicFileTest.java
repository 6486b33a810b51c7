package dev.cnnzoo.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cnnzoo.api.ZooException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFileTest {
    @TempDir
    Path dir;

    private List<Path> temporaries() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(AtomicFile::isTemporary).toList();
        }
    }

    /** The POSIX file type bits of {@code p}, not following links. */
    private static int type(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS) & 0170000;
    }

    private static boolean run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor() == 0;
    }

    @Test
    void aFolderIsRefusedInOneLine() {
        ZooException e = assertThrows(ZooException.class, () -> AtomicFile.write(dir, new byte[] {1}));
        assertEquals(dir + " is a folder; give the name of a file to write", e.getMessage());
        assertThrows(ZooException.class, () -> AtomicFile.write(Path.of(""), new byte[] {1}), "an empty path is the working folder");
        assertEquals("no file name given (the output path is empty)",
                assertThrows(ZooException.class, () -> AtomicFile.checkTarget(Path.of(""))).getMessage());
    }

    @Test
    void aNamedPipeIsRefusedAndStaysAPipe() throws Exception {
        Path fifo = dir.resolve("pipe");
        assumeTrue(run("mkfifo", fifo.toString()), "mkfifo");
        ZooException e = assertThrows(ZooException.class, () -> AtomicFile.write(fifo, new byte[] {1}));
        assertEquals(fifo + " is a named pipe, not a regular file; the zoo writes only regular files (it never replaces a device or a pipe)",
                e.getMessage());
        assertEquals(0010000, type(fifo), "still a FIFO");
        assertEquals(List.of(), temporaries());
    }

    @Test
    void aDeviceNodeIsNeverReplaced() throws Exception {
        // /dev/null itself is only looked at: a wrong policy must not get to replace the system's device.
        ZooException e = assertThrows(ZooException.class, () -> AtomicFile.checkTarget(Path.of("/dev/null")));
        assertTrue(e.getMessage().startsWith("/dev/null is a character device, not a regular file"), e.getMessage());
        // Writing goes to a device node of our own (mknod needs CAP_MKNOD: root, as in the CI container).
        Path node = dir.resolve("null");
        assumeTrue(run("mknod", node.toString(), "c", "1", "3"), "mknod (root)");
        e = assertThrows(ZooException.class, () -> AtomicFile.write(node, "x".getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().startsWith(node + " is a character device"), e.getMessage());
        assertEquals(0020000, type(node), "still a character device");
        assertEquals(List.of(), temporaries());
    }

    @Test
    void aSymbolicLinkIsFollowedAndKept() throws IOException {
        Path real = Files.writeString(dir.resolve("real.txt"), "old");
        Path link = Files.createSymbolicLink(dir.resolve("link.txt"), real.getFileName());
        AtomicFile.write(link, "new".getBytes(StandardCharsets.UTF_8));
        assertTrue(Files.isSymbolicLink(link), "the link stays a link");
        assertEquals("new", Files.readString(real));
        Path dangling = Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("nowhere"));
        assertTrue(assertThrows(ZooException.class, () -> AtomicFile.write(dangling, new byte[] {1})).getMessage()
                .contains("symbolic link to a file that does not exist"));
    }

    @Test
    void aFailingWriteLeavesTheOldFileAndNoTemporary() throws IOException {
        Path target = Files.writeString(dir.resolve("model.onnx"), "previous whole file");
        ZooException e = assertThrows(ZooException.class, () -> AtomicFile.write(target, out -> {
            out.write(new byte[1 << 21]);
            throw new IOException("No space left on device");
        }));
        assertEquals("cannot write " + target + ": no space left on the device (the disk is full)", e.getMessage());
        assertEquals("previous whole file", Files.readString(target));
        assertEquals(List.of(), temporaries());
        // A failure that is no I/O error (a bug in the body) also removes the temporary file.
        assertThrows(IllegalStateException.class, () -> AtomicFile.write(target, out -> {
            out.write(1);
            throw new IllegalStateException("bug");
        }));
        assertEquals(List.of(), temporaries());
    }

    @Test
    void aFileInsideAFileIsNamed() throws IOException {
        Path file = Files.writeString(dir.resolve("plain"), "x");
        ZooException e = assertThrows(ZooException.class, () -> AtomicFile.write(file.resolve("sub/x.onnx"), new byte[] {1}));
        assertEquals("cannot write " + file.resolve("sub/x.onnx") + ": " + file + " is a file, not a folder", e.getMessage());
    }

    @Test
    void aReplacedFileKeepsItsPermissions() throws IOException {
        Path target = Files.writeString(dir.resolve("w.safetensors"), "old");
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-------"));
        AtomicFile.write(target, "new".getBytes(StandardCharsets.UTF_8));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));
        assertArrayEquals("new".getBytes(StandardCharsets.UTF_8), Files.readAllBytes(target));
    }

    @Test
    void aFolderOrFileWithoutWritePermissionIsRefused() throws IOException {
        assumeTrue(!"root".equals(System.getProperty("user.name")), "root writes anywhere; zoo-cli's OutputFailuresTest drops its rights");
        Path locked = Files.createDirectory(dir.resolve("locked"));
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("r-x------"));
        try {
            ZooException e = assertThrows(ZooException.class, () -> AtomicFile.write(locked.resolve("x"), new byte[] {1}));
            assertTrue(e.getMessage().contains("permission denied"), e.getMessage());
        } finally {
            Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwx------"));
        }
        Path readOnly = Files.writeString(dir.resolve("kept.onnx"), "keep me");
        Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r--r--r--"));
        ZooException e = assertThrows(ZooException.class, () -> AtomicFile.write(readOnly, new byte[] {1}));
        assertTrue(e.getMessage().contains("the file is read-only"), e.getMessage());
        assertEquals("keep me", Files.readString(readOnly), "a rename would have replaced it");
    }

    @Test
    void temporariesOfProcessesThatAreGoneAreRemovedByTheNextWrite() throws Exception {
        Process finished = new ProcessBuilder("true").start();
        finished.waitFor();
        Process sleeping = new ProcessBuilder("sleep", "60").start();
        try {
            Path dead = Files.writeString(dir.resolve(".vgg16.onnx.zoo-" + finished.pid() + "-abc.tmp"), "half");
            Path live = Files.writeString(dir.resolve(".resnet.onnx.zoo-" + sleeping.pid() + "-def.tmp"), "being written");
            Path reused = Files.writeString(dir.resolve(".old.onnx.zoo-" + sleeping.pid() + "-ghi.tmp"), "half");
            // Last written an hour before the process with its pid started: that pid was reused.
            Files.setLastModifiedTime(reused, FileTime.from(sleeping.info().startInstant().orElseThrow().minusSeconds(3600)));
            Path unrelated = Files.writeString(dir.resolve(".notes.tmp"), "not the zoo's");

            AtomicFile.write(dir.resolve("other.onnx"), new byte[] {1});

            assertFalse(Files.exists(dead), "the writer is gone");
            assertFalse(Files.exists(reused), "its pid belongs to a younger process");
            assertTrue(Files.exists(live), "a live writer's file stays");
            assertTrue(Files.exists(unrelated), "only the zoo's own names are touched");
            assertEquals(List.of(), AtomicFile.removeStale(dir), "nothing more to remove while its writer lives");
        } finally {
            sleeping.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        assertEquals(1, AtomicFile.removeStale(dir).size(), "and once its process has ended");
    }

    @Test
    void temporaryNamesCarryThePidAndAreRecognised() {
        assertEquals(java.util.Optional.of(4242L), AtomicFile.writerPid(Path.of(".x.onnx.zoo-4242-k3j2.tmp")));
        assertEquals(java.util.Optional.empty(), AtomicFile.writerPid(Path.of("x.onnx")));
        assertEquals(java.util.Optional.empty(), AtomicFile.writerPid(Path.of(".x.onnx.1234.tmp")));
    }
}
