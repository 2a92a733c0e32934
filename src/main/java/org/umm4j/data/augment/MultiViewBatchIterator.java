package org.umm4j.data.augment;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.umm4j.data.ImageDataset;

/**
 * One epoch of multi-view batches from an {@link ImageDataset}, augmented by a {@link Recipe} on worker threads.
 *
 * <p><b>Order and content.</b> The epoch's sample order is {@code 0..size-1}, or with shuffling a Fisher-Yates
 * permutation drawn from {@link SampleSeeds#shuffleRng(long, long)}; batch {@code b} holds positions
 * {@code [b B, (b + 1) B)} of that order (the last batch is shorter unless {@code dropLast}). View {@code v} of
 * sample {@code i} is {@link Recipe#applyView} with the generator of {@code (seed, epoch, i, v)}. Hence batches and
 * their contents are a pure function of {@code (dataset, recipe, batch size, seed, epoch, shuffle, dropLast)}: the
 * number of workers and the thread scheduling change only the speed.
 *
 * <p><b>Prefetching.</b> Each batch is split into chunks of samples that the worker pool ({@code workers} threads,
 * default {@link Runtime#availableProcessors()}) augments concurrently straight into the batch's float buffers. At
 * most {@code prefetch + 1} batches are in flight (default prefetch 2), which bounds memory to a few batches while
 * the consumer trains on the current one. Batches are delivered strictly in order. Each view becomes one NCHW
 * {@link DataType#FLOAT} array, created outside any workspace (the caller may hold one open).
 *
 * <p><b>Errors and shutdown.</b> A failure on a worker (a transform throwing, a dataset read failing) is rethrown to
 * the consumer from {@link #next()} as an {@link AugmentationException} naming the batch, sample index and view,
 * with the worker's exception as cause; the iterator is then closed. {@link #close()} cancels pending work and stops
 * the threads; use try-with-resources. Dataset reads are serialised on the dataset object, so datasets need not be
 * thread-safe; augmentation itself runs in parallel.
 *
 * <p>Build with {@link #builder()}: {@code setDataset}, {@code setRecipe}, {@code setBatchSize} and {@code setSeed}
 * are required; {@code optEpoch} (0), {@code optShuffle} (true), {@code optDropLast} (false), {@code optWorkers}
 * (available processors) and {@code optPrefetch} (2) are optional. Create one iterator per epoch.
 */
