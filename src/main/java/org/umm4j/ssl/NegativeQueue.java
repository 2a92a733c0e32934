package org.umm4j.ssl;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * MoCo's first-in-first-out dictionary of negative keys (He et al., "Momentum Contrast for Unsupervised Visual
 * Representation Learning", CVPR 2020): at most K l2-normalised keys of dimension D.
 *
 * <p>Explicit operations: {@link #enqueue} appends a batch of keys (normalising each row), evicting the oldest
 * keys once K is exceeded; {@link #dequeue} removes the n oldest keys; {@link #negatives()} returns a [size, D]
 * copy, oldest first, to pass to {@link MocoV2} as the extra "queue". The usual MoCo step is
 * {@code loss = moco.compute(...queue.negatives()...)}, then {@code queue.enqueue(keys)} with the keys of the
 * current batch. MoCo starts from a full queue of random unit vectors: {@link #random}. Not thread-safe; the queue
 * is per-trainer state, never static.
 */
public final class NegativeQueue {
    private final int capacity;
    private final int dim;
    private final DataType dataType;
    private final Deque<INDArray> keys = new ArrayDeque<>();

    /**
     * An empty queue.
     *
     * @param capacity K &gt; 0
     * @param dim      D &gt; 0
     * @param dataType FLOAT or DOUBLE
     */
    public NegativeQueue(int capacity, int dim, DataType dataType) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive, got " + capacity);
        }
        if (dim <= 0) {
            throw new IllegalArgumentException("dim must be positive, got " + dim);
        }
        if (dataType == null || !dataType.isFPType()) {
            throw new IllegalArgumentException("dataType must be FLOAT or DOUBLE, got " + dataType);
        }
        this.capacity = capacity;
        this.dim = dim;
        this.dataType = dataType;
    }

    /** A full queue of K random unit vectors drawn from a seeded Gaussian, as MoCo initialises it. */
    public static NegativeQueue random(int capacity, int dim, DataType dataType, long seed) {
        NegativeQueue q = new NegativeQueue(capacity, dim, dataType);
        q.enqueue(Nd4j.getRandomFactory().getNewRandomInstance(seed).nextGaussian(new long[]{capacity, dim})
                .castTo(dataType));
        return q;
    }

    /**
     * Appends the rows of {@code batch} ([B, D]) after l2-normalising them, then drops the oldest keys while more
     * than K are held.
     */
    public void enqueue(INDArray batch) {
        Tensors.requireMatrix("keys", batch);
        if (batch.columns() != dim) {
            throw new IllegalArgumentException("keys shape " + Tensors.shape(batch) + " must have " + dim + " columns");
        }
        INDArray unit = Tensors.normalizeRows(batch.castTo(dataType), Tensors.rowNorms(batch.castTo(dataType)));
        for (int r = 0; r < unit.rows(); r++) {
            keys.addLast(unit.getRow(r).dup());
        }
        while (keys.size() > capacity) {
            keys.removeFirst();
        }
    }

    /** Removes and returns the n oldest keys as [n, D]; n must not exceed {@link #size()}. */
    public INDArray dequeue(int count) {
        if (count < 0 || count > keys.size()) {
            throw new IllegalArgumentException("count must be in [0, " + keys.size() + "], got " + count);
        }
        INDArray out = Nd4j.create(dataType, count, dim);
        for (int r = 0; r < count; r++) {
            out.putRow(r, keys.removeFirst());
        }
        return out;
    }

    /** @return the held keys as a [size, D] copy, oldest first */
    public INDArray negatives() {
        INDArray out = Nd4j.create(dataType, keys.size(), dim);
        int r = 0;
        for (INDArray k : keys) {
            out.putRow(r++, k);
        }
        return out;
    }

    public int size() {
        return keys.size();
    }

    public int capacity() {
        return capacity;
    }

    public int dim() {
        return dim;
    }
}
