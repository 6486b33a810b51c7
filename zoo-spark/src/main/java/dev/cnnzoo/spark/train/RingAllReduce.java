package dev.cnnzoo.spark.train;

import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.training.run.StepEngine;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;

/**
 * Sums float vectors across the replicas of a data-parallel run, each replica sending only to the
 * next in a ring and receiving only from the one before (Patarasuk and Yuan 2009; the layout
 * Horovod and NCCL use): the vector is cut into as many chunks as there are replicas; in N − 1
 * reduce-scatter steps each replica adds the chunk it receives to its own and passes the sum on,
 * so each ends owning one chunk's total; in N − 1 all-gather steps the totals go round. Each
 * replica sends and receives 2(N − 1)/N of the vector, whatever N, and every replica ends with
 * bitwise the same sums (each chunk's total is added up once, by its owner, in ring order).
 *
 * <p>The ring is made over TCP after a rendezvous that tells each replica its neighbours'
 * addresses (Spark's barrier {@code allGather}, once per run: it costs about a second a call, far
 * too slow for the per-step traffic). A neighbour that dies closes its socket, so the survivors
 * fail at their next exchange instead of waiting; reads wake every second to ask whether the task
 * was cancelled.
 */
public final class RingAllReduce implements StepEngine.Combiner, AutoCloseable {
    private static final int POLL_MILLIS = 1000;
    private final int rank;
    private final int size;
    private final Socket toNext;
    private final Socket fromPrevious;
    private final DataOutputStream out;
    private final DataInputStream in;
    private final BooleanSupplier cancelled;
    private final ExecutorService sender;
    private long nanosInCalls;

