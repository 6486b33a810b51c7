package dev.cnnzoo.spark.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The ring all-reduce between threads over loopback sockets, as replicas use it between executors. */
class RingAllReduceTest {
    private interface Body {
        float[] run(RingAllReduce ring) throws Exception;
    }

    /** Runs {@code body} on {@code n} replicas joined in a ring; returns each replica's result. */
    private static List<float[]> onRing(int n, Body body) throws Exception {
        List<ServerSocket> servers = new ArrayList<>();
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ServerSocket s = new ServerSocket(0, n, InetAddress.getLoopbackAddress());
            servers.add(s);
            addresses.add(new InetSocketAddress(InetAddress.getLoopbackAddress(), s.getLocalPort()));
        }
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<float[]>> results = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                int rank = r;
                results.add(pool.submit(() -> {
                    try (ServerSocket server = servers.get(rank);
                            RingAllReduce ring = RingAllReduce.connect(rank, addresses, server, Duration.ofSeconds(20), () -> false)) {
                        return body.run(ring);
                    }
                }));
            }
            List<float[]> out = new ArrayList<>();
            for (Future<float[]> f : results) {
                out.add(f.get(60, TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    private static float[] vector(int rank, int length) {
        SplittableRandom r = new SplittableRandom(rank);
        float[] v = new float[length];
        for (int i = 0; i < length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    @Test
    void everyReplicaEndsWithTheSameSums() throws Exception {
        for (int n : new int[] {2, 3}) {
            // 100,003 floats: chunks of unequal length, several socket buffers each.
            List<float[]> sums = onRing(n, ring -> {
                float[] v = vector(ring.rank(), 100_003);
                ring.sum(v);
                return v;
            });
            for (int i = 0; i < 100_003; i += 997) {
                double expected = 0;
                for (int r = 0; r < n; r++) {
                    expected += vector(r, 100_003)[i];
                }
                assertEquals(expected, sums.get(0)[i], 1e-5, "element " + i + " of " + n + " replicas");
            }
            for (float[] s : sums) {
                assertArrayEquals(sums.get(0), s, "replicas must agree bit for bit");
            }
        }
    }

    @Test
    void aReplicaThatDiesFailsItsNeighboursInsteadOfHangingThem() throws Exception {
        long started = System.nanoTime();
        List<float[]> results = onRing(2, ring -> {
            if (ring.rank() == 1) {
                return new float[0];      // leaves the ring (its sockets close) without a word
            }
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> ring.sum(vector(0, 1000)));
            assertTrue(e.getMessage().contains("lost its ring neighbours"), e.getMessage());
            return new float[] {1};
        });
        assertEquals(1, results.get(0).length);
        assertTrue(System.nanoTime() - started < 30e9);
    }
}
