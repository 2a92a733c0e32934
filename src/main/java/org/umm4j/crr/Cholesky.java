package org.umm4j.crr;

/**
 * Small, careful dense Cholesky factorisation on row-major {@code double[]} matrices, with the
 * log-determinant and triangular solves that the coding-rate code needs.
 *
 * <p>For a symmetric positive definite {@code n x n} matrix {@code A}, {@link #factor} overwrites the
 * lower triangle of {@code A} (row-major, element {@code (i, j)} at {@code a[i * n + j]}) with
 * {@code L}, where {@code A = L L^T}; the strict upper triangle is left untouched and ignored. Then
 * <pre>
 *   logdet(A) = 2 sum_i log L_ii                         ({@link #logdet})
 *   A x = b   &lt;=&gt;  L y = b (forward), L^T x = y (back)   ({@link #solveInPlace})
 * </pre>
 * No explicit inverse or determinant is ever formed: determinants of {@code I + c G} overflow
 * for the sizes used in coding-rate work, and explicit inverses lose accuracy.
 *
 * <p>Loop order: the row-oriented (Cholesky-Crout / "ijk") form, so that every inner loop is a
 * dot product of two contiguous row prefixes {@code L[i, 0..j)} and {@code L[j, 0..j)}; four
 * independent accumulators let the JIT pipeline the multiply-adds. The matrices here are at most a
 * few thousand wide, where this is within a small factor of LAPACK and avoids a native call per
 * matrix (there are often thousands of small ones, one per membership column).
 *
 * <p>All methods are pure functions of their arguments; they are thread-safe on distinct arrays.
 */
public final class Cholesky {

    private Cholesky() {
    }

    /**
     * Factors {@code A = L L^T} in place (lower triangle of {@code a} becomes {@code L}).
     *
     * @param a row-major {@code n x n} symmetric positive definite matrix (only the lower triangle is read)
     * @param n the order
     * @throws IllegalArgumentException if {@code a} is too short or {@code A} is not numerically
     *                                  positive definite (a pivot is not {@code > 0} or not finite)
     */
    public static void factor(double[] a, int n) {
        if (n < 0 || a.length < (long) n * n) {
            throw new IllegalArgumentException("a: expected at least n*n = " + ((long) n * n)
                    + " elements for n = " + n + ", got " + a.length);
        }
        int i0 = 0;
        // four rows at a time, two columns per kernel call (each loaded element feeds two or four multiply-adds).
        // The work sits in short kernel methods called ~n^2/8 times, so the JIT compiles them fully during the first
        // large factorisation instead of running one long loop nest interpreted until an on-stack replacement.
        for (; i0 + 3 < n; i0 += 4) {
            for (int j = 0; j < i0; j += 2) { // i0 is a multiple of 4: the columns come in pairs
                block4x2(a, n, i0, j);
            }
            for (int i = i0; i < i0 + 4; i++) {
                rowFrom(a, n, i, i0);
            }
        }
        for (int i = i0; i < n; i++) {
            rowFrom(a, n, i, 0);
        }
    }

    /** Columns {@code j, j+1} ({@code j + 1 < i0}) of rows {@code i0 .. i0+3} of {@code L}. */
    private static void block4x2(double[] a, int n, int i0, int j) {
        final int r0 = i0 * n;
        final int r1 = r0 + n;
        final int r2 = r1 + n;
        final int r3 = r2 + n;
        final int rj = j * n;
        final int rk = rj + n;
        double s00 = 0, s10 = 0, s20 = 0, s30 = 0;
        double s01 = 0, s11 = 0, s21 = 0, s31 = 0;
        for (int k = 0; k < j; k++) {
            double lj = a[rj + k];
            double lk = a[rk + k];
            double x0 = a[r0 + k];
            double x1 = a[r1 + k];
            double x2 = a[r2 + k];
            double x3 = a[r3 + k];
            s00 += x0 * lj;
            s10 += x1 * lj;
            s20 += x2 * lj;
            s30 += x3 * lj;
            s01 += x0 * lk;
            s11 += x1 * lk;
            s21 += x2 * lk;
            s31 += x3 * lk;
        }
        double pj = a[rj + j];
        double l0 = (a[r0 + j] - s00) / pj;
        double l1 = (a[r1 + j] - s10) / pj;
        double l2 = (a[r2 + j] - s20) / pj;
        double l3 = (a[r3 + j] - s30) / pj;
        a[r0 + j] = l0;
        a[r1 + j] = l1;
        a[r2 + j] = l2;
        a[r3 + j] = l3;
        // column j+1 also needs the k = j term, with the entries just computed
        double ljk = a[rk + j];
        double pk = a[rk + j + 1];
        a[r0 + j + 1] = (a[r0 + j + 1] - (s01 + l0 * ljk)) / pk;
        a[r1 + j + 1] = (a[r1 + j + 1] - (s11 + l1 * ljk)) / pk;
        a[r2 + j + 1] = (a[r2 + j + 1] - (s21 + l2 * ljk)) / pk;
        a[r3 + j + 1] = (a[r3 + j + 1] - (s31 + l3 * ljk)) / pk;
    }

