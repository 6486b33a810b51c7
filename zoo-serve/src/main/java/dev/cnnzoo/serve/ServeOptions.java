package dev.cnnzoo.serve;

import dev.cnnzoo.runtime.RuntimeOptions;
import java.time.Duration;

/**
 * How a {@link ModelServer} listens and batches.
 *
 * @param host            the address to bind (127.0.0.1: this machine only)
 * @param port            the TCP port; 0 picks a free one ({@link ModelServer#port()} tells which)
 * @param maxBatch        the most rows a batch runs with
 * @param maxDelay        how long the oldest queued request waits for others to join its batch
 * @param queueCapacity   requests a model queues at most; one more is answered 429
 * @param maxRequestBytes the largest request body; a larger one is answered 413
 * @param eager           load every model at start (true) or on its first request
 * @param runtime         ONNX Runtime's settings for every model's session (device, threads)
 * @param drainTimeout    how long a stop waits for requests in flight before closing connections
 */
public record ServeOptions(String host, int port, int maxBatch, Duration maxDelay, int queueCapacity, long maxRequestBytes, boolean eager,
        RuntimeOptions runtime, Duration drainTimeout) {
    public ServeOptions {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("the port must be 0 to 65535, got " + port);
        }
        if (maxBatch < 1) {
            throw new IllegalArgumentException("the batch limit must be at least 1, got " + maxBatch);
        }
        if (maxDelay.isNegative()) {
            throw new IllegalArgumentException("the batching delay cannot be negative, got " + maxDelay);
        }
        if (queueCapacity < 1) {
            throw new IllegalArgumentException("the queue capacity must be at least 1, got " + queueCapacity);
        }
        if (maxRequestBytes < 1) {
            throw new IllegalArgumentException("the request size limit must be positive, got " + maxRequestBytes);
        }
    }

    /**
     * Loopback, port 8080, batches of up to 8 formed within 5 ms, 256 requests queued per model,
     * bodies up to 64 MiB (eight 3×299×299 images as JSON text take about 25 MB), models loaded at
     * start, ONNX Runtime's default threads on the CPU, 30 s to drain.
     */
    public static ServeOptions defaults() {
        return new ServeOptions("127.0.0.1", 8080, 8, Duration.ofMillis(5), 256, 64L << 20, true, RuntimeOptions.cpu(), Duration.ofSeconds(30));
    }

    public ServeOptions host(String h) {
        return new ServeOptions(h, port, maxBatch, maxDelay, queueCapacity, maxRequestBytes, eager, runtime, drainTimeout);
    }

    public ServeOptions port(int p) {
        return new ServeOptions(host, p, maxBatch, maxDelay, queueCapacity, maxRequestBytes, eager, runtime, drainTimeout);
    }

    public ServeOptions maxBatch(int b) {
        return new ServeOptions(host, port, b, maxDelay, queueCapacity, maxRequestBytes, eager, runtime, drainTimeout);
    }

    public ServeOptions maxDelay(Duration d) {
        return new ServeOptions(host, port, maxBatch, d, queueCapacity, maxRequestBytes, eager, runtime, drainTimeout);
    }

    public ServeOptions queueCapacity(int q) {
        return new ServeOptions(host, port, maxBatch, maxDelay, q, maxRequestBytes, eager, runtime, drainTimeout);
    }

    public ServeOptions maxRequestBytes(long b) {
        return new ServeOptions(host, port, maxBatch, maxDelay, queueCapacity, b, eager, runtime, drainTimeout);
    }

    public ServeOptions eager(boolean e) {
        return new ServeOptions(host, port, maxBatch, maxDelay, queueCapacity, maxRequestBytes, e, runtime, drainTimeout);
    }

    public ServeOptions runtime(RuntimeOptions r) {
        return new ServeOptions(host, port, maxBatch, maxDelay, queueCapacity, maxRequestBytes, eager, r, drainTimeout);
    }

    public ServeOptions drainTimeout(Duration d) {
        return new ServeOptions(host, port, maxBatch, maxDelay, queueCapacity, maxRequestBytes, eager, runtime, d);
    }
}