public final class MultiViewBatchIterator implements Iterator<MultiViewBatch>, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MultiViewBatchIterator.class);

    private final ImageDataset dataset;
    private final Recipe recipe;
    private final int batchSize;
    private final long seed;
    private final long epoch;
    private final int workers;
    private final int prefetch;
    private final int[] order;
    private final int numBatches;
    private final int[][] viewShapes; // per view {c, h, w}
    private final String threadPrefix;
    private final ExecutorService pool;
    private final ArrayDeque<PendingBatch> pending = new ArrayDeque<>();
    private int submitted;
    private int delivered;
    private boolean closed;
    private final List<Thread> workerThreads = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** A batch being produced: its buffers and the futures of its chunks. */
    private record PendingBatch(int batchIndex, int[] indices, float[][] buffers, List<Future<?>> chunks) {
    }

    private MultiViewBatchIterator(Builder b) {
        this.dataset = b.dataset;
        this.recipe = b.recipe;
        this.batchSize = b.batchSize;
        this.seed = b.seed;
        this.epoch = b.epoch;
        this.workers = b.workers;
        this.prefetch = b.prefetch;
        int n = dataset.size();
        this.order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        if (b.shuffle) {
            SplittableRandom rng = SampleSeeds.shuffleRng(seed, epoch);
            for (int i = n - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        this.numBatches = b.dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
        this.viewShapes = probeViewShapes(dataset, recipe);
        this.threadPrefix = "umm4j-augment-" + Integer.toHexString(System.identityHashCode(this)) + "-";
        AtomicInteger threadCount = new AtomicInteger();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, threadPrefix + threadCount.getAndIncrement());
            t.setDaemon(true); // never keep the JVM alive if a caller forgets close()
            workerThreads.add(t);
            return t;
        };
        this.pool = new ThreadPoolExecutor(workers, workers, 0L, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                factory);
        while (submitted < numBatches && pending.size() < prefetch) {
            pending.add(submit(submitted++));
        }
    }

    /** Output shape of each view, from one pass over a blank image (crop outputs have a fixed size). */
    private static int[][] probeViewShapes(ImageDataset dataset, Recipe recipe) {
        int[][] shapes = new int[recipe.numViews()][];
        FloatImage blank = new FloatImage(dataset.channels(), dataset.height(), dataset.width());
        for (int v = 0; v < shapes.length; v++) {
            FloatImage out;
            try {
                out = recipe.view(v).apply(blank.copy(), new SplittableRandom(v));
            } catch (RuntimeException ex) {
                throw new IllegalArgumentException("recipe " + recipe.name() + " view " + v + " cannot transform the "
                        + dataset.channels() + "x" + dataset.height() + "x" + dataset.width() + " images of dataset "
                        + dataset.name() + ": " + ex.getMessage(), ex);
            }
            shapes[v] = new int[] {out.channels(), out.height(), out.width()};
        }
        return shapes;
    }

    /** @return a builder */
    public static Builder builder() {
        return new Builder();
    }

    private PendingBatch submit(int batchIndex) {
        int from = batchIndex * batchSize;
        int n = Math.min(batchSize, order.length - from);
        int[] indices = new int[n];
        System.arraycopy(order, from, indices, 0, n);
        float[][] buffers = new float[viewShapes.length][];
        for (int v = 0; v < viewShapes.length; v++) {
            buffers[v] = new float[n * viewShapes[v][0] * viewShapes[v][1] * viewShapes[v][2]];
        }
        // About two chunks per worker balances the load without tiny tasks.
        int chunk = Math.max(1, (n + 2 * workers - 1) / (2 * workers));
        List<Future<?>> chunks = new ArrayList<>();
        for (int start = 0; start < n; start += chunk) {
            int s = start;
            int e = Math.min(n, start + chunk);
            chunks.add(pool.submit(() -> augmentChunk(batchIndex, indices, s, e, buffers)));
        }
        return new PendingBatch(batchIndex, indices, buffers, chunks);
    }

    private void augmentChunk(int batchIndex, int[] indices, int start, int end, float[][] buffers) {
        int c = dataset.channels();
        int h = dataset.height();
        int w = dataset.width();
        byte[] raw = new byte[dataset.imageBytes()];
        for (int pos = start; pos < end; pos++) {
            int index = indices[pos];
            if (Thread.currentThread().isInterrupted()) {
                return; // closed: the batch will never be delivered
            }
            FloatImage source;
            try {
                synchronized (dataset) {
                    dataset.copyImage(index, raw, 0);
                }
                source = FloatImage.fromUint8(raw, 0, c, h, w);
            } catch (RuntimeException ex) {
                throw new AugmentationException("reading sample " + index + " of dataset " + dataset.name()
                        + " for batch " + batchIndex + " failed: " + ex, ex);
            }
            for (int v = 0; v < viewShapes.length; v++) {
                FloatImage view;
                try {
                    view = recipe.applyView(source, seed, epoch, index, v);
                } catch (RuntimeException ex) {
                    throw new AugmentationException("recipe " + recipe.name() + " failed on view " + v + " of sample "
                            + index + " (batch " + batchIndex + ", epoch " + epoch + "): " + ex, ex);
                }
                int[] shape = viewShapes[v];
                if (view.channels() != shape[0] || view.height() != shape[1] || view.width() != shape[2]) {
                    throw new AugmentationException("recipe " + recipe.name() + " view " + v + " gave " + view
                            + " for sample " + index + ", expected a fixed shape " + shape[0] + "x" + shape[1] + "x"
                            + shape[2], null);
                }
                System.arraycopy(view.data(), 0, buffers[v], pos * view.size(), view.size());
            }
        }
    }

    /** @return the number of batches of this epoch */
    public int numBatches() {
        return numBatches;
    }

    /** @return the number of worker threads */
    public int workers() {
        return workers;
    }

    /** @return the output shape {@code {channels, height, width}} of view {@code v} */
    public int[] viewShape(int v) {
        return viewShapes[Objects.checkIndex(v, viewShapes.length)].clone();
    }

    /** Name prefix of this iterator's worker threads (tests check that they are gone after close). */
    String threadNamePrefix() {
        return threadPrefix;
    }

    @Override
    public synchronized boolean hasNext() {
        return !closed && delivered < numBatches;
    }

    /**
     * @return the next batch, in order
     * @throws NoSuchElementException when the epoch is over or the iterator is closed
     * @throws AugmentationException  when a worker failed on this batch (the iterator is then closed)
     */
    @Override
    public synchronized MultiViewBatch next() {
        if (!hasNext()) {
            throw new NoSuchElementException(closed ? "iterator is closed" : "epoch " + epoch + " has no more batches");
        }
        PendingBatch head = pending.poll();
        if (submitted < numBatches) {
            pending.add(submit(submitted++));
        }
        try {
            for (Future<?> f : head.chunks()) {
                f.get();
            }
        } catch (ExecutionException ex) {
            close();
            Throwable cause = ex.getCause();
            throw new AugmentationException("augmentation worker failed on batch " + head.batchIndex() + " of epoch "
                    + epoch + ": " + cause.getMessage(), cause);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            close();
            throw new AugmentationException("interrupted while waiting for batch " + head.batchIndex(), ex);
        }
        delivered++;
        int n = head.indices().length;
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = dataset.label(head.indices()[i]);
        }
        List<INDArray> views = new ArrayList<>(viewShapes.length);
        // Detached arrays: the consumer may call next() inside a workspace that is reset every iteration.
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            for (int v = 0; v < viewShapes.length; v++) {
                int[] s = viewShapes[v];
                views.add(Nd4j.create(head.buffers()[v], new long[] {n, s[0], s[1], s[2]}, DataType.FLOAT));
            }
        }
        return new MultiViewBatch(head.batchIndex(), views, labels, head.indices());
    }

    /** Cancels pending batches and stops the worker threads; idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (PendingBatch p : pending) {
            for (Future<?> f : p.chunks()) {
                f.cancel(true);
            }
        }
        pending.clear();
        pool.shutdownNow();
        try {
            if (!pool.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("augmentation workers {}* did not stop within 30 s", threadPrefix);
            }
            // The pool reports termination before its threads have finished exiting; join them so that
            // "closed" really means no worker thread of this iterator is alive.
            for (Thread t : workerThreads) {
                t.join(5_000);
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    /** Builder: {@code setX} required, {@code optX} optional. */
    public static final class Builder {
        private ImageDataset dataset;
        private Recipe recipe;
        private int batchSize = -1;
        private Long seedOrNull;
        private long seed;
        private long epoch;
        private boolean shuffle = true;
        private boolean dropLast;
        private int workers = Runtime.getRuntime().availableProcessors();
        private int prefetch = 2;

        private Builder() {
        }

        /** Required: the source images. */
        public Builder setDataset(ImageDataset dataset) {
            this.dataset = Objects.requireNonNull(dataset, "dataset");
            return this;
        }

        /** Required: the per-view transforms. */
        public Builder setRecipe(Recipe recipe) {
            this.recipe = Objects.requireNonNull(recipe, "recipe");
            return this;
        }

        /** Required: samples per batch, &ge; 1. */
        public Builder setBatchSize(int batchSize) {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
            }
            this.batchSize = batchSize;
            return this;
        }

        /** Required: the run seed. */
        public Builder setSeed(long seed) {
            this.seedOrNull = seed;
            return this;
        }

        /** Optional: the epoch number (default 0); it changes the order and every augmentation. */
        public Builder optEpoch(long epoch) {
            if (epoch < 0) {
                throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
            }
            this.epoch = epoch;
            return this;
        }

        /** Optional: shuffle the sample order (default true). */
        public Builder optShuffle(boolean shuffle) {
            this.shuffle = shuffle;
            return this;
        }

        /** Optional: drop the last incomplete batch (default false). */
        public Builder optDropLast(boolean dropLast) {
            this.dropLast = dropLast;
            return this;
        }

        /** Optional: worker threads, &ge; 1 (default: available processors). */
        public Builder optWorkers(int workers) {
            if (workers < 1) {
                throw new IllegalArgumentException("workers must be >= 1, got " + workers);
            }
            this.workers = workers;
            return this;
        }

        /** Optional: batches prepared ahead of the consumer, &ge; 1 (default 2). */
        public Builder optPrefetch(int prefetch) {
            if (prefetch < 1) {
                throw new IllegalArgumentException("prefetch must be >= 1, got " + prefetch);
            }
            this.prefetch = prefetch;
            return this;
        }

        /**
         * Starts the workers and the first batches.
         *
         * @throws IllegalStateException when a required setting is missing
         */
        public MultiViewBatchIterator build() {
            if (dataset == null) {
                throw new IllegalStateException("setDataset is required");
            }
            if (recipe == null) {
                throw new IllegalStateException("setRecipe is required");
            }
            if (batchSize < 1) {
                throw new IllegalStateException("setBatchSize is required");
            }
            if (seedOrNull == null) {
                throw new IllegalStateException("setSeed is required");
            }
            seed = seedOrNull;
            return new MultiViewBatchIterator(this);
        }
    }
}
