package org.umm4j.crr;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/** Argument validation shared by the crr classes; every message names the argument. */
final class Checks {
    private Checks() {
    }

    static void matrix(String name, INDArray a) {
        if (a == null) {
            throw new IllegalArgumentException(name + ": expected a matrix, got null");
        }
        if (a.rank() != 2) {
            throw new IllegalArgumentException(name + ": expected a rank-2 matrix, got rank " + a.rank()
                    + " with shape " + Arrays.toString(a.shape()));
        }
        if (a.rows() < 1 || a.columns() < 1) {
            throw new IllegalArgumentException(name + ": expected a non-empty matrix, got shape "
                    + Arrays.toString(a.shape()));
        }
        DataType t = a.dataType();
        if (t != DataType.DOUBLE && t != DataType.FLOAT) {
            throw new IllegalArgumentException(name + ": expected data type DOUBLE or FLOAT, got " + t);
        }
    }

    /**
     * Row-major copy as double. Bulk NIO copy of a c-ordered array (a fresh one, such as a GEMM's result, is read in
     * place; views and other layouts are copied first): ND4J's {@code DataBuffer.asDouble()} converts element by
     * element and is an order of magnitude slower.
     */
    static double[] toDoubles(INDArray a) {
        INDArray c = plain(a, 'c') ? a : a.dup('c');
        if (c.dataType() != DataType.DOUBLE && c.dataType() != DataType.FLOAT) {
            c = c.castTo(DataType.DOUBLE);
        }
        return read(c);
    }

    /**
     * Row-major doubles of a square matrix that is symmetric up to rounding (a Gram product): a contiguous buffer is
     * read as is whatever its order, since the transpose of a symmetric matrix is itself; the entries {@code (i, j)}
     * and {@code (j, i)} may then trade their last-bit rounding, which nothing downstream distinguishes.
     */
    static double[] symmetricToDoubles(INDArray g) {
        if (g.rank() != 2 || g.rows() != g.columns()) {
            throw new IllegalArgumentException("expected a square matrix, got " + Arrays.toString(g.shape()));
        }
        boolean floating = g.dataType() == DataType.DOUBLE || g.dataType() == DataType.FLOAT;
        return floating && (plain(g, 'c') || plain(g, 'f')) ? read(g) : toDoubles(g);
    }

    /** Whether {@code a} owns a whole buffer laid out in {@code order} (no view, no offset). */
    private static boolean plain(INDArray a, char order) {
        return a.ordering() == order && !a.isView() && a.offset() == 0 && a.data().length() == a.length();
    }

    /** The buffer of a plain FLOAT or DOUBLE array, as doubles in memory order (bulk NIO copy). */
    private static double[] read(INDArray c) {
        int n = Math.toIntExact(c.length());
        double[] r = new double[n];
        if (c.dataType() == DataType.DOUBLE) {
            c.data().asNio().asDoubleBuffer().get(r);
        } else {
            float[] f = new float[n];
            c.data().asNio().asFloatBuffer().get(f);
            for (int i = 0; i < n; i++) {
                r[i] = f[i];
            }
        }
        return r;
    }

    /**
     * A fresh c-ordered {@code rows x cols} array of the given type from row-major doubles. Bulk NIO copy into the
     * new buffer: {@code Nd4j.create(float[]/double[], ...)} stores element by element (a fifth of a top-k dR at
     * m = 1000, d = 512 went there).
     */
    static INDArray create(double[] v, int rows, int cols, DataType type) {
        if ((long) rows * cols != v.length) {
            throw new IllegalArgumentException("expected " + rows + " x " + cols + " values, got " + v.length);
        }
        if (type == DataType.FLOAT) {
            float[] f = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                f[i] = (float) v[i];
            }
            INDArray a = Nd4j.create(DataType.FLOAT, new long[]{rows, cols}, 'c');
            a.data().asNio().asFloatBuffer().put(f);
            return a;
        }
        INDArray a = Nd4j.create(DataType.DOUBLE, new long[]{rows, cols}, 'c');
        a.data().asNio().asDoubleBuffer().put(v);
        return type == DataType.DOUBLE ? a : a.castTo(type);
    }

    /** Row-major copy as double, checked finite (the scan is O(size), negligible next to the maths). */
    static double[] finiteDoubles(String name, INDArray a) {
        double[] v = toDoubles(a);
        for (int i = 0; i < v.length; i++) {
            if (!Double.isFinite(v[i])) {
                long c = a.columns();
                throw new IllegalArgumentException(name + ": expected finite values, got " + v[i]
                        + " at (" + (i / c) + ", " + (i % c) + ")");
            }
        }
        return v;
    }

    /** Features and temperature of an instance membership: a FLOAT/DOUBLE matrix with at least 2 rows, tau > 0. */
    static void instanceInput(INDArray z, double tau) {
        matrix("Z", z);
        positive("tau", tau);
        if (z.rows() < 2) {
            throw new IllegalArgumentException("Z: expected at least 2 rows for an instance membership, got " + z.rows());
        }
    }

    /** Neighbours per row of a top-k instance membership over m samples. */
    static void neighbours(int k, int m) {
        if (k < 1 || k > m - 1) {
            throw new IllegalArgumentException("k: expected 1 <= k <= m - 1 = " + (m - 1) + ", got " + k);
        }
    }

    static void positive(String name, double x) {
        if (!(x > 0) || Double.isInfinite(x)) {
            throw new IllegalArgumentException(name + ": expected a finite value > 0, got " + x);
        }
    }

    static void membershipRows(String name, double[] p, int m, int k) {
        for (int i = 0; i < m; i++) {
            double s = 0;
            for (int j = 0; j < k; j++) {
                double x = p[i * k + j];
                if (x < 0) {
                    throw new IllegalArgumentException(name + ": expected non-negative entries, got " + x
                            + " at (" + i + ", " + j + ")");
                }
                s += x;
            }
            if (Math.abs(s - 1) > Memberships.ROW_SUM_TOLERANCE) {
                throw new IllegalArgumentException(name + ": expected every row to sum to 1 (tolerance "
                        + Memberships.ROW_SUM_TOLERANCE + "), row " + i + " sums to " + s);
            }
        }
    }
}
