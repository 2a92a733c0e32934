package org.umm4j.crr;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shared helpers for the crr tests: fixture loading, random matrices, relative comparisons. */
final class CrrTestSupport {
    private CrrTestSupport() {
    }

    static JsonNode reference() {
        try (InputStream in = CrrTestSupport.class.getResourceAsStream("/crr-reference.json")) {
            if (in == null) {
                throw new IllegalStateException("crr-reference.json missing from test resources");
            }
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static INDArray matrix(JsonNode rows, DataType type) {
        int m = rows.size();
        int n = rows.get(0).size();
        double[] v = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                v[i * n + j] = rows.get(i).get(j).asDouble();
            }
        }
        return Nd4j.create(v, new long[]{m, n}, 'c').castTo(type);
    }

    static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = a.get(i).asInt();
        }
        return r;
    }

    static INDArray gaussian(long seed, int m, int d, DataType type) {
        Random r = new Random(seed);
        double[] v = new double[m * d];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextGaussian();
        }
        return Nd4j.create(v, new long[]{m, d}, 'c').castTo(type);
    }

    static void assertRel(double expected, double actual, double tol, String what) {
        double err = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300);
        assertTrue(err <= tol, what + ": expected " + expected + ", got " + actual + " (relative error " + err + ")");
    }

    /** max |a - b| / max |b| over the matrix. */
    static double relMatrixError(INDArray expected, INDArray actual) {
        assertEquals(expected.rows(), actual.rows());
        assertEquals(expected.columns(), actual.columns());
        double[] e = expected.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] a = actual.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double num = 0;
        double den = 0;
        for (int i = 0; i < e.length; i++) {
            num = Math.max(num, Math.abs(a[i] - e[i]));
            den = Math.max(den, Math.abs(e[i]));
        }
        return num / den;
    }
}
