package dev.cnnzoo.spark.cluster;

import dev.cnnzoo.api.ZooException;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Spark standalone cluster on this machine's loopback address, from Spark's own jars: one
 * {@code org.apache.spark.deploy.master.Master} and some {@code org.apache.spark.deploy.worker.Worker}
 * JVMs, started as child processes (each with its log in the work folder). For tests and
 * benchmarks of {@code zoo spark} against a real cluster; {@link #close()} stops every process it
 * started, the executors the workers launched included, within a bounded time.
 */
public final class StandaloneCluster implements AutoCloseable {
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);
    private final Path sparkHome;
    private final Path work;
    private final List<String> javaOptions;
    private final Process master;
    private final int masterPort;
    private final int uiPort;
    private final List<Process> workers = new ArrayList<>();
    /** Executors of killed workers: no longer their descendants, stopped on close all the same. */
    private final List<ProcessHandle> orphans = new ArrayList<>();

    private StandaloneCluster(Path sparkHome, Path work, List<String> javaOptions, Process master, int masterPort, int uiPort) {
        this.sparkHome = sparkHome;
        this.work = work;
        this.javaOptions = javaOptions;
        this.master = master;
        this.masterPort = masterPort;
        this.uiPort = uiPort;
    }

    /**
     * Starts a master and {@code workers} workers of {@code cores} cores and {@code memory} each,
     * and waits until they have registered.
     *
     * @param sparkJars   a folder of Spark's jars (and only Spark's: what a cluster has)
     * @param javaOptions the JVM flags Spark needs on Java 17 (its daemons are started here, not by Spark's scripts)
     * @param work        where logs, the SPARK_HOME and the workers' folders go
     */
    public static StandaloneCluster start(Path sparkJars, List<String> javaOptions, Path work, int workers, int cores, String memory,
            Duration timeout) throws IOException {
        if (!Files.isDirectory(sparkJars)) {
            throw new ZooException("no Spark jars in " + sparkJars);
        }
        Files.createDirectories(work);
        // Workers launch executors with SPARK_HOME/jars on the class path; a RELEASE file marks a distribution's layout.
        Path home = work.resolve("spark-home");
        Files.createDirectories(home);
        Files.writeString(home.resolve("RELEASE"), "Spark from the zoo's build\n");
        Path jars = home.resolve("jars");
        if (!Files.exists(jars)) {
            Files.createSymbolicLink(jars, sparkJars.toAbsolutePath());
        }
        int port = freePort();
        int ui = freePort();
        Process m = launch(home, javaOptions, work.resolve("master.log"), List.of("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                "--port", Integer.toString(port), "--webui-port", Integer.toString(ui)), "256m");
        StandaloneCluster c = new StandaloneCluster(home, work, javaOptions, m, port, ui);
        try {
            c.awaitWorkers(0, timeout);
            for (int i = 0; i < workers; i++) {
                c.addWorker(cores, memory);
            }
            c.awaitWorkers(workers, timeout);
            return c;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** The master's URL, {@code spark://127.0.0.1:PORT}. */
    public String masterUrl() {
        return "spark://127.0.0.1:" + masterPort;
    }

    /** Starts one more worker. */
    public void addWorker(int cores, String memory) throws IOException {
        int n = workers.size();
        Path dir = Files.createDirectories(work.resolve("worker-" + n));
        workers.add(launch(sparkHome, javaOptions, work.resolve("worker-" + n + ".log"), List.of("org.apache.spark.deploy.worker.Worker",
                "--host", "127.0.0.1", "--cores", Integer.toString(cores), "--memory", memory, "--work-dir", dir.toString(),
                "--webui-port", Integer.toString(freePort()), masterUrl()), "256m"));
    }

    /**
     * Kills at once (SIGKILL), as a failing machine would, the worker that launched the newest
     * executor (one of the application running now), and the executors it launched, which the
     * machine's loss would take with it. Returns the worker's index.
     *
     * @throws IllegalStateException when no worker runs an executor
     */
    public int killWorkerOfNewestExecutor() {
        int chosen = -1;
        java.time.Instant newest = java.time.Instant.MIN;
        for (int i = 0; i < workers.size(); i++) {
            if (!workers.get(i).isAlive()) {
                continue;
            }
            for (ProcessHandle p : workers.get(i).descendants().toList()) {
                java.time.Instant started = p.info().startInstant().orElse(java.time.Instant.MIN);
                if (started.isAfter(newest)) {
                    newest = started;
                    chosen = i;
                }
            }
        }
        if (chosen < 0) {
            throw new IllegalStateException("no worker runs an executor");
        }
        Process w = workers.get(chosen);
        List<ProcessHandle> executors = w.descendants().toList();
        w.destroyForcibly();
        executors.forEach(ProcessHandle::destroyForcibly);
        orphans.addAll(executors);
        return chosen;
    }

    /** Waits until the master counts {@code n} alive workers. */
    public void awaitWorkers(int n, Duration timeout) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        Pattern alive = Pattern.compile("\"aliveworkers\"\\s*:\\s*(\\d+)");
        while (true) {
            if (!master.isAlive()) {
                throw new ZooException("the Spark master exited; see " + work.resolve("master.log"));
            }
            try {
                String json = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + uiPort + "/json/")).timeout(Duration.ofSeconds(5))
                        .build(), HttpResponse.BodyHandlers.ofString()).body();
                Matcher m = alive.matcher(json);
                if (m.find() && Integer.parseInt(m.group(1)) >= n) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ZooException("interrupted while starting the cluster");
            }
            if (System.nanoTime() > deadline) {
                throw new ZooException("the Spark cluster did not have " + n + " workers within " + timeout.toSeconds() + " s; see the logs in " + work);
            }
            sleep(300);
        }
    }

    private static Process launch(Path home, List<String> javaOptions, Path log, List<String> args, String heap) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx" + heap);
        cmd.addAll(javaOptions);
        cmd.add("-cp");
        cmd.add(home.resolve("jars") + File.separator + "*");
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SPARK_HOME", home.toString());
        // Spark's launcher code asks for the Scala version of a distribution it cannot find in a build tree.
        pb.environment().put("SPARK_SCALA_VERSION", scala.util.Properties$.MODULE$.versionNumberString().replaceFirst("^(\\d+\\.\\d+).*", "$1"));
        // Loopback only: the daemons and the executors they start bind 127.0.0.1.
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().put("SPARK_LOCAL_HOSTNAME", "127.0.0.1");
        return pb.start();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops the workers (and the executors they launched), then the master; SIGKILL for any still alive after a grace period. */
    @Override
    public void close() {
        List<ProcessHandle> all = new ArrayList<>(orphans);
        for (Process w : workers) {
            w.descendants().forEach(all::add);
            all.add(w.toHandle());
        }
        master.descendants().forEach(all::add);
        all.add(master.toHandle());
        all.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
        for (ProcessHandle p : all) {
            try {
                p.onExit().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (Exception e) {
                p.destroyForcibly();
            }
        }
    }
}
