package dev.cnnzoo.serve;

import dev.cnnzoo.graph.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Dynamic batching for one model, as Triton's and TorchServe's batchers do it: requests wait in a
 * bounded queue; one worker thread takes the oldest, keeps taking requests until the batch holds
 * {@code maxBatch} rows or {@code maxDelay} has passed since the oldest arrived, runs them as one
 * batch, and hands each request its own rows of every output.
 *
 * <p>Memory stays bounded: the queue holds at most {@code capacity} requests and
 * {@link #submit} refuses the next one at once (the server answers 429) instead of waiting. Requests
 * whose shapes after the batch dimension differ (a model with other dynamic dimensions) never
 * share a batch; a request larger than {@code maxBatch} runs alone. On {@link #close} the queue
 * stops taking requests and everything already in it runs without waiting for the delay.
 */
final class DynamicBatcher implements AutoCloseable {
    /** The queue is full: the client should retry later. */
    static final class QueueFullException extends RequestException {
        private static final long serialVersionUID = 1L;

        QueueFullException(String model, int capacity) {
            super(429, "model " + model + " has " + capacity + " requests queued already; retry later");
        }
    }

    private record Job(Map<String, Tensor> feeds, int rows, long enqueued, CompletableFuture<Map<String, Tensor>> result) {
        boolean fits(Job other) {
            for (Map.Entry<String, Tensor> e : feeds.entrySet()) {
                Tensor t = other.feeds.get(e.getKey());
                if (t == null || t.dtype() != e.getValue().dtype()
                        || !Arrays.equals(Batches.sampleShape(t), Batches.sampleShape(e.getValue()))) {
                    return false;
                }
            }
            return true;
        }
    }

    private final String model;
    private final Function<Map<String, Tensor>, Map<String, Tensor>> run;
    private final int maxBatch;
    private final long maxDelayNanos;
    private final int capacity;
    private final BlockingQueue<Job> queue;
    private final ServerMetrics.BatchMetrics metrics;
    private final Thread worker;
    private static final long SLICE = TimeUnit.MILLISECONDS.toNanos(50);
    private volatile boolean closed;
    /** Run batches as soon as they are gathered, without waiting out the delay (the server is stopping). */
    private volatile boolean draining;
    /** Requests submitted whose batch has not started: those queued and those gathered into the batch being formed. */
    private final java.util.concurrent.atomic.AtomicInteger waiting = new java.util.concurrent.atomic.AtomicInteger();
    /** A request taken from the queue that did not fit the batch being formed; it opens the next one. */
    private Job held;

    /**
     * @param run       runs one batch (every input stacked along dimension 0) and returns every output
     * @param maxBatch  the most rows per run; 1 runs every request alone
     * @param maxDelay  how long the oldest request may wait for others, in nanoseconds
     * @param capacity  the most requests queued at once
     */
    DynamicBatcher(String model, Function<Map<String, Tensor>, Map<String, Tensor>> run, int maxBatch, long maxDelay, int capacity,
            ServerMetrics.BatchMetrics metrics) {
        if (maxBatch < 1 || capacity < 1 || maxDelay < 0) {
            throw new IllegalArgumentException("maxBatch and capacity must be at least 1 and maxDelay at least 0");
        }
        this.model = model;
        this.run = run;
        this.maxBatch = maxBatch;
        this.maxDelayNanos = maxDelay;
        this.capacity = capacity;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.metrics = metrics;
        this.worker = new Thread(this::work, "batcher-" + model);
        this.worker.setDaemon(true);
        this.worker.start();
    }

    int maxBatch() {
        return maxBatch;
    }

    /**
     * Queues a request of {@code rows} rows (every feed's dimension 0).
     *
     * @return its outputs, its own rows only, once its batch has run
     * @throws QueueFullException when {@code capacity} requests are waiting already
     * @throws RequestException   (503) once the batcher is closing
     */
    synchronized CompletableFuture<Map<String, Tensor>> submit(Map<String, Tensor> feeds, int rows) {
        // Synchronized with close(): once closed is set no request can enter the queue, so the
        // worker, finding it closed and empty, leaves nothing behind.
        if (closed) {
            throw new RequestException(503, "the server is shutting down");
        }
        Job job = new Job(feeds, rows, System.nanoTime(), new CompletableFuture<>());
        if (!queue.offer(job)) {
            throw new QueueFullException(model, capacity);
        }
        metrics.queueDepth().set(waiting.incrementAndGet());
        return job.result();
    }

    private void work() {
        try {
            while (true) {
                Job first = held != null ? held : queue.poll(50, TimeUnit.MILLISECONDS);
                held = null;
                if (first == null) {
                    if (closed && queue.isEmpty()) {
                        return;
                    }
                    continue;
                }
                runBatch(gather(first));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failRemaining(new RequestException(503, "the server stopped before this request ran"));
        }
    }

    /** The requests that run with {@code first}: until the batch is full, the delay has passed, or the next one does not fit. */
    private List<Job> gather(Job first) throws InterruptedException {
        List<Job> batch = new ArrayList<>(List.of(first));
        int rows = first.rows();
        long deadline = first.enqueued() + maxDelayNanos;
        while (rows < maxBatch) {
            long wait = draining ? 0 : deadline - System.nanoTime();
            // In slices of at most 50 ms, so that a drain that starts meanwhile is noticed.
            Job next = wait > 0 ? queue.poll(Math.min(wait, SLICE), TimeUnit.NANOSECONDS) : queue.poll();
            if (next == null) {
                if (wait > SLICE) {
                    continue;
                }
                break;
            }
            if (rows + next.rows() > maxBatch || !first.fits(next)) {
                held = next;
                break;
            }
            batch.add(next);
            rows += next.rows();
        }
        return batch;
    }

    private void runBatch(List<Job> batch) {
        long start = System.nanoTime();
        metrics.queueDepth().set(waiting.addAndGet(-batch.size()));
        int rows = 0;
        for (Job j : batch) {
            metrics.queueWait().observe((start - j.enqueued()) / 1e9);
            rows += j.rows();
        }
        Map<String, Tensor> feeds = new LinkedHashMap<>();
        for (String name : batch.get(0).feeds().keySet()) {
            feeds.put(name, Batches.concat(batch.stream().map(j -> j.feeds().get(name)).toList()));
        }
        Map<String, Tensor> outputs;
        try {
            outputs = run.apply(feeds);
        } catch (RuntimeException e) {
            batch.forEach(j -> j.result().completeExceptionally(e));
            return;
        }
        metrics.inference().observe((System.nanoTime() - start) / 1e9);
        metrics.batchSize().observe(rows);
        int from = 0;
        for (Job j : batch) {
            Map<String, Tensor> mine = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> e : outputs.entrySet()) {
                mine.put(e.getKey(), Batches.slice(e.getValue(), from, j.rows()));
            }
            from += j.rows();
            j.result().complete(mine);
        }
    }

    private void failRemaining(RuntimeException e) {
        if (held != null) {
            held.result().completeExceptionally(e);
        }
        for (Job j; (j = queue.poll()) != null; ) {
            j.result().completeExceptionally(e);
        }
    }

    /**
     * Runs every batch as soon as it is gathered from now on, without waiting for the delay; requests
     * are still taken (a stopping server answers those already in flight).
     */
    void drain() {
        draining = true;
    }

    /** Stops taking requests, runs every queued one at once, and waits for the worker to finish. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            draining = true;
        }
        try {
            worker.join();
        } catch (InterruptedException e) {
            worker.interrupt();
            Thread.currentThread().interrupt();
        }
    }
}
