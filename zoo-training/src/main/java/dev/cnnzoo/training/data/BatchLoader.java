package dev.cnnzoo.training.data;

import dev.cnnzoo.api.Preprocessing;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Batches of normalised (and, in training, augmented) images, prepared by background threads so the
 * ONNX Runtime thread never waits on decoding. The order of an epoch is a permutation drawn from the
 * run's seed and the epoch; each image's augmentation from the seed, the epoch and the image index.
 * So a resumed run sees exactly the batches an uninterrupted one would.
 */
public final class BatchLoader implements AutoCloseable {
    /** A batch: N×C×H×W images and their labels. */
    public record Batch(Tensor images, long[] labels) {
        public int size() {
            return labels.length;
        }
    }

    private final Dataset data;
    private final Preprocessing pre;
    private final Augmentation augmentation;
    private final long seed;
    private final int batchSize;
    private final ExecutorService workers;

    public BatchLoader(Dataset data, Preprocessing pre, Augmentation augmentation, int batchSize, long seed, int threads) {
        if (pre.channels() != data.channels()) {
            throw new dev.cnnzoo.api.ZooException("the model normalises " + pre.channels() + " channel(s) but " + data.description()
                    + " has " + data.channels());
        }
        this.data = data;
        this.pre = pre;
        this.augmentation = augmentation;
        this.batchSize = batchSize;
        this.seed = seed;
        this.workers = Executors.newFixedThreadPool(Math.max(1, threads), r -> {
            Thread t = new Thread(r, "zoo-batch-loader");
            t.setDaemon(true);
            return t;
        });
    }

    /** Whole batches per training epoch (the last partial batch is dropped, keeping batch statistics comparable). */
    public int batchesPerEpoch() {
        return data.size() / batchSize;
    }

    /** The image order of an epoch. */
    public int[] order(int epoch) {
        int[] idx = new int[data.size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
        for (int i = idx.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        return idx;
    }

    /** The shuffled, augmented batches of a training epoch, from batch {@code first} on, prefetched. */
    public Iterator<Batch> training(int epoch, int first) {
        int[] order = order(epoch);
        return prefetched(first, batchesPerEpoch(), b -> batch(order, b * batchSize, batchSize, epoch, true));
    }

    /**
     * Shard {@code shard} of {@code shards} of each training batch of an epoch: rows
     * {@code [shard·B/shards, (shard+1)·B/shards)} of the batch {@link #training} gives, the same
     * images with the same augmentation, so replicas stepping on their shards together see exactly
     * one process's batches.
     */
    public Iterator<Batch> training(int epoch, int first, int shard, int shards) {
        if (shards < 1 || shard < 0 || shard >= shards || batchSize % shards != 0) {
            throw new IllegalArgumentException("shard " + shard + " of " + shards + " does not divide a batch of " + batchSize);
        }
        int[] order = order(epoch);
        int per = batchSize / shards;
        return prefetched(first, batchesPerEpoch(), b -> batch(order, b * batchSize + shard * per, per, epoch, true));
    }

    /** Every image in order, not augmented, the last batch possibly smaller. */
    public Iterator<Batch> evaluation() {
        int count = (data.size() + batchSize - 1) / batchSize;
        int[] order = new int[data.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        return prefetched(0, count, b -> batch(order, b * batchSize, Math.min(batchSize, data.size() - b * batchSize), -1, false));
    }

    private interface Maker {
        Batch make(int index);
    }

    private Iterator<Batch> prefetched(int first, int end, Maker maker) {
        BlockingQueue<Future<Batch>> ahead = new ArrayBlockingQueue<>(4);
        return new Iterator<>() {
            private int submitted = first;
            private int taken = first;

            private void fill() {
                while (submitted < end && ahead.remainingCapacity() > 0) {
                    int b = submitted++;
                    ahead.add(workers.submit(() -> maker.make(b)));
                }
            }

            @Override
            public boolean hasNext() {
                return taken < end;
            }

            @Override
            public Batch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                fill();
                try {
                    Batch b = ahead.take().get();
                    taken++;
                    fill();
                    return b;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                } catch (java.util.concurrent.ExecutionException e) {
                    Throwable cause = e.getCause();
                    throw cause instanceof RuntimeException re ? re : new IllegalStateException(cause);
                }
            }
        };
    }

    private Batch batch(int[] order, int start, int n, int epoch, boolean augment) {
        int c = data.channels();
        int h = data.height();
        int w = data.width();
        int per = c * h * w;
        float[] images = new float[n * per];
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            int index = order[start + i];
            labels[i] = data.label(index);
            if (augment && augmentation.kinds().contains(Augmentation.Kind.CROP) && data instanceof ImageFolderDataset folders) {
                int[] hw = new int[2];
                float[] full = folders.resized(index, hw);
                SplittableRandom r = random(epoch, index);
                ImageFolderDataset.crop(full, c, hw[0], hw[1], r.nextInt(hw[0] - h + 1), r.nextInt(hw[1] - w + 1), h, images, i * per);
            } else {
                data.pixels(index, images, i * per);
            }
            if (augment && !augmentation.isNone()) {
                augmentation.apply(images, i * per, c, h, w, random(epoch, index + 0x5bd1e995L));
            }
            normalise(images, i * per, c, h * w);
        }
        return new Batch(Tensor.of(Shape.of(n, c, h, w), images), labels);
    }

    private SplittableRandom random(int epoch, long index) {
        return new SplittableRandom((seed * 31 + epoch) * 0x9E3779B97F4A7C15L + index);
    }

    private void normalise(float[] img, int offset, int c, int plane) {
        for (int ch = 0; ch < c; ch++) {
            float mean = pre.mean()[ch];
            float std = pre.std()[ch];
            for (int i = 0; i < plane; i++) {
                img[offset + ch * plane + i] = (img[offset + ch * plane + i] - mean) / std;
            }
        }
    }

    @Override
    public void close() {
        workers.shutdownNow();
    }
}
