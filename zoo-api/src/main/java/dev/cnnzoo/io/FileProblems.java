package dev.cnnzoo.io;

import dev.cnnzoo.api.ZooException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * What went wrong with a file, in a user's words: the operating system's reasons ("No space left
 * on device", "Read-only file system", "Permission denied"...) become a sentence naming the file and
 * what would help, instead of a Java exception's name.
 */
public final class FileProblems {
    private FileProblems() {
    }

    /** A user error for {@code e}, which happened while doing {@code action} ("write", "read") to {@code file}. */
    public static ZooException of(IOException e, String action, Path file) {
        return new ZooException(describe(e, action, file), e);
    }

    /** A user error for an I/O failure whose file only the exception knows. */
    public static ZooException of(IOException e) {
        return new ZooException(describe(e), e);
    }

    /** {@link #describe(IOException, String, Path)} with the file the exception names, if any. */
    public static String describe(IOException e) {
        if (e instanceof FileSystemException f && f.getFile() != null) {
            return describe(e, "use", Path.of(f.getFile()));
        }
        return describe(e, "use", null);
    }

    /** {@link #describe(IOException)} for an {@link UncheckedIOException}. */
    public static String describe(UncheckedIOException e) {
        return describe(e.getCause());
    }

    /**
     * One sentence: "cannot write runs/x/checkpoint: no space left on the device (the disk is full)".
     *
     * @param file the file the caller meant, or null to take it from the exception
     */
    public static String describe(IOException e, String action, Path file) {
        String what = file != null ? file.toString() : e instanceof FileSystemException f && f.getFile() != null ? f.getFile() : "a file";
        String reason = reason(e);
        String r = reason.toLowerCase(Locale.ROOT);
        String head = "cannot " + action + " " + what + ": ";
        if (r.contains("no space left")) {
            return head + "no space left on the device (the disk is full)";
        }
        if (r.contains("quota")) {
            return head + "the disk quota is exceeded";
        }
        if (r.contains("read-only file system")) {
            return head + "the file system is read-only";
        }
        if (e instanceof AccessDeniedException || r.contains("permission denied") || r.contains("operation not permitted")) {
            Path dir = file == null ? null : file.toAbsolutePath().getParent();
            return head + "permission denied" + (action.equals("write") && dir != null ? " (is " + dir + " writable by this user?)" : "");
        }
        if (e instanceof NoSuchFileException || r.contains("no such file")) {
            String other = e instanceof FileSystemException f && f.getFile() != null && file != null && !f.getFile().equals(file.toString())
                    ? f.getFile() : null;
            return head + (other != null ? other + " does not exist" : "it does not exist");
        }
        if (r.contains("is a directory")) {
            return head + "it is a folder, not a file";
        }
        if (e instanceof NotDirectoryException || r.contains("not a directory")) {
            Path blocking = file == null ? null : fileOnPath(file.toAbsolutePath());
            return head + (blocking != null ? blocking + " is a file, not a folder" : "a part of its path is a file, not a folder");
        }
        if (e instanceof FileAlreadyExistsException) {
            return head + ((FileAlreadyExistsException) e).getFile() + " exists and is not a folder";
        }
        if (r.contains("file name too long")) {
            return head + "the file name is too long";
        }
        if (r.contains("file too large")) {
            return head + "the file is larger than this file system or the process's file-size limit allows";
        }
        if (r.contains("input/output error")) {
            return head + "the device reported an I/O error";
        }
        return head + reason;
    }

    /** The first ancestor of {@code p} that exists and is not a folder, if any. */
    private static Path fileOnPath(Path p) {
        Path blocking = null;
        for (Path a = p.getParent(); a != null; a = a.getParent()) {
            if (java.nio.file.Files.exists(a) && !java.nio.file.Files.isDirectory(a)) {
                blocking = a;
            }
        }
        return blocking;
    }

    /** The operating system's reason, without Java's "path -> path: " framing. */
    private static String reason(IOException e) {
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
