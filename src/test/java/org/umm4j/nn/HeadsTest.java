package org.umm4j.nn;

import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class HeadsTest {

    @Test
    void paperDefaults() {
        assertHead(Heads.simclrProjector(2048), "projector", 2048, List.of(2048), 128, MlpHeadConfig.FinalNorm.NONE);
        assertHead(Heads.byolProjector(2048), "projector", 2048, List.of(4096), 256, MlpHeadConfig.FinalNorm.NONE);
        assertHead(Heads.byolPredictor(), "predictor", 256, List.of(4096), 256, MlpHeadConfig.FinalNorm.NONE);
        assertHead(Heads.simsiamProjector(2048), "projector", 2048, List.of(2048, 2048), 2048,
                MlpHeadConfig.FinalNorm.BATCH_NORM_NO_AFFINE);
        assertHead(Heads.simsiamPredictor(), "predictor", 2048, List.of(512), 2048, MlpHeadConfig.FinalNorm.NONE);
        MlpHeadConfig bt = Heads.barlowTwinsProjector(2048);
        assertHead(bt, "projector", 2048, List.of(8192, 8192), 8192, MlpHeadConfig.FinalNorm.NONE);
        assertFalse(bt.outputBias());
        assertEquals(bt, Heads.vicregExpander(2048));
        MlpHeadConfig small = Heads.barlowTwinsProjector(64).scaled(1.0 / 256);
        assertEquals(List.of(32, 32), small.hiddenSizes());
        assertEquals(32, small.outputSize());
        assertEquals(64, small.inputSize());
    }

    private static void assertHead(MlpHeadConfig h, String name, int in, List<Integer> hidden, int out,
                                   MlpHeadConfig.FinalNorm norm) {
        assertEquals(name, h.name());
        assertEquals(in, h.inputSize());
        assertEquals(hidden, h.hiddenSizes());
        assertEquals(out, h.outputSize());
        assertEquals(norm, h.finalNorm());
        assertTrue(h.hiddenBatchNorm());
    }

    @Test
    void configValidationNamesTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MlpHeadConfig.builder().setName("p").setInputSize(0).setOutputSize(2).build());
        assertTrue(e.getMessage().contains("inputSize"));
        e = assertThrows(IllegalArgumentException.class,
                () -> MlpHeadConfig.builder().setName("p").setInputSize(3).optHiddenSizes(4, 0).setOutputSize(2).build());
        assertTrue(e.getMessage().contains("hiddenSizes[1]"));
        e = assertThrows(IllegalArgumentException.class,
                () -> MlpHeadConfig.builder().setName("bad name").setInputSize(3).setOutputSize(2).build());
        assertTrue(e.getMessage().contains("name"));
        IllegalStateException s = assertThrows(IllegalStateException.class,
                () -> MlpHeadConfig.builder().setName("p").setInputSize(3).build());
        assertTrue(s.getMessage().contains("outputSize"));
        ResNetConfig cfg = NnTestSupport.tiny(18, Stem.CIFAR, 0.125, 8, DataType.FLOAT);
        e = assertThrows(IllegalArgumentException.class, () -> Backbone.create(cfg).withHeads(Heads.byolProjector(2048)));
        assertTrue(e.getMessage().contains("inputSize 2048") && e.getMessage().contains("width 64"), e.getMessage());
    }

    @Test
    void standaloneHeadLayersAndParameterCount() {
        // 10 -> 6 (no bias, BN, ReLU) -> 7 (no bias, BN, ReLU) -> 4 (bias)
        MlpHeadConfig h = MlpHeadConfig.builder().setName("proj").setInputSize(10).optHiddenSizes(6, 7).setOutputSize(4).build();
        ComputationGraph g = Heads.build(h, 3);
        assertNull(g.getLayer("proj_fc1").getParam("b"));
        assertNotNull(g.getLayer("proj").getParam("b"));
        assertEquals(10 * 6 + 2 * 6 + 6 * 7 + 2 * 7 + 7 * 4 + 4, ParamCounts.trainable(g));
        INDArray z = g.outputSingle(false, NnTestSupport.random(1, DataType.FLOAT, 5, 10));
        assertArrayEquals(new long[]{5, 4}, z.shape());
        // Linear init U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        INDArray w = g.getLayer("proj_fc1").getParam("W");
        assertTrue(w.amaxNumber().doubleValue() <= 1 / Math.sqrt(10));
        assertEquals(1 / Math.sqrt(10) / Math.sqrt(3), w.stdNumber().doubleValue(), 0.06);
    }

    @Test
    void nonAffineFinalBatchNormStandardisesEachOutputInTraining() {
        MlpHeadConfig h = Heads.simsiamProjector(12).scaled(1.0 / 256); // 12 -> 8 -> 8 -> 8 (BN, no affine)
        ComputationGraph g = Heads.build(h, 5, DataType.DOUBLE, new org.nd4j.linalg.learning.config.Sgd(0.1));
        assertNull(g.getLayer("projector").getParam("gamma"), "no learnable gamma");
        assertNull(g.getLayer("projector").getParam("beta"), "no learnable beta");
        INDArray z = ExternalGradients.forward(g, NnTestSupport.random(2, DataType.DOUBLE, 16, 12));
        INDArray mean = z.mean(0);
        INDArray var = z.var(false, 0);
        for (int j = 0; j < 8; j++) {
            assertEquals(0, mean.getDouble(j), 1e-9);
            assertEquals(1, var.getDouble(j), 1e-3); // 1 / (1 + eps/var_batch)
        }
    }

    /**
     * End-to-end training path of a backbone with a head: one train-mode forward pass, then
     * {@code backpropGradient(dL/dz)} with an external gradient G for L = sum(G * z). The parameter gradients
     * (stem conv, a deep BN gamma, head weights and bias) are checked against central differences in DOUBLE.
     */
    @Test
    @org.junit.jupiter.api.Tag("slow") // ~3 s alone, up to ~30 s on an oversubscribed 2-core machine (24 DOUBLE passes)
    void backboneWithHeadBackpropagatesAnExternalGradient() {
        ResNetConfig cfg = ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, 6, 6)
                .optWidthMultiplier(0.0625).optSeed(11).optDataType(DataType.DOUBLE).build();
        MlpHeadConfig head = MlpHeadConfig.builder().setName("projector").setInputSize(cfg.featureSize())
                .optHiddenSizes(6).setOutputSize(5).build();
        Backbone b = Backbone.create(cfg, new org.nd4j.linalg.learning.config.Sgd(0.1), head);
        ComputationGraph g = b.graph();
        INDArray x = NnTestSupport.random(31, DataType.DOUBLE, 4, 3, 6, 6);
        INDArray dz = NnTestSupport.random(32, DataType.DOUBLE, 4, 5);

        INDArray z = ExternalGradients.forward(g, x);
        Gradient grad = ExternalGradients.backward(g, dz);
        assertEquals(b.output(x, true), z);

        String[] keys = {"stem_conv_W", "s4b2_bn2_gamma", "s2b1_proj_conv_W", "projector_fc1_W", "projector_W", "projector_b"};
        double h = 1e-6;
        for (String key : keys) {
            INDArray p = g.getParam(key);
            INDArray analytic = grad.getGradientFor(key);
            assertNotNull(analytic, key);
            for (long i : new long[]{p.length() / 3, p.length() - 1}) {
                double orig = p.getDouble(i);
                p.putScalar(i, orig + h);
                double lp = b.output(x, true).mul(dz).sumNumber().doubleValue();
                p.putScalar(i, orig - h);
                double lm = b.output(x, true).mul(dz).sumNumber().doubleValue();
                p.putScalar(i, orig);
                double numeric = (lp - lm) / (2 * h);
                double a = analytic.getDouble(i);
                assertEquals(numeric, a, 1e-6 + 1e-5 * Math.abs(numeric), key + "[" + i + "]");
            }
        }
        assertTrue(grad.getGradientFor("stem_conv_W").norm2Number().doubleValue() > 0);
        assertThrows(IllegalArgumentException.class, () -> ExternalGradients.backward(g, dz.getRows(0, 1)));
    }

    @Test
    void applyUpdaterTakesTheGradientAsItIs() {
        // SGD(lr): the step must be lr * g exactly; DL4J's miniBatch option would divide g by a batch size
        MlpHeadConfig head = MlpHeadConfig.builder().setName("projector").setInputSize(12).optHiddenSizes(6)
                .setOutputSize(5).build();
        ComputationGraph g = Heads.build(head, 3, DataType.DOUBLE, new org.nd4j.linalg.learning.config.Sgd(0.1));
        INDArray x = NnTestSupport.random(41, DataType.DOUBLE, 8, 12);
        ExternalGradients.forward(g, x);
        Gradient grad = ExternalGradients.backward(g, NnTestSupport.random(42, DataType.DOUBLE, 8, 5));
        INDArray gw = grad.getGradientFor("projector_W").dup();
        INDArray before = g.getParam("projector_W").dup();
        ExternalGradients.applyUpdater(g, grad, 0, 0);
        INDArray step = before.sub(g.getParam("projector_W"));
        assertEquals(0, step.sub(gw.mul(0.1)).amaxNumber().doubleValue(), 1e-12, "step = lr * gradient");
    }
}
