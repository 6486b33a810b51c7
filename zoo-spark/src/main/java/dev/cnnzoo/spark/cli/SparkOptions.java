package dev.cnnzoo.spark.cli;

import dev.cnnzoo.spark.ZooSpark;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Option;

/** Where a {@code zoo spark} command runs: the master, Spark settings, how long to wait for executors. */
final class SparkOptions {
    @Option(names = "--master", paramLabel = "URL", defaultValue = ZooSpark.DEFAULT_MASTER,
            description = "Spark master (default ${DEFAULT-VALUE}; spark://HOST:PORT for a standalone cluster).")
    String master;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "A Spark setting, e.g. spark.executor.memory=4g (repeatable).")
    Map<String, String> conf = new LinkedHashMap<>();

    @Option(names = "--executor-wait", paramLabel = "SECONDS", defaultValue = "120",
            description = "On a cluster, how long to wait for a first executor (default ${DEFAULT-VALUE}).")
    long executorWait;

    /** A session with {@code defaults} under the user's settings. */
    SparkSession session(String appName, Map<String, String> defaults) {
        Map<String, String> settings = new LinkedHashMap<>(defaults);
        settings.putAll(conf);
        return ZooSpark.session(master, appName, settings, Duration.ofSeconds(executorWait));
    }
}
