package org.umm4j.crr;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;
import java.util.function.ToDoubleFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Closed-form gradients against central finite differences, in DOUBLE. */
class CodingRateGradientTest {
    private static final double H = 1e-6;
    private static final double TOL = 1e-6;

    private static INDArray fd(INDArray z, ToDoubleFunction<INDArray> f) {
        INDArray g = Nd4j.create(DataType.DOUBLE, z.rows(), z.columns());
        for (int i = 0; i < z.rows(); i++) {
            for (int j = 0; j < z.columns(); j++) {
                double v = z.getDouble(i, j);
                INDArray zp = z.dup();
                zp.putScalar(i, j, v + H);
                INDArray zm = z.dup();
                zm.putScalar(i, j, v - H);
                g.putScalar(i, j, (f.applyAsDouble(zp) - f.applyAsDouble(zm)) / (2 * H));
            }
        }
        return g;
    }

    private static void assertClose(INDArray expected, INDArray actual, String what) {
        double err = CrrTestSupport.relMatrixError(expected, actual);
        assertTrue(err < TOL, what + ": relative error " + err);
    }

    private static INDArray soft(long seed, int m, int k) {
        Random r = new Random(seed);
        double[] v = new double[m * k];
        for (int i = 0; i < m; i++) {
            double s = 0;
            for (int j = 0; j < k; j++) {
                v[i * k + j] = 0.1 + r.nextDouble();
                s += v[i * k + j];
            }
            for (int j = 0; j < k; j++) {
                v[i * k + j] /= s;
            }
        }
        return Nd4j.create(v, new long[]{m, k}, 'c');
    }

    @Test
    void rateGradientMatchesFiniteDifferencesTallAndWide() {
        CodingRate cr = new CodingRate(0.5);
        for (int[] md : new int[][]{{9, 4}, {4, 7}}) {
            INDArray z = CrrTestSupport.gaussian(11 + md[0], md[0], md[1], DataType.DOUBLE);
            assertClose(fd(z, cr::rate), cr.rateGradient(z), "dR/dZ m=" + md[0] + " d=" + md[1]);
        }
    }

    @Test
    void classRateGradientMatchesFiniteDifferencesForLabelsSoftAndFixedInstance() {
        CodingRate cr = new CodingRate(0.7);
        INDArray z = CrrTestSupport.gaussian(3, 10, 5, DataType.DOUBLE);
        // class sizes 6 (>= d: full form) and 3 (< d: Gram form) and 1
        INDArray labels = Memberships.fromLabels(new int[]{0, 0, 1, 0, 1, 0, 2, 0, 1, 0}, 3);
        INDArray soft = soft(5, 10, 3);
        INDArray inst = Memberships.instance(z, 0.5);
        for (INDArray p : new INDArray[]{labels, soft, inst}) {
            assertClose(fd(z, x -> cr.classRate(x, p)), cr.classRateGradient(z, p), "dRc/dZ");
            assertClose(fd(z, x -> cr.rateReduction(x, p)), cr.rateReductionGradient(z, p), "d(dR)/dZ");
        }
        SparseMembership top = Memberships.instanceTopK(z, 0.5, 3);
        assertClose(fd(z, x -> cr.classRate(x, top)), cr.classRateGradient(z, top), "dRc/dZ top-k");
        assertClose(fd(z, x -> cr.rateReduction(x, top)), cr.rateReductionGradient(z, top), "d(dR)/dZ top-k");
    }

    @Test
    void membershipGradientMatchesFiniteDifferences() {
        CodingRate cr = new CodingRate(0.5);
        INDArray z = CrrTestSupport.gaussian(8, 7, 3, DataType.DOUBLE);
        INDArray p = soft(9, 7, 3);
        INDArray g = cr.classRateMembershipGradient(z, p);
        double h = 1e-7; // keeps every perturbed row within the 1e-6 row-sum tolerance
        for (int i = 0; i < 7; i++) {
            for (int j = 0; j < 3; j++) {
                INDArray pp = p.dup();
                pp.putScalar(i, j, p.getDouble(i, j) + h);
                INDArray pm = p.dup();
                pm.putScalar(i, j, p.getDouble(i, j) - h);
                double num = (cr.classRate(z, pp) - cr.classRate(z, pm)) / (2 * h);
                assertEquals(num, g.getDouble(i, j), 1e-6 * Math.max(1, Math.abs(num)), "dRc/dP[" + i + "," + j + "]");
            }
        }
    }