    private RingAllReduce(int rank, int size, Socket toNext, Socket fromPrevious, BooleanSupplier cancelled) throws IOException {
        this.rank = rank;
        this.size = size;
        this.toNext = toNext;
        this.fromPrevious = fromPrevious;
        this.cancelled = cancelled;
        this.out = toNext == null ? null : new DataOutputStream(new BufferedOutputStream(toNext.getOutputStream(), 1 << 16));
        this.in = fromPrevious == null ? null : new DataInputStream(new PollingInput(fromPrevious.getInputStream(), cancelled));
        this.sender = size == 1 ? null : Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "zoo-ring-send-" + rank);
            t.setDaemon(true);
            return t;
        });
    }

    /** A ring of one: every operation returns its input. */
    public static RingAllReduce alone() {
        try {
            return new RingAllReduce(0, 1, null, null, () -> false);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Joins the ring: connects to replica {@code rank + 1}'s {@code server} address and accepts
     * replica {@code rank − 1} on this one's, within {@code timeout}.
     *
     * @param addresses every replica's listening address, by rank
     */
    public static RingAllReduce connect(int rank, List<InetSocketAddress> addresses, ServerSocket server, Duration timeout,
            BooleanSupplier cancelled) throws IOException {
        int size = addresses.size();
        if (size == 1) {
            return alone();
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        InetSocketAddress next = addresses.get((rank + 1) % size);
        Socket toNext = null;
        while (toNext == null) {
            Socket s = new Socket();
            try {
                s.connect(next, POLL_MILLIS);
                s.setTcpNoDelay(true);
                new DataOutputStream(s.getOutputStream()).writeInt(rank);
                toNext = s;
            } catch (IOException e) {
                s.close();
                if (System.nanoTime() > deadline || cancelled.getAsBoolean()) {
                    throw new IOException("replica " + rank + " cannot reach replica " + (rank + 1) % size + " at " + next + ": " + e.getMessage(), e);
                }
                sleep(100);
            }
        }
        server.setSoTimeout(POLL_MILLIS);
        Socket fromPrevious = null;
        while (fromPrevious == null) {
            try {
                Socket s = server.accept();
                s.setTcpNoDelay(true);
                s.setSoTimeout(POLL_MILLIS);
                int peer = new DataInputStream(s.getInputStream()).readInt();
                if (peer != (rank - 1 + size) % size) {
                    s.close();
                    throw new IOException("replica " + rank + " was reached by replica " + peer + ", not " + (rank - 1 + size) % size);
                }
                fromPrevious = s;
            } catch (SocketTimeoutException e) {
                if (System.nanoTime() > deadline || cancelled.getAsBoolean()) {
                    toNext.close();
                    throw new IOException("replica " + rank + " was not reached by replica " + (rank - 1 + size) % size + " within " + timeout.toSeconds() + " s");
                }
            }
        }
        return new RingAllReduce(rank, size, toNext, fromPrevious, cancelled);
    }

    public int rank() {
        return rank;
    }

    public int size() {
        return size;
    }

    /** Seconds spent in collective calls so far (the all-reduce's share of a step, when compared with the step). */
    public double secondsInCalls() {
        return nanosInCalls / 1e9;
    }

    /** Replaces {@code data} by its sum over the replicas, in place. */
    public void sum(float[] data) {
        if (size == 1) {
            return;
        }
        long started = System.nanoTime();
        try {
            int[] bounds = new int[size + 1];
            for (int c = 0; c <= size; c++) {
                bounds[c] = (int) ((long) data.length * c / size);
            }
            float[] received = new float[bounds[1] - bounds[0] + 1];
            for (int s = 0; s < size - 1; s++) {
                int send = Math.floorMod(rank - s, size);
                int recv = Math.floorMod(rank - s - 1, size);
                exchange(data, bounds[send], bounds[send + 1], received, bounds[recv + 1] - bounds[recv]);
                for (int i = bounds[recv]; i < bounds[recv + 1]; i++) {
                    data[i] += received[i - bounds[recv]];
                }
            }
            for (int s = 0; s < size - 1; s++) {
                int send = Math.floorMod(rank - s + 1, size);
                int recv = Math.floorMod(rank - s, size);
                exchange(data, bounds[send], bounds[send + 1], received, bounds[recv + 1] - bounds[recv]);
                System.arraycopy(received, 0, data, bounds[recv], bounds[recv + 1] - bounds[recv]);
            }
        } catch (IOException e) {
            // Not a ZooException: a lost replica is the infrastructure's failure, worth another attempt from the checkpoint.
            throw new java.io.UncheckedIOException("replica " + rank + " lost its ring neighbours (" + e.getMessage() + "); a replica has failed", e);
        } finally {
            nanosInCalls += System.nanoTime() - started;
        }
    }

    /** Sums of a few figures (loss, hits, images) over the replicas, in double precision. */
    public double[] sum(double... values) {
        float[] hi = new float[values.length * 2];
        // Two floats per double (its float part and the remainder) keep counts of millions exact.
        for (int i = 0; i < values.length; i++) {
            hi[2 * i] = (float) values[i];
            hi[2 * i + 1] = (float) (values[i] - (float) values[i]);
        }
        sum(hi);
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (double) hi[2 * i] + hi[2 * i + 1];
        }
        return out;
    }

    /** The element-wise mean of each tensor over the replicas: one all-reduce of them all, laid end to end. */
    @Override
    public Map<String, Tensor> mean(Map<String, Tensor> local) {
        int total = 0;
        for (Tensor t : local.values()) {
            total += t.floats().length;
        }
        float[] flat = new float[total];
        int at = 0;
        for (Tensor t : local.values()) {
            float[] v = t.floats();
            System.arraycopy(v, 0, flat, at, v.length);
            at += v.length;
        }
        sum(flat);
        float scale = 1f / size;
        Map<String, Tensor> out = new LinkedHashMap<>();
        at = 0;
        for (Map.Entry<String, Tensor> e : local.entrySet()) {
            float[] v = new float[e.getValue().floats().length];
            for (int i = 0; i < v.length; i++) {
                v[i] = flat[at + i] * scale;
            }
            at += v.length;
            out.put(e.getKey(), Tensor.of(e.getValue().shape(), v));
        }
        return out;
    }

    /** Sends {@code data[from, to)} to the next replica while receiving {@code count} floats from the previous one. */
    private void exchange(float[] data, int from, int to, float[] into, int count) throws IOException {
        Future<?> sending = sender.submit(() -> {
            write(data, from, to);
            return null;
        });
        read(into, count);
        try {
            sending.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
    }

    private void write(float[] data, int from, int to) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = from; i < to; ) {
            b.clear();
            int n = Math.min(to - i, b.capacity() / 4);
            b.asFloatBuffer().put(data, i, n);
            out.write(b.array(), 0, n * 4);
            i += n;
        }
        out.flush();
    }

    private void read(float[] into, int count) throws IOException {
        byte[] bytes = new byte[1 << 16];
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; ) {
            int n = Math.min(count - i, bytes.length / 4);
            in.readFully(bytes, 0, n * 4);
            b.clear();
            b.asFloatBuffer().get(into, i, n);
            i += n;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        if (sender != null) {
            sender.shutdownNow();
        }
        for (Socket s : new Socket[] {toNext, fromPrevious}) {
            if (s != null) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing a socket to a replica that is gone cannot be helped
                }
            }
        }
    }

    /** A socket's input that waits in one-second reads, giving up when the task is cancelled. */
    private static final class PollingInput extends InputStream {
        private final InputStream in;
        private final BooleanSupplier cancelled;

        PollingInput(InputStream in, BooleanSupplier cancelled) {
            this.in = in;
            this.cancelled = cancelled;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            while (true) {
                try {
                    int n = in.read(b, off, len);
                    if (n < 0) {
                        throw new EOFException("the previous replica closed the connection");
                    }
                    return n;
                } catch (SocketTimeoutException e) {
                    if (cancelled.getAsBoolean()) {
                        throw new IOException("the task was cancelled");
                    }
                }
            }
        }
    }
}
