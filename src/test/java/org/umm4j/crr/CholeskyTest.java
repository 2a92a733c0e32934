package org.umm4j.crr;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CholeskyTest {

    @Test
    void factorReproducesMatrixAndSolves() {
        // every remainder of the 4-row blocks, and sizes where the paired-column kernels do most of the work
        for (int n : new int[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 64, 67}) {
            factorReproducesMatrixAndSolves(n);
        }
    }

    private static void factorReproducesMatrixAndSolves(int n) {
        Random r = new Random(n);
        double[] b = new double[n * n];
        for (int i = 0; i < b.length; i++) {
            b[i] = r.nextGaussian();
        }
        double[] a = new double[n * n]; // A = B B^T + n I
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = i == j ? n : 0;
                for (int k = 0; k < n; k++) {
                    s += b[i * n + k] * b[j * n + k];
                }
                a[i * n + j] = s;
            }
        }
        double[] l = a.clone();
        Cholesky.factor(l, n);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = 0;
                for (int k = 0; k <= j; k++) {
                    s += l[i * n + k] * l[j * n + k];
                }
                assertEquals(a[i * n + j], s, 1e-10 * n, "n = " + n + ": (L L^T)[" + i + "," + j + "]");
            }
        }
        double[] x = new double[n];
        double[] rhs = new double[n];
        for (int i = 0; i < n; i++) {
            rhs[i] = r.nextGaussian();
        }
        System.arraycopy(rhs, 0, x, 0, n);
        Cholesky.solveInPlace(l, n, x, 0);
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int k = 0; k < n; k++) {
                s += a[i * n + k] * x[k];
            }
            assertEquals(rhs[i], s, 1e-10 * n, "n = " + n + ": (A x)[" + i + "]");
        }
    }

    @Test
    void logdetOfDiagonalIsSumOfLogs() {
        double[] a = {2, 0, 0, 0, 3, 0, 0, 0, 1e-3};
        Cholesky.factor(a, 3);
        assertEquals(Math.log(2) + Math.log(3) + Math.log(1e-3), Cholesky.logdet(a, 3), 1e-14);
    }

    @Test
    void logdetStaysFiniteWhereTheDeterminantOverflows() {
        int n = 400;
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            a[i * n + i] = 1e3; // det = 1e1200, not representable
        }
        Cholesky.factor(a, n);
        assertEquals(n * Math.log(1e3), Cholesky.logdet(a, n), 1e-9);
    }

    @Test
    void rejectsIndefiniteMatrices() {
        double[] a = {1, 2, 2, 1};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Cholesky.factor(a, 2));
        assertTrue(e.getMessage().contains("positive definite"));
    }
}
