package dev.cnnzoo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cnnzoo.io.AtomicFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where `zoo export -o` cannot write, a real process says why in one line, exits with 2 and leaves
 * no temporary file: a device node (which must survive: renaming over it would replace it), a named
 * pipe, a full disk, a read-only file system, a folder without write permission. The disk and the
 * read-only file system are small tmpfs mounts in a user and mount namespace of the process's own
 * ({@code unshare -rm}); write permission is taken from root by dropping CAP_DAC_OVERRIDE.
 */
class OutputFailuresTest {
    @TempDir
    Path dir;

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static void assertRefusedInOneLine(ZooProcess.Result r, String message) {
        assertEquals(2, r.exit(), r.out() + r.err());
        List<String> lines = r.err().strip().lines().toList();
        assertEquals(1, lines.size(), "one line: " + r.err());
        assertTrue(lines.get(0).startsWith("zoo: ") && lines.get(0).contains(message), "expected '" + message + "': " + r.err());
        assertFalse(r.err().contains("Exception") || r.err().contains("internal error"), r.err());
    }

    private List<Path> temporaries(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.filter(AtomicFile::isTemporary).toList();
        }
    }

    @Test
    void aDeviceNodeIsRefusedAndStaysADevice() throws Exception {
        Path node = dir.resolve("null");
        assumeTrue(ZooProcess.succeeds("mknod", node.toString(), "c", "1", "3"), "mknod needs CAP_MKNOD (root)");
        ZooProcess.Result r = ZooProcess.run(ZooProcess.command("export", "lenet5", "-o", node.toString()), Map.of());
        assertRefusedInOneLine(r, node + " is a character device, not a regular file");
        assertEquals(0020000, (Integer) Files.getAttribute(node, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 0170000, "still a device");
        assertEquals(List.of(), temporaries(dir));
    }

    @Test
    void aNamedPipeIsRefused() throws Exception {
        Path fifo = dir.resolve("pipe.onnx");
        assumeTrue(ZooProcess.succeeds("mkfifo", fifo.toString()), "mkfifo");
        ZooProcess.Result r = ZooProcess.run(ZooProcess.command("export", "lenet5", "-o", fifo.toString()), Map.of());
        assertRefusedInOneLine(r, fifo + " is a named pipe, not a regular file");
        assertTrue(Files.exists(fifo) && !Files.isRegularFile(fifo), "still a pipe");
        assertEquals(List.of(), temporaries(dir));
    }

    /**
     * Runs {@code zoo args} (where "MNT" stands for the mount point) with a tmpfs mounted by
     * {@code mountOptions} in a namespace of its own, then lists what the mount holds.
     */
    private ZooProcess.Result onTmpfs(String mountOptions, String... args) throws Exception {
        assumeTrue(ZooProcess.succeeds("unshare", "-rm", "true"), "user namespaces (unshare -rm)");
        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        List<String> cmd = new ArrayList<>(List.of("unshare", "-rm", "sh", "-c",
                "mount -t tmpfs -o " + mountOptions + " tmpfs \"$0\" || exit 99; \"$@\"; rc=$?; echo; echo \"listing:\"; ls -A \"$0\"; exit $rc",
                mnt.toString()));
        cmd.addAll(ZooProcess.command(java.util.Arrays.stream(args).map(a -> a.replace("MNT", mnt.toString())).toArray(String[]::new)));
        ZooProcess.Result r = ZooProcess.run(cmd, Map.of());
        assumeTrue(r.exit() != 99, "tmpfs mount in a namespace: " + r.err());
        return r;
    }

    private static List<String> listing(ZooProcess.Result r) {
        String out = r.out();
        return out.substring(out.indexOf("listing:") + "listing:".length()).strip().lines().filter(l -> !l.isBlank()).toList();
    }

    @Test
    void aFullDiskIsSaidToBeFullAndLeavesNoTemporaryFile() throws Exception {
        // lenet5-modern's weights are 247 KB; the disk holds 64 KB.
        ZooProcess.Result r = onTmpfs("size=64k", "export", "lenet5-modern", "-o", "MNT/lenet.onnx");
        assertRefusedInOneLine(r, "cannot write " + dir.resolve("mnt/lenet.onnx") + ": no space left on the device (the disk is full)");
        assertEquals(List.of(), listing(r), "neither the file nor its temporary");
    }

    @Test
    void aReadOnlyFileSystemIsSaidToBeReadOnly() throws Exception {
        ZooProcess.Result r = onTmpfs("ro", "export", "lenet5", "-o", "MNT/lenet.onnx");
        assertRefusedInOneLine(r, "cannot write " + dir.resolve("mnt/lenet.onnx") + ": the file system is read-only");
        assertEquals(List.of(), listing(r));
    }

    @Test
    void aFolderOrFileWithoutWritePermissionIsSaidToBe() throws Exception {
        Path locked = Files.createDirectory(dir.resolve("locked"));
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("r-xr-xr-x"));
        List<String> cmd = new ArrayList<>();
        if (isRoot()) {
            // Root passes every permission check through CAP_DAC_OVERRIDE; without it, the folder's bits apply.
            assumeTrue(ZooProcess.succeeds("setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "true"), "setpriv");
            cmd.addAll(List.of("setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--"));
        }
        List<String> export = new ArrayList<>(cmd);
        export.addAll(ZooProcess.command("export", "lenet5", "-o", locked.resolve("lenet.onnx").toString()));
        // A read-only file in a writable folder: a rename could replace it, its permissions say not to.
        Path readOnly = Files.writeString(dir.resolve("kept.onnx"), "keep me");
        Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r--r--r--"));
        List<String> overwrite = new ArrayList<>(cmd);
        overwrite.addAll(ZooProcess.command("export", "lenet5", "-o", readOnly.toString()));
        try {
            ZooProcess.Result r = ZooProcess.run(export, Map.of());
            assertRefusedInOneLine(r, "cannot write " + locked.resolve("lenet.onnx") + ": permission denied (is " + locked
                    + " writable by this user?)");
            assertEquals(List.of(), temporaries(locked));
            r = ZooProcess.run(overwrite, Map.of());
            assertRefusedInOneLine(r, "cannot write " + readOnly + ": the file is read-only");
            assertEquals("keep me", Files.readString(readOnly));
            assertEquals(List.of(), temporaries(dir));
        } finally {
            Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }
}
