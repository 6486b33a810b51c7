package dev.cnnzoo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./zoo} launcher's first build, with stand-ins for mvn (which, like Debian's Maven 3.8
 * with -B -q, writes colour resets) and java: the user sees no terminal escape codes, and a failed
 * build shows its messages, cleaned, and stops.
 */
class LauncherTest {
    @TempDir
    Path dir;

    private Path script(Path bin, String name, String body) throws IOException {
        Path f = bin.resolve(name);
        Files.writeString(f, "#!/usr/bin/env bash\n" + body + "\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
        return f;
    }

    /**
     * A checkout holding the launcher, with stand-ins for mvn and java in a bin folder first on the
     * PATH: returns `bash zoo list` on it and the PATH to run it with.
     */
    private Map.Entry<List<String>, String> checkout(String mvnBody, String javaBody) throws IOException {
        Path root = Files.createDirectories(dir.resolve("checkout"));
        Files.copy(Path.of(System.getProperty("user.dir")).getParent().resolve("zoo"), root.resolve("zoo"), StandardCopyOption.REPLACE_EXISTING);
        Files.createDirectories(root.resolve("zoo-cli/src"));
        Path bin = Files.createDirectories(dir.resolve("bin"));
        script(bin, "mvn", mvnBody);
        script(bin, "java", javaBody);
        return Map.entry(List.of("bash", root.resolve("zoo").toString(), "list"), bin + ":" + System.getenv("PATH"));
    }

    private ZooProcess.Result launch(String mvnBody) throws Exception {
        Map.Entry<List<String>, String> zoo = checkout(mvnBody, "echo \"ran zoo $*\"");
        return ZooProcess.run(zoo.getKey(), Map.of("PATH", zoo.getValue()));
    }

    @Test
    void theFirstBuildPrintsNoTerminalEscapeCodes() throws Exception {
        ZooProcess.Result r = launch("printf '\\033[0m\\033[0m'; printf '\\033[0m\\033[0m' >&2; mkdir -p zoo-cli/target && touch zoo-cli/target/zoo-cli.jar");
        assertEquals(0, r.exit(), r.err());
        assertEquals("zoo: building the project (first use or sources changed)...", r.err().strip());
        assertFalse(r.err().contains("\u001b") || r.out().contains("\u001b"), "no escape codes: " + r.err().replace("\u001b", "ESC"));
        assertTrue(r.out().strip().startsWith("ran zoo ") && r.out().strip().endsWith(" -cp " + dir.resolve("checkout/zoo-cli/target/zoo-cli.jar")
                + ":" + dir.resolve("checkout/zoo-cli/target/lib/*") + " dev.cnnzoo.cli.Zoo list"), "then runs the zoo: " + r.out());
    }

    @Test
    void aFailedBuildShowsItsMessagesAndStops() throws Exception {
        ZooProcess.Result r = launch("printf '\\033[1;31m[ERROR]\\033[m compilation failure\\n'; exit 1");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("[ERROR] compilation failure\nzoo: the build failed"), r.err().replace("\u001b", "ESC"));
        assertFalse(r.err().contains("\u001b"), r.err().replace("\u001b", "ESC"));
        assertFalse(r.out().contains("ran zoo"), "nothing runs after a failed build");
    }

    /** What the launcher's JVM is started with, the variables given added to this environment and MALLOC_MMAP_THRESHOLD_ removed from it. */
    private String launchedEnvironment(Map<String, String> env) throws Exception {
        Map.Entry<List<String>, String> zoo = checkout("mkdir -p zoo-cli/target && touch zoo-cli/target/zoo-cli.jar",
                "echo \"threshold=${MALLOC_MMAP_THRESHOLD_:-unset} marker=${ZOO_SET_MALLOC_MMAP_THRESHOLD:-unset}\"");
        ProcessBuilder pb = new ProcessBuilder(zoo.getKey()).redirectErrorStream(true);
        pb.environment().remove("MALLOC_MMAP_THRESHOLD_");
        pb.environment().remove("ZOO_SET_MALLOC_MMAP_THRESHOLD");
        pb.environment().put("PATH", zoo.getValue());
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return out.lines().filter(l -> l.startsWith("threshold=")).findFirst().orElseThrow(() -> new AssertionError(out));
    }

    /**
     * The launcher pins glibc's mmap threshold for the zoo and says it did; `--vs-pytorch` then starts
     * PyTorch without it. A threshold the user set is theirs, for both sides.
     */
    @Test
    void theLauncherPinsTheMmapThresholdForTheZooOnly() throws Exception {
        assertEquals("threshold=4194304 marker=1", launchedEnvironment(Map.of()));
        Map<String, String> python = new HashMap<>(Map.of("MALLOC_MMAP_THRESHOLD_", "4194304", "ZOO_SET_MALLOC_MMAP_THRESHOLD", "1",
                "PATH", "/usr/bin"));
        PyTorchBench.withDefaultMalloc(python);
        assertEquals(Map.of("PATH", "/usr/bin"), python);

        assertEquals("threshold=65536 marker=unset", launchedEnvironment(Map.of("MALLOC_MMAP_THRESHOLD_", "65536")));
        Map<String, String> users = new HashMap<>(Map.of("MALLOC_MMAP_THRESHOLD_", "65536"));
        PyTorchBench.withDefaultMalloc(users);
        assertEquals(Map.of("MALLOC_MMAP_THRESHOLD_", "65536"), users);
    }
}
