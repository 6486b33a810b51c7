package dev.cnnzoo.spark.predict;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkFiles;

/**
 * The ONNX Runtime sessions of one executor JVM: one per shipped model, opened by the first task
 * that needs it and shared by every later task and partition on the executor for the
 * application's life (ONNX Runtime's {@code Run} is thread-safe, so concurrent tasks share it).
 * Reopening per partition would pay the model's load (seconds for the larger networks) again
 * and again.
 *
 * <p>The session's intra-op threads are fixed when it opens: the task's cores (Spark's
 * {@code spark.task.cpus}, 1 by default) unless asked otherwise, so that the executor's
 * concurrent tasks, each running on its own cores, never use more threads than the executor has.
 */
public final class ExecutorModels {
    /** An open session and the model it runs. */
    record Loaded(Model model, InferenceSession session) {
    }

    private static final Map<String, Loaded> OPEN = new ConcurrentHashMap<>();
    private static final AtomicInteger OPENED = new AtomicInteger();

    private ExecutorModels() {
    }

    /** The session for {@code shipped}, opened on first use with {@code threads} intra-op threads. */
    static Loaded get(ShippedModel shipped, int threads) {
        return OPEN.computeIfAbsent(shipped.fileName(), name -> {
            OPENED.incrementAndGet();
            Model model = shipped.model();
            return new Loaded(model, InferenceSession.open(Path.of(SparkFiles.get(name)), RuntimeOptions.cpu(threads)));
        });
    }

    /** How many sessions this JVM has opened (tests check that tasks share them). */
    public static int sessionsOpened() {
        return OPENED.get();
    }

    /** Closes every session (a driver that ran in local mode, before it goes on without Spark). */
    public static void closeAll() {
        OPEN.values().forEach(l -> l.session().close());
        OPEN.clear();
    }
}
