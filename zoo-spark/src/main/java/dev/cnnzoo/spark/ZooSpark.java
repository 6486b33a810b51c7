package dev.cnnzoo.spark;

import dev.cnnzoo.api.ZooException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * Spark sessions for the zoo: {@value #DEFAULT_MASTER} unless a master is named, a standalone
 * master checked to answer before Spark is started (Spark itself retries an unreachable master for
 * a minute, then leaves jobs waiting), and executors awaited for a bounded time.
 */
public final class ZooSpark {
    /** The embedded default: every core of this machine. */
    public static final String DEFAULT_MASTER = "local[*]";
    /**
     * A class-path list of the zoo's jars (not Spark's) to ship to a cluster's executors as
     * {@code spark.jars}; the {@code zoo spark} launcher sets it.
     */
    public static final String SHIP_PROPERTY = "zoo.spark.jars";
    /** How long a master has to accept a connection. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

    private ZooSpark() {
    }

    /**
     * A session on {@code master} with {@code settings} (any {@code spark.*} key) applied; on a
     * cluster, waits up to {@code executorWait} for a first executor.
     *
     * @throws ZooException when a {@code spark://} master does not answer, or no executor joins in time
     */
    public static SparkSession session(String master, String appName, Map<String, String> settings, Duration executorWait) {
        String m = master == null ? DEFAULT_MASTER : master;
        checkReachable(m);
        SparkConf conf = new SparkConf().setMaster(m).setAppName(appName)
                // Spark's UI is of no use to a command that ends with its job, and its port may be taken.
                .set("spark.ui.enabled", "false");
        String ship = System.getProperty(SHIP_PROPERTY);
        if (ship != null && !ship.isBlank() && !m.startsWith("local")) {
            conf.set("spark.jars", String.join(",", ship.split(java.io.File.pathSeparator)));
        }
        settings.forEach(conf::set);
        SparkSession session = SparkSession.builder().config(conf).getOrCreate();
        if (!m.startsWith("local")) {
            try {
                awaitExecutors(session.sparkContext(), executorWait);
            } catch (RuntimeException e) {
                session.stop();
                throw e;
            }
        }
        return session;
    }

    /** A {@code spark://host:port[,host:port]} master must accept a TCP connection within {@link #CONNECT_TIMEOUT}. */
    static void checkReachable(String master) {
        if (!master.startsWith("spark://")) {
            return;
        }
        for (String hostPort : master.substring("spark://".length()).split(",")) {
            URI uri = URI.create("spark://" + hostPort);
            if (uri.getHost() == null || uri.getPort() < 0) {
                throw new ZooException("the Spark master URL " + master + " is not spark://HOST:PORT");
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), (int) CONNECT_TIMEOUT.toMillis());
                return;
            } catch (IOException e) {
                // try the next master of a high-availability list
                if (!master.contains(",")) {
                    throw new ZooException("cannot reach the Spark master " + master + " (" + e.getMessage() + ")");
                }
            }
        }
        throw new ZooException("cannot reach any of the Spark masters " + master);
    }

    /** Waits until the application has an executor. */
    public static void awaitExecutors(SparkContext sc, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        // The driver is listed among the executors' infos; a cluster's executors come on top.
        while (sc.statusTracker().getExecutorInfos().length < 2) {
            if (sc.isStopped()) {
                throw new ZooException("the cluster at " + sc.master() + " ended the application before an executor started "
                        + "(executors failed to launch: see the workers' logs)");
            }
            if (System.nanoTime() > deadline) {
                throw new ZooException("no executor joined the application on " + sc.master() + " within " + timeout.toSeconds()
                        + " s (are workers registered with the master, with enough free cores and memory?)");
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ZooException("interrupted while waiting for executors");
            }
        }
    }

    /** The cores each task has: the threads one task's ONNX Runtime session may use without oversubscribing. */
    public static int taskCores() {
        org.apache.spark.TaskContext tc = org.apache.spark.TaskContext.get();
        return tc == null ? Runtime.getRuntime().availableProcessors() : Math.max(1, tc.cpus());
    }
}