    @Test
    void fullInstanceGradientThroughSoftmaxMatchesFiniteDifferences() {
        CodingRate cr = new CodingRate(0.5);
        double tau = 0.3;
        INDArray z = CrrTestSupport.gaussian(21, 7, 4, DataType.DOUBLE);
        INDArray full = cr.instanceRateReductionGradient(z, tau);
        INDArray num = fd(z, x -> cr.rateReduction(x, Memberships.instance(x, tau)));
        assertClose(num, full, "full d(dR)/dZ through the instance softmax");
        // and the softmax path matters: the fixed-P gradient differs
        INDArray fixed = cr.rateReductionGradient(z, Memberships.instance(z, tau));
        assertTrue(CrrTestSupport.relMatrixError(num, fixed) > 1e-3);
    }

    @Test
    void gramAndFullFormsAgreeForValuesAndGradients() {
        // m = 20 columns of the instance membership take the batched (Y) Gram product
        INDArray z = CrrTestSupport.gaussian(31, 20, 6, DataType.DOUBLE);
        int[] y = new int[20];
        for (int i = 0; i < 20; i++) {
            y[i] = i < 3 ? 0 : i < 14 ? 1 : 2; // sizes 3 (< d), 11 (>= d), 6 (= d); class 3 empty
        }
        INDArray[] ps = {Memberships.fromLabels(y, 4), soft(4, 20, 3), Memberships.instance(z, 0.5)};
        CodingRate gram = new CodingRate(0.5, CodingRate.Form.GRAM);
        CodingRate full = new CodingRate(0.5, CodingRate.Form.FULL);
        // tiny memory bounds force several Y blocks and several chunks of classes
        CodingRate blocked = new CodingRate(0.5, CodingRate.Form.FULL, 20 * 8 * 5, 21 * 3);
        CodingRate auto = CodingRate.withDefaults();
        for (INDArray p : ps) {
            double ref = full.classRate(z, p);
            CrrTestSupport.assertRel(ref, gram.classRate(z, p), 1e-12, "Sylvester Gram form");
            CrrTestSupport.assertRel(ref, blocked.classRate(z, p), 1e-12, "blocked batched Grams");
            CrrTestSupport.assertRel(ref, auto.classRate(z, p), 1e-12, "auto form");
            INDArray gref = full.classRateGradient(z, p);
            assertTrue(CrrTestSupport.relMatrixError(gref, gram.classRateGradient(z, p)) < 1e-12);
            assertTrue(CrrTestSupport.relMatrixError(gref, blocked.classRateGradient(z, p)) < 1e-12);
        }
        CrrTestSupport.assertRel(full.rate(z), gram.rate(z), 1e-12, "R Gram form");
        assertTrue(CrrTestSupport.relMatrixError(full.rateGradient(z), gram.rateGradient(z)) < 1e-12);
    }

    @Test
    void sharedGramOfSmallClassesEqualsPairwiseDots() {
        // the top-k instance membership: many small classes whose Gram blocks come from one Z Z^T GEMM
        for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
            INDArray z = CrrTestSupport.gaussian(41, 60, 16, type);
            SparseMembership top = Memberships.instanceTopK(z.castTo(DataType.DOUBLE), 0.5, 5);
            CodingRate pairwise = new CodingRate(0.5, CodingRate.Form.AUTO, 64L << 20, 16L << 20, CodingRate.SharedGram.NEVER);
            CodingRate shared = new CodingRate(0.5, CodingRate.Form.AUTO, 64L << 20, 16L << 20, CodingRate.SharedGram.ALWAYS);
            double tol = type == DataType.DOUBLE ? 1e-12 : 1e-5;
            CrrTestSupport.assertRel(pairwise.classRate(z, top), shared.classRate(z, top), tol, type + " Rc");
            CrrTestSupport.assertRel(pairwise.rateReduction(z, top), CodingRate.withDefaults().rateReduction(z, top), tol,
                    type + " dR, default (auto) choice");
            assertTrue(CrrTestSupport.relMatrixError(pairwise.classRateGradient(z, top), shared.classRateGradient(z, top))
                    < tol, type + " gradient");
        }
    }
}