    /** Row {@code i} of {@code L}, columns {@code j0 .. i} (columns before {@code j0} are already done). */
    private static void rowFrom(double[] a, int n, int i, int j0) {
        final int ri = i * n;
        for (int j = j0; j < i; j++) {
            final int rj = j * n;
            a[ri + j] = (a[ri + j] - dot(a, ri, rj, j)) / a[rj + j];
        }
        double s = a[ri + i] - dot(a, ri, ri, i);
        if (!(s > 0) || Double.isInfinite(s)) {
            throw new IllegalArgumentException("matrix is not positive definite: pivot " + i
                    + " of " + n + " is " + s);
        }
        a[ri + i] = Math.sqrt(s);
    }

    /** Dot product of {@code a[p .. p+len)} and {@code a[q .. q+len)} with four accumulators. */
    static double dot(double[] a, int p, int q, int len) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int k = 0;
        for (; k + 3 < len; k += 4) {
            s0 += a[p + k] * a[q + k];
            s1 += a[p + k + 1] * a[q + k + 1];
            s2 += a[p + k + 2] * a[q + k + 2];
            s3 += a[p + k + 3] * a[q + k + 3];
        }
        for (; k < len; k++) {
            s0 += a[p + k] * a[q + k];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /**
     * {@code logdet(A) = 2 sum_i log L_ii} from a factor produced by {@link #factor}.
     *
     * @param l the factor (row-major, lower triangle)
     * @param n the order
     * @return the natural log-determinant of {@code A = L L^T}
     */
    public static double logdet(double[] l, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += Math.log(l[i * n + i]);
        }
        return 2 * s;
    }

    /**
     * Solves {@code L y = b} in place ({@code b} becomes {@code y = L^-1 b}).
     *
     * @param l   the factor
     * @param n   the order
     * @param b   right-hand side, read from {@code b[off .. off+n)}
     * @param off offset of the vector inside {@code b}
     */
    public static void forwardInPlace(double[] l, int n, double[] b, int off) {
        for (int i = 0; i < n; i++) {
            final int ri = i * n;
            double s = b[off + i];
            for (int k = 0; k < i; k++) {
                s -= l[ri + k] * b[off + k];
            }
            b[off + i] = s / l[ri + i];
        }
    }

    /**
     * Solves {@code L^T x = y} in place, column-oriented so that only rows of {@code L} are read.
     *
     * @param l   the factor
     * @param n   the order
     * @param b   right-hand side {@code y}, read from {@code b[off .. off+n)}, overwritten with {@code x}
     * @param off offset of the vector inside {@code b}
     */
    public static void backwardInPlace(double[] l, int n, double[] b, int off) {
        for (int i = n - 1; i >= 0; i--) {
            final int ri = i * n;
            double xi = b[off + i] / l[ri + i];
            b[off + i] = xi;
            for (int k = 0; k < i; k++) {
                b[off + k] -= l[ri + k] * xi;
            }
        }
    }

    /**
     * Solves {@code A x = b} in place given the factor of {@code A}.
     *
     * @param l   the factor
     * @param n   the order
     * @param b   right-hand side at {@code b[off .. off+n)}, overwritten with {@code x = A^-1 b}
     * @param off offset of the vector inside {@code b}
     */
    public static void solveInPlace(double[] l, int n, double[] b, int off) {
        forwardInPlace(l, n, b, off);
        backwardInPlace(l, n, b, off);
    }
}
