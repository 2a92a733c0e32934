package org.umm4j.crr;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every bad input gets an IllegalArgumentException naming the argument and what was expected. */
class CrrBadInputTest {
    private final CodingRate cr = CodingRate.withDefaults();
    private final INDArray z = CrrTestSupport.gaussian(1, 6, 3, DataType.DOUBLE);
    private final INDArray p = Memberships.fromLabels(new int[]{0, 1, 0, 1, 0, 1}, 2);

    private static void fails(Executable e, String... fragments) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        for (String f : fragments) {
            assertTrue(ex.getMessage().contains(f), "message '" + ex.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void nonFiniteFeatures() {
        INDArray nan = z.dup();
        nan.putScalar(2, 1, Double.NaN);
        INDArray inf = z.dup();
        inf.putScalar(0, 0, Double.POSITIVE_INFINITY);
        fails(() -> cr.rate(nan), "Z", "finite", "(2, 1)");
        fails(() -> cr.classRate(inf, p), "Z", "finite");
        fails(() -> cr.rateGradient(nan), "Z", "finite");
        fails(() -> Memberships.instance(nan, 0.5), "Z", "finite");
        fails(() -> Memberships.instanceTopK(inf, 0.5, 2), "Z", "finite");
    }

    @Test
    void membershipRowsMustSumToOne() {
        INDArray bad = p.dup();
        bad.putScalar(3, 1, 0.9);
        fails(() -> cr.classRate(z, bad), "P", "sum to 1", "row 3");
        fails(() -> cr.rateReductionGradient(z, bad), "P", "sum to 1");
        INDArray negative = Nd4j.create(new double[][]{{1.5, -0.5}, {0, 1}, {1, 0}, {0, 1}, {1, 0}, {0, 1}});
        fails(() -> cr.classRate(z, negative), "P", "non-negative");
        INDArray slightlyOff = p.dup();
        slightlyOff.putScalar(0, 0, 1 + 1e-8); // within the 1e-6 tolerance
        cr.classRate(z, slightlyOff);
    }

    @Test
    void mismatchedSizes() {
        INDArray p5 = Memberships.fromLabels(new int[]{0, 1, 0, 1, 0}, 2);
        fails(() -> cr.classRate(z, p5), "P", "6 rows", "got 5");
        fails(() -> cr.classRateGradient(z, p5), "P", "6 rows");
        SparseMembership s5 = SparseMembership.fromDense(p5);
        fails(() -> cr.rateReduction(z, s5), "P", "6 rows");
        fails(() -> Memberships.fromLabels(new int[]{0, 2}, 2), "labels", "[0, 2)");
        fails(() -> Memberships.instanceTopK(z, 0.5, 6), "k", "m - 1");
        fails(() -> Memberships.instanceTopK(z, 0.5, 0), "k");
    }

    @Test
    void nonPositiveEpsAndTau() {
        fails(() -> new CodingRate(0), "eps", "> 0");
        fails(() -> new CodingRate(-1), "eps", "> 0");
        fails(() -> new CodingRate(Double.NaN), "eps");
        fails(() -> Memberships.instance(z, 0), "tau", "> 0");
        fails(() -> Memberships.instanceTopK(z, -0.1, 2), "tau", "> 0");
        fails(() -> cr.instanceRateReductionGradient(z, 0), "tau");
    }

    @Test
    void nonMatrixRanksAndTypes() {
        fails(() -> cr.rate(Nd4j.rand(DataType.DOUBLE, 6)), "Z", "rank-2", "rank 1");
        fails(() -> cr.rate(Nd4j.rand(DataType.DOUBLE, 2, 3, 4)), "Z", "rank-2", "rank 3");
        fails(() -> cr.classRate(z, Nd4j.rand(DataType.DOUBLE, 6, 2, 1)), "P", "rank-2");
        fails(() -> cr.rate(z.castTo(DataType.INT)), "Z", "DOUBLE or FLOAT");
        fails(() -> cr.rate(null), "Z");
    }

    @Test
    void zeroRowsHaveNoCosine() {
        INDArray zero = z.dup();
        zero.getRow(4).assign(0);
        fails(() -> Memberships.instance(zero, 0.5), "Z", "row 4");
        cr.rate(zero); // the coding rate itself is defined for a zero row
    }
}
