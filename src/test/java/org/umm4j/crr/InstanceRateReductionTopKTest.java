package org.umm4j.crr;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.umm4j.crr.CrrTestSupport.assertRel;
import static org.umm4j.crr.CrrTestSupport.gaussian;

/**
 * The one-pass label-free value {@link CodingRate#instanceRateReductionTopK} against its definition: the rate
 * reduction of the unit-row features under their top-k instance membership, computed the long way (row scaling in
 * double, membership and rates by the general entry points).
 */
class InstanceRateReductionTopKTest {

    private static INDArray unitRows(INDArray z) {
        int m = (int) z.rows();
        int d = (int) z.columns();
        double[] v = Memberships.normalise(z.castTo(DataType.DOUBLE).dup('c').data().asDouble(), m, d, new double[m]);
        return Nd4j.create(v, new long[]{m, d}, 'c');
    }

    private static double longWay(INDArray z, double tau, int k) {
        INDArray n = unitRows(z);
        return CodingRate.withDefaults().rateReduction(n, Memberships.instanceTopK(n, tau, k));
    }

    @Test
    void equalsTheDefinitionInDoubleForEveryClassShape() {
        CodingRate cr = CodingRate.withDefaults();
        // m > d: R in the d x d form; d = 3 < supports: hub columns take the d x d (large-class) path
        // m < d: R in the m x m Gram form read off the shared Z Z^T; k = m - 1: every column full
        int[][] shapes = {{60, 16, 5}, {40, 3, 10}, {12, 30, 4}, {12, 30, 11}, {2, 5, 1}};
        for (int[] s : shapes) {
            INDArray z = gaussian(7 + s[0], s[0], s[1], DataType.DOUBLE).muli(3.0);
            for (double tau : new double[]{0.1, 0.5}) {
                assertRel(longWay(z, tau, s[2]), cr.instanceRateReductionTopK(z, tau, s[2]), 1e-12,
                        "m=" + s[0] + " d=" + s[1] + " k=" + s[2] + " tau=" + tau);
            }
        }
    }

    @Test
    void floatInputAgreesToFloatRounding() {
        CodingRate cr = CodingRate.withDefaults();
        INDArray z = gaussian(3, 200, 64, DataType.DOUBLE);
        double expected = longWay(z, 0.5, 10);
        assertRel(expected, cr.instanceRateReductionTopK(z.castTo(DataType.FLOAT), 0.5, 10), 1e-4, "FLOAT");
        // a non-c-ordered view gives the same value as its copy
        INDArray t = gaussian(3, 64, 200, DataType.DOUBLE).transpose();
        assertRel(longWay(t.dup('c'), 0.5, 10), cr.instanceRateReductionTopK(t, 0.5, 10), 1e-12, "view");
    }

    @Test
    void rowsWhoseFloatNormOverflowsFallBackToDouble() {
        INDArray z = gaussian(5, 30, 8, DataType.DOUBLE);
        z.getRow(4).muli(1e25); // |row|^2 ~ 1e51 overflows float, every entry is a finite float
        INDArray zf = z.castTo(DataType.FLOAT);
        double v = CodingRate.withDefaults().instanceRateReductionTopK(zf, 0.5, 5);
        assertTrue(Double.isFinite(v), "value " + v);
        assertRel(longWay(z, 0.5, 5), v, 1e-4, "overflowing row");
    }

    @Test
    void badInputNamesTheArgument() {
        CodingRate cr = CodingRate.withDefaults();
        INDArray z = gaussian(1, 10, 4, DataType.FLOAT);
        INDArray nan = z.dup();
        nan.putScalar(3, 2, Double.NaN);
        assertMessage(assertThrows(IllegalArgumentException.class, () -> cr.instanceRateReductionTopK(nan, 0.5, 3)),
                "Z: expected finite values");
        INDArray zero = z.dup();
        zero.getRow(6).assign(0);
        assertMessage(assertThrows(IllegalArgumentException.class, () -> cr.instanceRateReductionTopK(zero, 0.5, 3)),
                "row 6 is zero");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> cr.instanceRateReductionTopK(z, 0.5, 10)),
                "k: expected 1 <= k <= m - 1 = 9");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> cr.instanceRateReductionTopK(z, 0, 3)),
                "tau");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> cr.instanceRateReductionTopK(z.getRow(0).reshape(1, 4), 0.5, 1)), "at least 2 rows");
    }

    private static void assertMessage(IllegalArgumentException e, String part) {
        assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' should contain '" + part + "'");
    }
}
