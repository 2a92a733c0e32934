package org.umm4j.umm;

/**
 * Dense Cholesky factorisation, log-determinant and solves for the small symmetric positive-definite
 * matrices of the CPA sketch and the hypergradient tests (row-major {@code double[]}, n at most a few
 * hundred). No explicit inverse or determinant is ever formed.
 */
final class SmallLinalg {
    private SmallLinalg() {
    }

    /** @return the lower factor L (row-major n x n) with A = L L^T */
    static double[] cholesky(double[] a, int n) {
        double[] l = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i * n + j];
                for (int t = 0; t < j; t++) {
                    s -= l[i * n + t] * l[j * n + t];
                }
                if (i == j) {
                    if (!(s > 0)) {
                        throw new ArithmeticException("matrix is not positive definite (pivot " + i + " = " + s + ")");
                    }
                    l[i * n + i] = Math.sqrt(s);
                } else {
                    l[i * n + j] = s / l[j * n + j];
                }
            }
        }
        return l;
    }

    /** @return log det A = 2 sum log L_ii */
    static double logdetFromCholesky(double[] l, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += Math.log(l[i * n + i]);
        }
        return 2 * s;
    }

    /** @return x with L L^T x = b */
    static double[] choleskySolve(double[] l, int n, double[] b) {
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            double s = b[i];
            for (int t = 0; t < i; t++) {
                s -= l[i * n + t] * y[t];
            }
            y[i] = s / l[i * n + i];
        }
        double[] x = new double[n];
        for (int i = n - 1; i >= 0; i--) {
            double s = y[i];
            for (int t = i + 1; t < n; t++) {
                s -= l[t * n + i] * x[t];
            }
            x[i] = s / l[i * n + i];
        }
        return x;
    }
}
