package org.umm4j.crr;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.databind.JsonNode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.umm4j.crr.CrrTestSupport.assertRel;

/**
 * Every case of the independent float64 fixture (src/test/resources/crr-reference.json, generator in
 * its "doc" field): R, Rc and dR under label, soft and instance memberships, and dR/dZ.
 */
class CodingRateReferenceTest {
    private static final double DOUBLE_TOL = 1e-9;
    private static final double FLOAT_TOL = 1e-4;

    @Test
    void fixtureHasCases() {
        assertTrue(CrrTestSupport.reference().get("cases").size() >= 5);
    }

    @Test
    void doubleMatchesReferenceForEveryCase() {
        check(DataType.DOUBLE, DOUBLE_TOL);
    }

    @Test
    void floatMatchesReferenceWithinLooserTolerance() {
        check(DataType.FLOAT, FLOAT_TOL);
    }

    private static void check(DataType type, double tol) {
        JsonNode cases = CrrTestSupport.reference().get("cases");
        for (int n = 0; n < cases.size(); n++) {
            JsonNode c = cases.get(n);
            String tag = type + " case " + n + " (m=" + c.get("m").asInt() + ", d=" + c.get("d").asInt() + ")";
            INDArray z = CrrTestSupport.matrix(c.get("Z"), type);
            assertEquals(type, z.dataType());
            CodingRate cr = new CodingRate(c.get("eps").asDouble());
            double tau = c.get("tau").asDouble();
            INDArray labels = Memberships.fromLabels(CrrTestSupport.ints(c.get("labels")), c.get("k").asInt(), type);
            INDArray soft = CrrTestSupport.matrix(c.get("P_soft"), type);
            INDArray inst = Memberships.instance(z, tau);

            assertRel(c.get("R").asDouble(), cr.rate(z), tol, tag + " R");
            assertRel(c.get("Rc_labels").asDouble(), cr.classRate(z, labels), tol, tag + " Rc labels");
            assertRel(c.get("dR_labels").asDouble(), cr.rateReduction(z, labels), tol, tag + " dR labels");
            assertRel(c.get("Rc_soft").asDouble(), cr.classRate(z, soft), tol, tag + " Rc soft");
            assertRel(c.get("dR_soft").asDouble(), cr.rateReduction(z, soft), tol, tag + " dR soft");
            assertRel(c.get("Rc_instance").asDouble(), cr.classRate(z, inst), tol, tag + " Rc instance");
            assertRel(c.get("dR_instance").asDouble(), cr.rateReduction(z, inst), tol, tag + " dR instance");
            // the sparse path with every neighbour kept must agree with the dense one
            SparseMembership all = Memberships.instanceTopK(z, tau, c.get("m").asInt() - 1);
            assertRel(c.get("Rc_instance").asDouble(), cr.classRate(z, all), tol, tag + " Rc instance top-(m-1)");

            INDArray grad = cr.rateGradient(z);
            assertEquals(type, grad.dataType());
            double err = CrrTestSupport.relMatrixError(CrrTestSupport.matrix(c.get("grad_R"), DataType.DOUBLE), grad);
            assertTrue(err <= tol, tag + " dR/dZ relative error " + err);
        }
    }
}
