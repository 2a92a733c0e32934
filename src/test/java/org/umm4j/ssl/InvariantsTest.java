package org.umm4j.ssl;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** View symmetry and scale invariance where the papers have them. */
class InvariantsTest {

    /** Swaps view 1 and 2 (and the matching targets / extras). */
    private static ObjectiveInput swapped(ObjectiveInput in, boolean pairsOfFour) {
        List<INDArray> v = new ArrayList<>(in.views());
        java.util.Collections.swap(v, 0, 1);
        if (pairsOfFour) {
            java.util.Collections.swap(v, 2, 3);
        }
        List<INDArray> t = new ArrayList<>(in.targets());
        if (t.size() == 2) {
            java.util.Collections.swap(t, 0, 1);
        }
        Map<String, INDArray> e = new LinkedHashMap<>(in.extras());
        for (String[] pair : new String[][]{{"coords1", "coords2"}, {"noise1", "noise2"}}) {
            if (e.containsKey(pair[0])) {
                INDArray a = e.get(pair[0]);
                e.put(pair[0], e.get(pair[1]));
                e.put(pair[1], a);
            }
        }
        return new ObjectiveInput(v, t, e);
    }

    @ParameterizedTest
    @ValueSource(strings = {"simclr-default", "byol", "simsiam", "barlow-default", "vicreg", "vicregl", "mocov2",
            "wmse", "superinfo-noise"})
    void swappingViewsLeavesLossUnchanged(String name) {
        SslTestSupport.RefCase c = SslTestSupport.referenceCase(name);
        boolean four = c.objective().equals("vicregl") || c.objective().equals("superinfo");
        ObjectiveInput in = c.input(DataType.DOUBLE);
        Objective o = c.create();
        double a = o.compute(in).loss();
        double b = o.compute(swapped(in, four)).loss();
        assertEquals(a, b, 1e-12 * Math.abs(a), name);
    }

    @org.junit.jupiter.api.Test
    void swavWithTwoViewsIsSymmetricAndSuperInfoOnlyWhenWeightsAgree() {
        SslTestSupport.RefCase c = SslTestSupport.referenceCase("swav-multicrop");
        ObjectiveInput in = c.input(DataType.DOUBLE);
        ObjectiveInput two = new ObjectiveInput(in.views().subList(0, 2), List.of(), in.extras());
        Objective swav = c.create();
        assertEquals(swav.compute(two).loss(), swav.compute(swapped(two, false)).loss(), 1e-12);

        SslTestSupport.RefCase s = SslTestSupport.referenceCase("superinfo");   // la = 0.1, lb = 0.2
        ObjectiveInput si = s.input(DataType.DOUBLE);
        assertNotEquals(s.create().compute(si).loss(), s.create().compute(swapped(si, true)).loss(), 1e-6);
    }

    @ParameterizedTest
    @ValueSource(strings = {"simclr-default", "byol", "simsiam", "mocov2", "swav-multicrop", "wmse"})
    void cosineLossesIgnoreRowScale(String name) {
        SslTestSupport.RefCase c = SslTestSupport.referenceCase(name);
        ObjectiveInput in = c.input(DataType.DOUBLE);
        Objective o = c.create();
        double a = o.compute(in).loss();
        List<INDArray> scaled = new ArrayList<>();
        for (INDArray v : in.views()) {
            // positive per-row scales for cosine losses; one global scale for W-MSE (whitening is affine-invariant)
            INDArray s = name.equals("wmse") ? Nd4j.valueArrayOf(new long[]{v.rows(), 1}, 3.7).castTo(v.dataType())
                    : Nd4j.rand(DataType.DOUBLE, v.rows(), 1).addi(0.2).muli(5);
            scaled.add(v.mulColumnVector(s));
        }
        double b = o.compute(new ObjectiveInput(scaled, in.targets(), in.extras())).loss();
        assertEquals(a, b, 1e-10 * Math.abs(a), name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"simclr", "byol", "barlow", "vicreg", "simsiam", "mocov2", "wmse", "swav", "superinfo",
            "vicregl"})
    void everyObjectiveGivesFiniteLossAndNonZeroGradients(String objective) {
        // sanity: the registry builds each objective and its defaults produce a finite loss on the reference input
        SslTestSupport.RefCase c = SslTestSupport.referenceCases().stream()
                .filter(r -> r.objective().equals(objective)).findFirst().orElseThrow();
        Map<String, Double> params = new LinkedHashMap<>(c.params());
        LossAndGradients r = Objectives.create(objective, params).compute(c.input(DataType.DOUBLE));
        assertTrue(Double.isFinite(r.loss()), objective);
        for (INDArray g : r.gradients()) {
            assertTrue(g.norm2Number().doubleValue() > 0, objective + " has a non-zero gradient");
        }
    }
}
