package org.umm4j.umm;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.umm4j.backend.Umm4jBackend;
import org.umm4j.nn.Backbone;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.SplitBackbone;
import org.umm4j.nn.Stem;
import org.umm4j.nn.Taps;
import org.umm4j.ssl.MethodConfig;
import org.umm4j.ssl.Methods;
import org.umm4j.ssl.Objectives;
import org.umm4j.ssl.SslMethod;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The UMM oracles against central finite differences of their scalar losses, on a tiny DOUBLE ResNet. */
class UmmProblemTest {
    private static DataType savedType;
    private static DataType savedFloat;

    @BeforeAll
    static void doubles() {
        Umm4jBackend.init();
        savedType = Nd4j.dataType();
        savedFloat = Nd4j.defaultFloatingPointType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    }

    @AfterAll
    static void restore() {
        Nd4j.setDefaultDataTypes(savedType, savedFloat);
    }

    private static INDArray randn(long seed, long... shape) {
        Random r = new Random(seed);
        INDArray a = Nd4j.create(DataType.DOUBLE, shape);
        for (long i = 0; i < a.length(); i++) {
            a.putScalar(i, r.nextGaussian());
        }
        return a;
    }

    /** A width-0.0625 ResNet-18 on 8x8 inputs with a 1/64-scaled SimCLR projector, split at stage 2. */
    static SplitBackbone tinySplit(String method) {
        ResNetConfig rc = ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, 8, 8)
                .optWidthMultiplier(0.0625).optSeed(7).optDataType(DataType.DOUBLE).build();
        SslMethod m = Methods.create(MethodConfig.of(method, rc, 10, 3).withHeadScale(1.0 / 64));
        Backbone b = m.createOnline();
        return b.split(Taps.EARLY_DEFAULT);
    }

    private static UmmProblem problem(SplitBackbone split, UmmConfig cfg, boolean phi) {
        UmmProblem p = new UmmProblem(split.last(), Objectives.create("simclr", Map.of()), cfg, "projector", phi);
        INDArray x1 = randn(1, 5, 3, 8, 8);
        INDArray x2 = randn(2, 5, 3, 8, 8);
        p.setBatch(split.earlyFeatures(x1), split.earlyFeatures(x2), List.of(), 99);
        return p;
    }

    private static UmmConfig cfg(double beta, double lambda) {
        return new UmmConfig(beta, lambda, 0.5, 0.5, new CpaSketch(3, 1e-2, 1e-6), 4);
    }

    private static void checkAgainstFd(INDArray theta, INDArray grad, Function<INDArray, Double> loss, long seed) {
        Random r = new Random(seed);
        double h = 1e-6;
        int checked = 0;
        double worst = 0;
        for (int t = 0; t < 8; t++) {
            long i = (long) (r.nextDouble() * theta.length());
            INDArray plus = theta.dup();
            plus.putScalar(i, theta.getDouble(i) + h);
            INDArray minus = theta.dup();
            minus.putScalar(i, theta.getDouble(i) - h);
            double fd = (loss.apply(plus) - loss.apply(minus)) / (2 * h);
            double an = grad.getDouble(i);
            double err = Math.abs(fd - an) / Math.max(1e-4, Math.abs(fd) + Math.abs(an));
            worst = Math.max(worst, err);
            checked++;
        }
        assertEquals(8, checked);
        assertTrue(worst < 1e-3, "worst relative error " + worst);
    }

    @Test
    void innerGradientMatchesFiniteDifferencesOfTheInnerLoss() {
        UmmProblem p = problem(tinySplit("simclr"), cfg(1, 1), false);
        INDArray theta = p.theta();
        UmmProblem.Evaluation e = p.inner(theta, null, true);
        assertTrue(e.parts().get("js") > 0, e.parts().toString());
        checkAgainstFd(theta, e.gradTheta(), th -> p.inner(th, null, false).loss(), 11);
        // the oracle restores the graph
        assertEquals(theta, p.theta());
    }

    @Test
    void workspacePathGivesTheOraclesOfTheExternalGradientPath() {
        SplitBackbone s = tinySplit("simclr");
        UmmProblem fast = problem(s, cfg(1, 1), true);
        UmmProblem slow = problem(s, cfg(1, 1), true);
        fast.workspacePathForTest(true);
        slow.workspacePathForTest(false);
        INDArray theta = fast.theta().add(randn(5, fast.theta().length()).muli(1e-2));
        INDArray phi = fast.phi();
        for (boolean inner : new boolean[]{true, false}) {
            UmmProblem.Evaluation a = inner ? fast.inner(theta, phi, true) : fast.outer(theta, phi, true);
            UmmProblem.Evaluation b = inner ? slow.inner(theta, phi, true) : slow.outer(theta, phi, true);
            String what = inner ? "inner" : "outer";
            assertEquals(b.loss(), a.loss(), 1e-10 * Math.abs(b.loss()), what + " loss");
            assertEquals(b.parts().keySet(), a.parts().keySet(), what);
            for (String k : b.parts().keySet()) {
                assertEquals(b.parts().get(k), a.parts().get(k), 1e-10 * Math.abs(b.parts().get(k)), what + " " + k);
            }
            double scale = b.gradTheta().amaxNumber().doubleValue();
            assertTrue(scale > 0);
            assertTrue(a.gradTheta().sub(b.gradTheta()).amaxNumber().doubleValue() <= 1e-10 * scale, what + " theta");
            assertTrue(a.gradPhi().sub(b.gradPhi()).amaxNumber().doubleValue()
                    <= 1e-10 * b.gradPhi().amaxNumber().doubleValue(), what + " phi");
        }
        // the oracles restore the graph: the BatchNorm steps and parameters of both problems agree after commit
        Map<String, Double> cs = slow.commit(theta, phi);
        Map<String, Double> cf = fast.commit(theta, phi);
        assertEquals(cs.keySet(), cf.keySet());
        cs.forEach((k, v) -> assertEquals(v, cf.get(k), 1e-10 * Math.abs(v), "commit " + k));
        assertTrue(fast.graph().params().sub(slow.graph().params()).amaxNumber().doubleValue() < 1e-12);
    }

    @Test
    void jsTermAloneHasTheGradientOfItsValue() {
        // beta large relative to SSL: the FD check is then mostly a check of the JS back-propagation
        UmmProblem p = problem(tinySplit("simclr"), cfg(50, 0), false);
        INDArray theta = p.theta();
        UmmProblem p0 = problem(tinySplit("simclr"), cfg(0, 0), false);
        INDArray gJs = p.innerGradient(theta, null).sub(p0.innerGradient(theta, null));
        double js0 = p.inner(theta, null, false).loss() - p0.inner(theta, null, false).loss();
        assertTrue(js0 > 0);
        checkAgainstFd(theta, gJs, th -> p.inner(th, null, false).loss() - p0.inner(th, null, false).loss(), 13);
    }

    @Test
    void outerGradientMatchesFiniteDifferencesOfTheOuterLoss() {
        UmmProblem p = problem(tinySplit("simclr"), cfg(1, 1), false);
        INDArray theta = p.theta();
        UmmProblem.Evaluation e = p.outer(theta, null, true);
        assertTrue(e.parts().get("dR") > 0, e.parts().toString());
        checkAgainstFd(theta, e.gradTheta(), th -> p.outer(th, null, false).loss(), 17);
        // the top-k sparsified membership (held fixed) gives a different dR with its own exact gradient
        UmmProblem q = problem(tinySplit("simclr"), cfg(1, 1).withMembershipTopK(3), false);
        UmmProblem.Evaluation eq = q.outer(theta, null, true);
        assertTrue(Math.abs(eq.parts().get("dR") - e.parts().get("dR")) > 1e-9);
        checkAgainstFd(theta, eq.gradTheta(), th -> q.outer(th, null, false).loss(), 29);
    }

    @Test
    void membershipIsFixedAtTheStartPointWhateverTheOrderOfTheCalls() {
        // P comes from the first forward at the step's start; a first call elsewhere takes a forward of its own
        for (int topK : new int[] {0, 3}) {
            SplitBackbone s = tinySplit("simclr");
            UmmProblem reused = problem(s, cfg(1, 1).withMembershipTopK(topK), false);
            UmmProblem fallback = problem(s, cfg(1, 1).withMembershipTopK(topK), false);
            INDArray theta = reused.theta();
            INDArray moved = theta.add(randn(31, theta.length()).muli(0.05));
            reused.innerGradient(theta, null);
            UmmProblem.Evaluation a = reused.outer(moved, null, true);
            UmmProblem.Evaluation b = fallback.outer(moved, null, true);
            assertEquals(b.parts().get("dR"), a.parts().get("dR"), 1e-12, "topK " + topK);
            assertEquals(0, a.gradTheta().sub(b.gradTheta()).amaxNumber().doubleValue(), 1e-12, "topK " + topK);
            // and P is not taken at the moved point: a problem started there gives another dR
            UmmProblem there = new UmmProblem(s.last(), Objectives.create("simclr", Map.of()),
                    cfg(1, 1).withMembershipTopK(topK), "projector", false);
            there.setParameters(moved, null);
            there.setBatch(s.earlyFeatures(randn(1, 5, 3, 8, 8)), s.earlyFeatures(randn(2, 5, 3, 8, 8)), List.of(), 99);
            assertTrue(Math.abs(there.outer(moved, null, false).parts().get("dR") - a.parts().get("dR")) > 1e-9);
        }
    }

    @Test
    void commitMovesBatchNormStatisticsOneStepTowardsTheStartBatch() {
        SplitBackbone s = tinySplit("simclr");
        UmmProblem p = problem(s, cfg(1, 1), false);
        ComputationGraph g = p.graph();
        org.deeplearning4j.nn.conf.layers.BatchNormalization bnConf = null;
        String bn = null;
        for (org.deeplearning4j.nn.api.Layer l : g.getLayers()) {
            if (l.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.BatchNormalization c) {
                bn = l.conf().getLayer().getLayerName();
                bnConf = c;
                break;
            }
        }
        assertTrue(bn != null, "f_l has a BatchNorm layer");
        String input = g.getConfiguration().getVertexInputs().get(bn).get(0);
        INDArray views = org.nd4j.linalg.factory.Nd4j.concat(0, s.earlyFeatures(randn(1, 5, 3, 8, 8)),
                s.earlyFeatures(randn(2, 5, 3, 8, 8)));
        INDArray theta = p.theta();
        INDArray before = g.getLayer(bn).getParam("mean").dup();
        INDArray act = g.feedForward(new INDArray[] {views}, true, false).get(input);
        INDArray batchMean = act.mean(0, 2, 3);
        g.getLayer(bn).setParam("mean", before.dup()); // undo whatever the probing forward did
        double decay = bnConf.getDecay();

        Hypergradient.Directions d = Hypergradient.byName("unrolled", 0.1).compute(p, theta, null);
        INDArray moved = theta.sub(d.theta().mul(1e-3));
        Map<String, Double> logged = p.commit(moved, null);
        INDArray after = g.getLayer(bn).getParam("mean");
        INDArray want = before.add(batchMean.reshape(before.shape()).sub(before).mul(1 - decay));
        assertEquals(0, after.sub(want).amaxNumber().doubleValue(), 1e-9, "running mean = old + (batch - old)(1 - decay)");
        assertTrue(before.sub(after).amaxNumber().doubleValue() > 1e-6, "the statistics moved");
        assertEquals(moved, p.theta(), "theta committed");
        // the logged values are those of the start point: L_SSL there, dR of its pooled features
        UmmProblem q = problem(tinySplit("simclr"), cfg(1, 1), false);
        assertEquals(q.ssl(theta, null, false).loss(), logged.get("ssl"), 1e-9);
        assertTrue(logged.get("dR") > 0);
        // without an evaluation at the start point, commit computes the same statistics itself
        UmmProblem r = problem(tinySplit("simclr"), cfg(1, 1), false);
        r.commit(moved, null);
        assertEquals(0, r.graph().getLayer(bn).getParam("mean").sub(after).amaxNumber().doubleValue(), 1e-12);
    }

    @Test
    void phiGradientsMatchFiniteDifferencesWhenTheProjectorIsSplitOff() {
        UmmProblem p = problem(tinySplit("simclr"), cfg(1, 1), true);
        INDArray theta = p.theta();
        INDArray phi = p.phi();
        assertTrue(phi.length() > 0);
        INDArray gi = p.innerGradientPhi(theta, phi);
        checkAgainstFd(phi, gi, ph -> p.inner(theta, ph, false).loss(), 19);
        INDArray go = p.outerGradientPhi(theta, phi);
        checkAgainstFd(phi, go, ph -> p.outer(theta, ph, false).loss(), 23);
        assertThrows(UnsupportedOperationException.class,
                () -> problem(tinySplit("simclr"), cfg(1, 1), false).innerGradientPhi(theta, phi));
    }

    @Test
    void jsGradientIsNonZeroAndChangesTheUpdateWithBeta() {
        SplitBackbone s = tinySplit("simclr");
        UmmProblem p1 = problem(s, cfg(1, 1), false);
        UmmProblem p0 = problem(s, cfg(0, 1), false);
        INDArray theta = p1.theta();
        INDArray diff = p1.innerGradient(theta, null).sub(p0.innerGradient(theta, null));
        assertTrue(diff.norm2Number().doubleValue() > 1e-8, "JS gradient norm " + diff.norm2Number());
        Hypergradient hg = Hypergradient.byName("unrolled", 0.1);
        INDArray d1 = hg.compute(p1, theta, null).theta();
        INDArray d0 = hg.compute(p0, theta, null).theta();
        double rel = d1.sub(d0).norm2Number().doubleValue() / d0.norm2Number().doubleValue();
        assertTrue(rel > 1e-6, "update changed by " + rel);
    }

    @Test
    void rejectsBadInput() {
        SplitBackbone s = tinySplit("simclr");
        UmmProblem p = new UmmProblem(s.last(), Objectives.create("simclr", Map.of()), cfg(1, 1), "projector", false);
        assertThrows(IllegalStateException.class, () -> p.innerGradient(p.theta(), null));
        INDArray e = s.earlyFeatures(randn(1, 4, 3, 8, 8));
        assertThrows(IllegalArgumentException.class, () -> p.setBatch(e, e.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2)), List.of(), 1));
        p.setBatch(e, e, List.of(), 1);
        assertThrows(IllegalArgumentException.class, () -> p.innerGradient(Nd4j.zeros(DataType.DOUBLE, 3), null));
        assertThrows(IllegalArgumentException.class, () -> new UmmProblem(s.last(), Objectives.create("simclr", Map.of()),
                cfg(1, 1), "nohead", true));
        assertThrows(IllegalArgumentException.class, () -> new UmmConfig(-1, 1, 0.5, 0.5, CpaSketch.defaults(), 32));
    }
}
