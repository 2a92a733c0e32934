package org.umm4j.nn;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import static org.junit.jupiter.api.Assertions.*;

class SplitBackboneTest {

    @Test
    void composedPartsEqualTheFullPassExactlyInDoubleAtEveryTap() {
        Backbone b = Backbone.create(NnTestSupport.tiny(18, Stem.IMAGENET, 0.125, 16, DataType.DOUBLE));
        INDArray x = NnTestSupport.random(21, DataType.DOUBLE, 3, 3, 16, 16);
        NnTestSupport.perturbBatchNorm(b.graph(), x, 9);
        INDArray full = b.output(x);
        for (String tap : Taps.SPLITTABLE) {
            SplitBackbone s = b.split(tap);
            INDArray e = s.earlyFeatures(x);
            assertEquals(b.features(x, tap).get(tap), e, tap);
            assertEquals(full, s.lastOutput(e, false), tap);
            assertEquals(b.graph().numParams(), s.early().numParams() + s.last().numParams(), tap);
        }
    }

    @Test
    void composedPartsMatchInFloatForResNet50WithAHead() {
        ResNetConfig cfg = NnTestSupport.tiny(50, Stem.CIFAR, 0.125, 16, DataType.FLOAT);
        Backbone b = Backbone.create(cfg).withHeads(Heads.byolProjector(cfg.featureSize()).scaled(1.0 / 64));
        INDArray x = NnTestSupport.random(22, DataType.FLOAT, 2, 3, 16, 16);
        NnTestSupport.perturbBatchNorm(b.graph(), x, 10);
        SplitBackbone s = b.split(Taps.EARLY_DEFAULT);
        assertArrayEquals(new long[]{64, 8, 8}, s.tapShape());
        INDArray z = s.lastOutput(s.earlyFeatures(x), false);
        assertArrayEquals(new long[]{2, 4}, z.shape());
        assertTrue(b.output(x).equalsWithEps(z, 1e-5));
    }

    @Test
    void writeBackCopiesTrainedLastPartIntoTheFullBackbone() {
        Backbone b = Backbone.create(NnTestSupport.tiny(18, Stem.CIFAR, 0.125, 8, DataType.DOUBLE));
        INDArray x = NnTestSupport.random(23, DataType.DOUBLE, 4, 3, 8, 8);
        SplitBackbone s = b.split(Taps.STAGE2);
        INDArray earlyBefore = s.early().params().dup();
        INDArray stemBefore = b.graph().getLayer("stem_conv").getParam("W").dup();
        INDArray before = b.output(x);
        // "train" f_l: a train-mode pass moves its BN statistics, then perturb its weights
        INDArray e = s.earlyFeatures(x);
        s.lastOutput(e, true);
        s.last().params().addi(NnTestSupport.random(24, DataType.DOUBLE, s.last().numParams()).muli(0.05));
        INDArray tuned = s.lastOutput(e, false);
        assertFalse(before.equalsWithEps(tuned, 1e-6), "perturbing f_l must change its output");
        assertEquals(before, b.output(x), "the parent is untouched until writeBack");

        s.writeBack();
        assertEquals(tuned, b.output(x));
        assertEquals(stemBefore, b.graph().getLayer("stem_conv").getParam("W"), "f_e's layers are not written");
        assertEquals(earlyBefore, s.early().params());

        // refresh: after the parent changes, both parts follow it
        b.graph().getLayer("stem_conv").getParam("W").muli(1.5);
        s.refresh();
        assertEquals(b.output(x), s.lastOutput(s.earlyFeatures(x), false));
    }

    @Test
    void lastPartTrainsFromAnExternalGradientAndWritesBack() {
        Backbone b = Backbone.create(NnTestSupport.tiny(18, Stem.CIFAR, 0.125, 8, DataType.FLOAT));
        INDArray x = NnTestSupport.random(41, DataType.FLOAT, 4, 3, 8, 8);
        INDArray target = NnTestSupport.random(42, DataType.FLOAT, 4, 64);
        SplitBackbone s = b.split(Taps.EARLY_DEFAULT);
        INDArray e = s.earlyFeatures(x);
        org.deeplearning4j.nn.graph.ComputationGraph fl = s.last();
        double first = 0, lastLoss = 0;
        for (int it = 0; it < 8; it++) {
            INDArray z = ExternalGradients.forward(fl, e);
            INDArray diff = z.sub(target);                        // L = 1/2 |z - t|^2, dL/dz = z - t
            double loss = 0.5 * diff.mul(diff).sumNumber().doubleValue();
            if (it == 0) {
                first = loss;
            }
            lastLoss = loss;
            org.deeplearning4j.nn.gradient.Gradient g = ExternalGradients.backward(fl, diff);
            ExternalGradients.applyUpdater(fl, g, it, 0);
        }
        assertTrue(lastLoss < 0.9 * first, "loss should fall: " + first + " -> " + lastLoss);
        s.writeBack();
        assertTrue(b.output(x).equalsWithEps(s.lastOutput(e, false), 1e-5));
    }

    @Test
    void invalidSplitsAndInputsAreRejected() {
        Backbone b = Backbone.create(NnTestSupport.tiny(18, Stem.CIFAR, 0.125, 8, DataType.FLOAT));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.split(Taps.POOL));
        assertTrue(e.getMessage().contains("cannot split at 'pool'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> b.split("s2b1_conv1"));
        SplitBackbone s = b.split(Taps.STAGE1);
        e = assertThrows(IllegalArgumentException.class,
                () -> s.lastOutput(NnTestSupport.random(1, DataType.FLOAT, 2, 16, 8, 8), false));
        assertTrue(e.getMessage().contains("[N, 8, H, W]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> s.earlyFeatures(NnTestSupport.random(1, DataType.FLOAT, 2, 4, 8, 8)));
    }
}
