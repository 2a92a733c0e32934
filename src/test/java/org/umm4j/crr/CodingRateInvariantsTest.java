package org.umm4j.crr;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.umm4j.crr.CrrTestSupport.assertRel;

/** Properties the coding rate must satisfy whatever the data. */
class CodingRateInvariantsTest {

    /** Q from a Gram-Schmidt QR of a random square matrix: orthogonal. */
    private static INDArray randomOrthogonal(long seed, int d) {
        double[][] a = CrrTestSupport.gaussian(seed, d, d, DataType.DOUBLE).toDoubleMatrix();
        double[][] q = new double[d][];
        for (int j = 0; j < d; j++) {
            double[] v = a[j].clone();
            for (int t = 0; t < 2; t++) { // twice: re-orthogonalisation keeps Q orthogonal to rounding
                for (int i = 0; i < j; i++) {
                    double dot = 0;
                    for (int c = 0; c < d; c++) {
                        dot += v[c] * q[i][c];
                    }
                    for (int c = 0; c < d; c++) {
                        v[c] -= dot * q[i][c];
                    }
                }
            }
            double n = 0;
            for (double x : v) {
                n += x * x;
            }
            n = Math.sqrt(n);
            for (int c = 0; c < d; c++) {
                v[c] /= n;
            }
            q[j] = v;
        }
        return Nd4j.create(q).transpose().dup('c');
    }

    @Test
    void rateIsInvariantToOrthogonalRotations() {
        CodingRate cr = CodingRate.withDefaults();
        INDArray z = CrrTestSupport.gaussian(1, 30, 8, DataType.DOUBLE);
        INDArray q = randomOrthogonal(2, 8);
        INDArray qtq = q.transpose().mmul(q);
        assertTrue(qtq.equalsWithEps(Nd4j.eye(8).castTo(DataType.DOUBLE), 1e-12), "Q is orthogonal");
        INDArray zq = z.mmul(q);
        assertRel(cr.rate(z), cr.rate(zq), 1e-12, "R(ZQ) = R(Z)");
        INDArray labels = Memberships.fromLabels(new Random(3).ints(30, 0, 3).toArray(), 3);
        assertRel(cr.classRate(z, labels), cr.classRate(zq, labels), 1e-12, "Rc(ZQ) = Rc(Z)");
        // rotations are not a no-op on Z itself
        assertTrue(CrrTestSupport.relMatrixError(z, zq) > 0.1);
    }

    @Test
    void rateReductionIsNonNegativeForHardLabels() {
        CodingRate cr = new CodingRate(0.3);
        for (long seed = 0; seed < 10; seed++) {
            Random r = new Random(seed);
            int m = 5 + r.nextInt(40);
            int d = 2 + r.nextInt(20);
            int k = 1 + r.nextInt(6);
            INDArray z = CrrTestSupport.gaussian(seed, m, d, DataType.DOUBLE);
            INDArray p = Memberships.fromLabels(r.ints(m, 0, k).toArray(), k);
            double dr = cr.rateReduction(z, p);
            assertTrue(dr >= -1e-12, "dR = " + dr + " for seed " + seed);
        }
    }

    @Test
    void classRateWithOneClassEqualsRate() {
        CodingRate cr = new CodingRate(0.8);
        for (int[] md : new int[][]{{25, 6}, {6, 25}}) {
            INDArray z = CrrTestSupport.gaussian(md[0], md[0], md[1], DataType.DOUBLE);
            INDArray one = Memberships.fromLabels(new int[md[0]], 1);
            assertRel(cr.rate(z), cr.classRate(z, one), 1e-12, "Rc single class");
            assertEquals(0, cr.rateReduction(z, one), 1e-12);
        }
    }

    @Test
    void rateMatchesDirectLogdetOfSmallMatrix() {
        // 2 x 1 features: R = 1/2 log(1 + c (a^2 + b^2)), c = 1/(2 eps^2)
        INDArray z = Nd4j.create(new double[][]{{3}, {4}});
        double eps = 0.5;
        double c = 1.0 / (2 * eps * eps);
        assertRel(0.5 * Math.log(1 + c * 25), new CodingRate(eps).rate(z), 1e-15, "closed form");
    }

