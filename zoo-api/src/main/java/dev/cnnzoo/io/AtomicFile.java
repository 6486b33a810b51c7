package dev.cnnzoo.io;

import dev.cnnzoo.api.ZooException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributeView;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one way the zoo writes a file, so that readers see either the old file or the whole new
 * one, never a part, and nothing but a regular file is ever replaced.
 *
 * <ul>
 *   <li>The target must be a regular file or a new path: a folder, a device ({@code /dev/null},
 *       {@code /dev/full}), a named pipe or a socket is refused before anything is written. (Renaming
 *       over a device node would replace it with a regular file.) So is a file whose permissions
 *       forbid writing it, which a rename would otherwise replace. A symbolic link is followed: the
 *       file it points to is replaced and the link stays.</li>
 *   <li>The content goes to a temporary file beside the target, named
 *       {@code .<name>.zoo-<pid>-<random>.tmp} after the writing process, is forced to disk, then
 *       renamed over the target. Every failure removes it.</li>
 *   <li>A process killed mid-write (SIGKILL, power loss) cannot remove its temporary file; the next
 *       write into the same folder removes every zoo temporary file whose process is gone
 *       ({@link #removeStale}).</li>
 *   <li>I/O failures are {@link ZooException}s in the user's terms (disk full, read-only file
 *       system, permission denied; see {@link FileProblems}).</li>
 * </ul>
 */
public final class AtomicFile {
    /** The body of a write. */
    @FunctionalInterface
    public interface Writer {
        void write(OutputStream out) throws IOException;
    }

    /** {@code .<name>.zoo-<pid>-<random>.tmp}: the name part is free text, the tail identifies the writer. */
    private static final Pattern TEMPORARY = Pattern.compile("^\\..*\\.zoo-(\\d+)-[0-9a-z]+\\.tmp$");
    /** A temporary name keeps at most this much of the target's name (file names are limited to 255 bytes). */
    private static final int NAME_PART = 120;
    /**
     * Process start times come from /proc in clock ticks against a boot time in whole seconds, so they
     * can read up to a second late; a process counts as younger than a file only beyond this margin.
     */
    private static final Duration START_TIME_SLACK = Duration.ofSeconds(2);

    private AtomicFile() {
    }

    public static void write(Path target, byte[] content) {
        write(target, out -> out.write(content));
    }

    /**
     * Writes {@code target} through a temporary file and a rename.
     *
     * @throws ZooException when the target may not be written (see the class comment) or writing fails;
     *                      the target is then untouched and no temporary file is left
     */
    public static void write(Path target, Writer body) {
        writeAll(Map.of(target, body));
    }

    /**
     * Writes several files that belong together (a model and its external data): every temporary
     * file is written and forced first, then all are renamed in the given order, so the window in
     * which a kill leaves a mixture of old and new files is the time of a few renames.
     */
    public static void writeAll(Map<Path, Writer> files) {
        Map<Path, Writer> ordered = new LinkedHashMap<>(files);
        List<Path> targets = new ArrayList<>();
        List<Path> temporaries = new ArrayList<>();
        try {
            for (Map.Entry<Path, Writer> e : ordered.entrySet()) {
                Path target = checkTarget(e.getKey());
                targets.add(target);
                prepareFolder(target);
                removeStale(target.getParent());
                temporaries.add(writeTemporary(target, e.getValue()));
            }
            for (int i = 0; i < targets.size(); i++) {
                Path target = checkTarget(targets.get(i));     // again: it may have changed while we wrote
                rename(temporaries.get(i), target);
                temporaries.set(i, null);
            }
            targets.stream().map(Path::getParent).distinct().forEach(AtomicFile::forceFolder);
        } finally {
            for (Path tmp : temporaries) {
                if (tmp != null) {
                    try {
                        Files.deleteIfExists(tmp);
                    } catch (IOException ignored) {
                        // Left for the next write's removeStale, which recognises it once this process ends.
                    }
                }
            }
        }
    }

    /**
     * Where a write to {@code target} would go (the file a symbolic link points to), after checking
     * that it may be written: a regular file or a new path in a folder (or a folder to be made).
     * Writers that append rather than replace (logs) call this before opening the file.
     *
     * @throws ZooException naming what the target is, when it is anything else
     */
    public static Path checkTarget(Path target) {
        if (target.toString().isEmpty()) {
            throw new ZooException("no file name given (the output path is empty)");
        }
        Path absolute;
        try {
            absolute = target.toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw new ZooException("'" + target + "' is not a usable file name: " + e.getReason());
        }
        if (absolute.getFileName() == null) {
            throw new ZooException(target + " is a folder (the file system root), not a file");
        }
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(absolute, BasicFileAttributes.class);
        } catch (java.nio.file.NoSuchFileException e) {
            if (Files.isSymbolicLink(absolute)) {
                throw new ZooException(target + " is a symbolic link to a file that does not exist; remove the link or write elsewhere");
            }
            return absolute;
        } catch (IOException e) {
            throw FileProblems.of(e, "write", target);
        }
        if (attributes.isDirectory()) {
            throw new ZooException(target + " is a folder; give the name of a file to write");
        }
        if (!attributes.isRegularFile()) {
            throw new ZooException(target + " is " + kind(absolute) + ", not a regular file; the zoo writes only regular files "
                    + "(it never replaces a device or a pipe)");
        }
        // A rename would replace a file its permissions protect (only the folder's are checked): refuse, as '>' would.
        if (!Files.isWritable(absolute)) {
            throw new ZooException("cannot write " + target + ": the file is read-only (its permissions forbid writing); make it writable "
                    + "or remove it first");
        }
        if (Files.isSymbolicLink(absolute)) {
            try {
                return absolute.toRealPath();
            } catch (IOException e) {
                throw FileProblems.of(e, "write", target);
            }
        }
        return absolute;
    }

    /** "a character device", "a named pipe"...: the POSIX file type of something that is not a regular file or folder. */
    private static String kind(Path p) {
        try {
            int mode = (Integer) Files.getAttribute(p, "unix:mode");
            return switch (mode & 0170000) {
                case 0020000 -> "a character device";
                case 0060000 -> "a block device";
                case 0010000 -> "a named pipe";
                case 0140000 -> "a socket";
                default -> "a special file";
            };
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "a special file";
        }
    }

    private static void prepareFolder(Path target) {
        Path dir = target.getParent();
        if (Files.isDirectory(dir)) {
            return;
        }
        try {
            Files.createDirectories(dir);
        } catch (FileAlreadyExistsException e) {
            throw new ZooException("cannot write " + target + ": " + e.getFile() + " is a file, not a folder");
        } catch (IOException e) {
            throw FileProblems.of(e, "create the folder for", target);
        }
    }

    private static Path writeTemporary(Path target, Writer body) {
        Path dir = target.getParent();
        String name = target.getFileName().toString();
        if (name.length() > NAME_PART) {
            name = name.substring(0, NAME_PART);
        }
        Path tmp = dir.resolve("." + name + ".zoo-" + ProcessHandle.current().pid() + "-"
                + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36) + ".tmp");
        boolean done = false;
        try {
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                    OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 20)) {
                body.write(out);
                out.flush();
                channel.force(true);
            }
            keepPermissions(target, tmp);
            done = true;
            return tmp;
        } catch (IOException e) {
            throw FileProblems.of(e, "write", target);
        } finally {
            if (!done) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // removeStale takes it once this process has ended
                }
            }
        }
    }

    /** A replaced file keeps its permissions; a new one gets the umask's, like any file the user creates. */
    private static void keepPermissions(Path target, Path tmp) throws IOException {
        PosixFileAttributeView old = Files.getFileAttributeView(target, PosixFileAttributeView.class);
        if (old != null && Files.exists(target)) {
            Files.setPosixFilePermissions(tmp, old.readAttributes().permissions());
        }
    }

    private static void rename(Path tmp, Path target) {
        try {
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw FileProblems.of(e, "write", target);
        }
    }

    /** The rename itself reaches the disk only when the folder is synced (a power loss could undo it otherwise). */
    private static void forceFolder(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // not every file system syncs folders; the file itself is already on disk
        }
    }

    /**
     * Removes the zoo's temporary files in {@code dir} whose writing process is gone (killed before
     * it could clean up). A file whose pid names a live process that started after the file was last
     * written is stale too: the pid was reused. Errors are ignored: this is housekeeping.
     *
     * @return the files removed
     */
    public static List<Path> removeStale(Path dir) {
        List<Path> removed = new ArrayList<>();
        if (dir == null || !Files.isDirectory(dir)) {
            return removed;
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, ".*.zoo-*.tmp")) {
            for (Path p : s) {
                Optional<Long> pid = writerPid(p);
                if (pid.isPresent() && isStale(p, pid.get())) {
                    try {
                        if (Files.deleteIfExists(p)) {
                            removed.add(p);
                        }
                    } catch (IOException ignored) {
                        // another process may have removed it; or the folder is read-only
                    }
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // an unreadable folder: nothing to clean here
        }
        return removed;
    }

    /** The pid of the process that wrote a zoo temporary file, if {@code file}'s name is one. */
    public static Optional<Long> writerPid(Path file) {
        Matcher m = TEMPORARY.matcher(file.getFileName().toString());
        if (!m.matches()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Long.parseLong(m.group(1)));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Whether {@code file} is a zoo temporary file, live or stale. */
    public static boolean isTemporary(Path file) {
        return writerPid(file).isPresent();
    }

    private static boolean isStale(Path file, long pid) {
        if (pid == ProcessHandle.current().pid()) {
            return false;                   // one of ours, being written by another thread
        }
        Optional<ProcessHandle> process = ProcessHandle.of(pid);
        if (process.isEmpty() || !process.get().isAlive()) {
            return true;
        }
        Optional<Instant> started = process.get().info().startInstant();
        if (started.isEmpty()) {
            return false;                   // cannot tell: keep it
        }
        try {
            FileTime modified = Files.getLastModifiedTime(file, LinkOption.NOFOLLOW_LINKS);
            return started.get().isAfter(modified.toInstant().plus(START_TIME_SLACK));
        } catch (IOException e) {
            return false;
        }
    }
}
