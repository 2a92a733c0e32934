package org.umm4j.crr;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * An immutable {@code m x k} membership matrix {@code P} stored by columns (compressed sparse
 * column): column {@code j} lists the rows {@code i} with {@code P[i, j] != 0} and their weights.
 *
 * <p>This is the shape the coding rate wants: {@code Rc(Z|P)} needs, for every class {@code j},
 * only the support {@code S_j} of {@code P_j = diag(P[:, j])} and its weights, and by Sylvester's
 * identity {@code logdet(I_d + c Z^T P_j Z) = logdet(I_s + c W^1/2 Z_S Z_S^T W^1/2)} with
 * {@code s = |S_j|}. Built by {@link Memberships#instanceTopK} (k nearest neighbours per row) or
 * {@link #fromDense}. Rows are validated to sum to 1 (tolerance {@value Memberships#ROW_SUM_TOLERANCE})
 * with non-negative finite weights.
 */
public final class SparseMembership {
    private final int rows;
    private final int cols;
    private final int[][] support;
    private final double[][] weights;

    /**
     * @param rows    m, the number of samples
     * @param cols    k, the number of classes (columns)
     * @param support for each column, the strictly increasing row indices of its non-zeros
     * @param weights for each column, the matching non-negative weights
     * @throws IllegalArgumentException on inconsistent sizes, out-of-range or unsorted rows,
     *                                  negative or non-finite weights, or rows not summing to 1
     */
    public SparseMembership(int rows, int cols, int[][] support, double[][] weights) {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("rows, cols: expected positive sizes, got " + rows + " x " + cols);
        }
        if (support == null || weights == null || support.length != cols || weights.length != cols) {
            throw new IllegalArgumentException("support, weights: expected one array per column (" + cols + ")");
        }
        this.rows = rows;
        this.cols = cols;
        this.support = new int[cols][];
        this.weights = new double[cols][];
        double[] rowSum = new double[rows];
        for (int j = 0; j < cols; j++) {
            int[] s = support[j];
            double[] w = weights[j];
            if (s == null || w == null || s.length != w.length) {
                throw new IllegalArgumentException("support[" + j + "], weights[" + j + "]: expected equal lengths");
            }
            for (int t = 0; t < s.length; t++) {
                if (s[t] < 0 || s[t] >= rows || (t > 0 && s[t] <= s[t - 1])) {
                    throw new IllegalArgumentException("support[" + j + "]: expected strictly increasing row indices in [0, "
                            + rows + "), got " + Arrays.toString(s));
                }
                if (!(w[t] >= 0) || Double.isInfinite(w[t])) {
                    throw new IllegalArgumentException("weights[" + j + "]: expected finite non-negative weights, got " + w[t]);
                }
                rowSum[s[t]] += w[t];
            }
            this.support[j] = s.clone();
            this.weights[j] = w.clone();
        }
        for (int i = 0; i < rows; i++) {
            if (Math.abs(rowSum[i] - 1) > Memberships.ROW_SUM_TOLERANCE) {
                throw new IllegalArgumentException("membership: expected every row to sum to 1 (tolerance "
                        + Memberships.ROW_SUM_TOLERANCE + "), row " + i + " sums to " + rowSum[i]);
            }
        }
    }

    /**
     * Compresses a dense membership matrix.
     *
     * @param p {@code m x k} membership, rows summing to 1
     * @return the same matrix by columns
     */
    public static SparseMembership fromDense(INDArray p) {
        Checks.matrix("P", p);
        int m = (int) p.rows();
        int k = (int) p.columns();
        double[] v = Checks.finiteDoubles("P", p);
        int[][] s = new int[k][];
        double[][] w = new double[k][];
        for (int j = 0; j < k; j++) {
            int n = 0;
            for (int i = 0; i < m; i++) {
                if (v[i * k + j] != 0) {
                    n++;
                }
            }
            s[j] = new int[n];
            w[j] = new double[n];
            n = 0;
            for (int i = 0; i < m; i++) {
                double x = v[i * k + j];
                if (x != 0) {
                    s[j][n] = i;
                    w[j][n++] = x;
                }
            }
        }
        return new SparseMembership(m, k, s, w);
    }

    /** @return m, the number of samples (rows) */
    public int rows() {
        return rows;
    }

    /** @return k, the number of classes (columns) */
    public int cols() {
        return cols;
    }

    /** @return the number of stored non-zeros */
    public long nonZeros() {
        long n = 0;
        for (int[] s : support) {
            n += s.length;
        }
        return n;
    }

    /**
     * @param j column
     * @return a copy of the row indices of column {@code j}
     */
    public int[] support(int j) {
        return support[j].clone();
    }

    /**
     * @param j column
     * @return a copy of the weights of column {@code j}
     */
    public double[] weights(int j) {
        return weights[j].clone();
    }

    /* Package-private zero-copy access for the rate computations (never mutated there). */
    int[] supportRef(int j) {
        return support[j];
    }

    double[] weightsRef(int j) {
        return weights[j];
    }

    /**
     * @param type data type of the result
     * @return the dense {@code m x k} matrix
     */
    public INDArray toDense(DataType type) {
        double[] v = new double[rows * cols];
        for (int j = 0; j < cols; j++) {
            for (int t = 0; t < support[j].length; t++) {
                v[support[j][t] * cols + j] = weights[j][t];
            }
        }
        return Checks.create(v, rows, cols, type);
    }
}
