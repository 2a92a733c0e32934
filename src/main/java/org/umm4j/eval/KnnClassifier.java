package org.umm4j.eval;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * k-nearest-neighbour classification of frozen features by cosine similarity.
 *
 * <p>Two standard protocols:
 * <ul>
 *   <li>{@link #majority(int)}: the k nearest training samples vote, one vote each (k = 5 in the UMM paper,
 *       arXiv 2410.00772); ties between classes are broken by the larger summed similarity.</li>
 *   <li>{@link #weighted(int, double)}: class score {@code sum_{j in kNN(i)} exp(cos(x_i, x_j) / T)}
 *       (k = 200, T = 0.1, the protocol of Wu et al. 2018 used by lightly and solo-learn).</li>
 * </ul>
 * Features are L2-normalised row-wise; the similarity matrix is built in blocks of test rows
 * ({@code [block, nTrain]}) so memory stays bounded for large training sets.
 *
 * @param k           neighbours per query
 * @param temperature T of the weighted vote; {@code NaN} for majority voting
 */
public record KnnClassifier(int k, double temperature) {
    private static final int BLOCK = 512;

    /** Validates k and T. */
    public KnnClassifier {
        if (k <= 0) {
            throw new IllegalArgumentException("k must be positive, got " + k);
        }
        if (!Double.isNaN(temperature) && !(temperature > 0)) {
            throw new IllegalArgumentException("temperature must be positive (or NaN for majority voting), got "
                    + temperature);
        }
    }

    /** @return majority voting among k neighbours */
    public static KnnClassifier majority(int k) {
        return new KnnClassifier(k, Double.NaN);
    }

    /** @return similarity-weighted voting, weight exp(cos / T) */
    public static KnnClassifier weighted(int k, double temperature) {
        return new KnnClassifier(k, temperature);
    }

    /** @return the UMM paper's 5-NN majority vote */
    public static KnnClassifier paperDefault() {
        return majority(5);
    }

    /**
     * Classifies {@code test} against {@code train}.
     *
     * @param train       [nTrain, d] features
     * @param trainLabels nTrain labels in [0, numClasses)
     * @param test        [nTest, d] features
     * @param testLabels  nTest labels
     * @param numClasses  number of classes
     * @return top-1 and top-5 accuracy
     */
    public Accuracy evaluate(INDArray train, int[] trainLabels, INDArray test, int[] testLabels, int numClasses) {
        return Accuracy.fromScores(scores(train, trainLabels, test, numClasses), checkedTestLabels(test, testLabels,
                numClasses));
    }

    private static int[] checkedTestLabels(INDArray test, int[] testLabels, int numClasses) {
        Features.checkLabels("testLabels", testLabels, test.rows(), numClasses);
        return testLabels;
    }

    /**
     * @return [nTest][numClasses] vote scores (majority: votes plus a tie-breaking fraction of summed
     *     similarity; weighted: summed exp(cos/T))
     */
    public double[][] scores(INDArray train, int[] trainLabels, INDArray test, int numClasses) {
        Features.checkMatrix("train", train);
        Features.checkMatrix("test", test);
        Features.checkLabels("trainLabels", trainLabels, train.rows(), numClasses);
        if (train.columns() != test.columns()) {
            throw new IllegalArgumentException("train has " + train.columns() + " feature columns but test has "
                    + test.columns());
        }
        int kk = Math.min(k, (int) train.rows());
        INDArray a = normalise(train);
        INDArray b = normalise(test);
        int nTest = (int) test.rows();
        double[][] out = new double[nTest][numClasses];
        int[] idx = new int[kk];
        double[] sim = new double[kk];
        int nTrain = (int) train.rows();
        double[] row = new double[nTrain];
        for (int start = 0; start < nTest; start += BLOCK) {
            int end = Math.min(nTest, start + BLOCK);
            // [nTrain, block] by one GEMM with a transpose flag (INDArray.mmul on a transposed view copies an
            // operand first); in column-major order each query's similarities are one contiguous run
            INDArray st = Nd4j.gemm(a, b.get(NDArrayIndex.interval(start, end), NDArrayIndex.all()), false, true);
            if (st.ordering() != 'f' || st.isView() || st.offset() != 0 || st.data().length() != st.length()) {
                st = st.dup('f');
            }
            java.nio.DoubleBuffer buf = st.data().asNio().asDoubleBuffer();
            for (int r = 0; r < end - start; r++) {
                buf.position(r * nTrain);
                buf.get(row);
                topK(row, kk, idx, sim);
                double[] score = out[start + r];
                if (Double.isNaN(temperature)) {
                    for (int j = 0; j < kk; j++) {
                        // one vote each; the similarity term (< 1 in total) only breaks ties
                        score[trainLabels[idx[j]]] += 1.0 + (sim[j] + 1.0) / (2.0 * kk + 2.0);
                    }
                } else {
                    for (int j = 0; j < kk; j++) {
                        score[trainLabels[idx[j]]] += Math.exp(sim[j] / temperature);
                    }
                }
            }
        }
        return out;
    }

    private static INDArray normalise(INDArray x) {
        INDArray d = x.castTo(DataType.DOUBLE);
        INDArray norms = d.norm2(1).reshape(d.rows(), 1).addi(1e-12);
        return d.divColumnVector(norms);
    }

    /** Selects the k largest entries of {@code row} (unordered) into idx/val by a bounded min-heap. */
    static void topK(double[] row, int k, int[] idx, double[] val) {
        int size = 0;
        for (int i = 0; i < row.length; i++) {
            double v = row[i];
            if (size < k) {
                idx[size] = i;
                val[size] = v;
                siftUp(idx, val, size++);
            } else if (v > val[0]) {
                idx[0] = i;
                val[0] = v;
                siftDown(idx, val, k);
            }
        }
    }

    private static void siftUp(int[] idx, double[] val, int i) {
        while (i > 0) {
            int p = (i - 1) / 2;
            if (val[p] <= val[i]) {
                return;
            }
            swap(idx, val, i, p);
            i = p;
        }
    }

    private static void siftDown(int[] idx, double[] val, int n) {
        int i = 0;
        while (true) {
            int l = 2 * i + 1;
            int r = l + 1;
            int m = i;
            if (l < n && val[l] < val[m]) {
                m = l;
            }
            if (r < n && val[r] < val[m]) {
                m = r;
            }
            if (m == i) {
                return;
            }
            swap(idx, val, i, m);
            i = m;
        }
    }

    private static void swap(int[] idx, double[] val, int a, int b) {
        int ti = idx[a];
        idx[a] = idx[b];
        idx[b] = ti;
        double tv = val[a];
        val[a] = val[b];
        val[b] = tv;
    }
}