    @Test
    void instanceMembershipRowsSumToOneWithZeroDiagonal() {
        INDArray z = CrrTestSupport.gaussian(4, 15, 5, DataType.DOUBLE);
        INDArray p = Memberships.instance(z, 0.5);
        assertEquals(15, p.rows());
        assertEquals(15, p.columns());
        for (int i = 0; i < 15; i++) {
            assertEquals(0.0, p.getDouble(i, i), 0.0);
            assertEquals(1.0, p.getRow(i).sumNumber().doubleValue(), 1e-12);
        }
        // softmax of cosines: the ratio of two entries is exp((cos_ij - cos_il)/tau)
        double[][] zz = z.toDoubleMatrix();
        double c01 = cos(zz[0], zz[1]);
        double c02 = cos(zz[0], zz[2]);
        assertEquals(Math.exp((c01 - c02) / 0.5), p.getDouble(0, 1) / p.getDouble(0, 2), 1e-12);
    }

    private static double cos(double[] a, double[] b) {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }

    @Test
    void topKKeepsTheLargestEntriesRenormalised() {
        INDArray z = CrrTestSupport.gaussian(6, 12, 4, DataType.DOUBLE);
        INDArray dense = Memberships.instance(z, 0.5);
        SparseMembership top = Memberships.instanceTopK(z, 0.5, 3);
        INDArray p = top.toDense(DataType.DOUBLE);
        assertEquals(36, top.nonZeros());
        for (int i = 0; i < 12; i++) {
            double[] row = dense.getRow(i).toDoubleVector();
            double[] sorted = row.clone();
            java.util.Arrays.sort(sorted);
            double third = sorted[sorted.length - 3];
            double kept = 0;
            for (int j = 0; j < 12; j++) {
                if (row[j] >= third) {
                    kept += row[j];
                }
            }
            for (int j = 0; j < 12; j++) {
                double expected = row[j] >= third ? row[j] / kept : 0;
                assertEquals(expected, p.getDouble(i, j), 1e-12, "P[" + i + "," + j + "]");
            }
        }
    }

    @Test
    void sparseTopKWithAllNeighboursMatchesDenseExactly() {
        CodingRate cr = CodingRate.withDefaults();
        // m = 24 > d (full form) and m = 24 < d (Sylvester Gram form on each support)
        for (int d : new int[]{5, 40}) {
            INDArray z = CrrTestSupport.gaussian(d, 24, d, DataType.DOUBLE);
            INDArray dense = Memberships.instance(z, 0.5);
            SparseMembership all = Memberships.instanceTopK(z, 0.5, 23);
            assertTrue(CrrTestSupport.relMatrixError(dense, all.toDense(DataType.DOUBLE)) < 1e-14);
            assertRel(cr.classRate(z, dense), cr.classRate(z, all), 1e-12, "Rc dense vs top-(m-1), d=" + d);
            assertRel(cr.rateReduction(z, dense), cr.rateReduction(z, all), 1e-12, "dR dense vs top-(m-1), d=" + d);
            assertTrue(CrrTestSupport.relMatrixError(cr.classRateGradient(z, dense), cr.classRateGradient(z, all)) < 1e-12);
        }
    }

    @Test
    void sparseTopKAgreesWithTheDenseMatrixItRepresents() {
        // k << m uses the Sylvester form per support; compare with the same P given densely in FULL form
        INDArray z = CrrTestSupport.gaussian(9, 40, 16, DataType.DOUBLE);
        SparseMembership top = Memberships.instanceTopK(z, 0.5, 4);
        double viaSparse = CodingRate.withDefaults().classRate(z, top);
        double viaDenseFull = new CodingRate(0.5, CodingRate.Form.FULL).classRate(z, top.toDense(DataType.DOUBLE));
        assertRel(viaDenseFull, viaSparse, 1e-12, "top-4 sparse vs dense full form");
    }

    @Test
    void floatInputGivesFloatGradientsCloseToDouble() {
        CodingRate cr = CodingRate.withDefaults();
        INDArray z = CrrTestSupport.gaussian(12, 64, 16, DataType.DOUBLE);
        INDArray zf = z.castTo(DataType.FLOAT);
        INDArray p = Memberships.instance(z, 0.5);
        INDArray pf = Memberships.instance(zf, 0.5);
        assertEquals(DataType.FLOAT, pf.dataType());
        assertRel(cr.rateReduction(z, p), cr.rateReduction(zf, pf), 1e-4, "FLOAT dR instance");
        INDArray gf = cr.rateReductionGradient(zf, pf);
        assertEquals(DataType.FLOAT, gf.dataType());
        assertTrue(CrrTestSupport.relMatrixError(cr.rateReductionGradient(z, p), gf) < 1e-4);
        SparseMembership top = Memberships.instanceTopK(zf, 0.5, 10);
        assertRel(cr.rateReduction(z, Memberships.instanceTopK(z, 0.5, 10)), cr.rateReduction(zf, top), 1e-4, "FLOAT top-k");
    }
}
