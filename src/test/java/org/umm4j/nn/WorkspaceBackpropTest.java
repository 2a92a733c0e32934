package org.umm4j.nn;

import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class WorkspaceBackpropTest {

    @Test
    void theForwardCacheChangesNoGradient() {
        ComputationGraph ga = NnTestSupport.tinyWithProjector(DataType.FLOAT).graph();
        ComputationGraph gb = ga.clone();
        WorkspaceBackprop cached = new WorkspaceBackprop(ga, true, false, false);
        WorkspaceBackprop plain = new WorkspaceBackprop(gb, false, false, false);
        assertTrue(cached.cachesForward());
        assertFalse(plain.cachesForward());
        assertSameSteps(cached, ga, plain, gb, 30);
        if (org.umm4j.backend.Umm4jBackend.init()) {
            // umm4j's convolution helpers hand their outputs to DL4J as the cached pre-activations (no copy into the
            // cache): one forward pass per step, where the twin without a cache runs each twice
            for (String conv : new String[]{"stem_conv", "s1b1_conv1", "s1b1_conv2"}) {
                org.deeplearning4j.nn.api.Layer l = cached.twinForTest().getLayer(conv);
                assertEquals(2, org.umm4j.backend.Umm4jBackend.convolutionForwardPasses(l), conv);
                assertEquals(org.deeplearning4j.nn.conf.CacheMode.NONE,
                        ((org.deeplearning4j.nn.layers.AbstractLayer<?>) l).getCacheMode(), conv);
                assertEquals(4, org.umm4j.backend.Umm4jBackend.convolutionForwardPasses(
                        plain.twinForTest().getLayer(conv)), conv);
            }
        }
    }

    /**
     * Two steps of both twins from the same state with a fixed, non-trivial objective (dL/dz = z / 10 - 0.05):
     * bit-identical gradients, and BatchNorm running statistics updated identically by both forward passes.
     */
    private static void assertSameSteps(WorkspaceBackprop a, ComputationGraph ga, WorkspaceBackprop b,
                                        ComputationGraph gb, long seed) {
        for (int step = 0; step < 2; step++) {
            INDArray x = NnTestSupport.random(seed + step, DataType.FLOAT, 6, 3, 16, 16);
            Gradient g1 = a.backprop(x, z -> z.div(10).subi(0.05));
            Gradient g2 = b.backprop(x.dup(), z -> z.div(10).subi(0.05));
            assertEquals(g2.gradient(), g1.gradient(), "step " + step);
            assertTrue(g1.gradient().amaxNumber().doubleValue() > 0);
            assertEquals(gb.params(), ga.params(), "step " + step);
        }
    }

    @Test
    void theStepReluChangesNoGradient() {
        ComputationGraph ga = NnTestSupport.tinyWithProjector(DataType.FLOAT).graph();
        ComputationGraph gb = ga.clone();
        WorkspaceBackprop fast = new WorkspaceBackprop(ga, true, true, false);
        WorkspaceBackprop dl4j = new WorkspaceBackprop(gb, true, false, false);
        assertSameSteps(fast, ga, dl4j, gb, 50);
        // every ReLU of the ResNet-18 (17) and of the projector's hidden layer, none in DL4J's own configuration
        assertEquals(18, fast.fastReLUs());
        assertEquals(0, dl4j.fastReLUs());
        for (org.deeplearning4j.nn.conf.graph.GraphVertex v : ga.getConfiguration().getVertices().values()) {
            if (v instanceof org.deeplearning4j.nn.conf.graph.LayerVertex lv) {
                assertEquals(false, lv.getLayerConf().getLayer() instanceof ActivationLayer al
                        && al.getActivationFn() instanceof WorkspaceBackprop.StepReLU, "source graph untouched");
            }
        }
        // the backward pass itself against relu_bp on values with zeros and both signs, in DOUBLE
        INDArray in = Nd4j.create(new double[]{-2, -0.0, 0, 1e-30, 3, -1e-30}, new long[]{2, 3});
        INDArray eps = Nd4j.create(new double[]{1, 2, 3, 4, -5, 6}, new long[]{2, 3});
        INDArray expected = new org.nd4j.linalg.activations.impl.ActivationReLU().backprop(in.dup(), eps).getFirst();
        assertEquals(expected, new WorkspaceBackprop.StepReLU().backprop(in.dup(), eps).getFirst());
        assertEquals(Nd4j.create(new double[]{0, 0, 0, 4, -5, 0}, new long[]{2, 3}), expected);
    }

    /**
     * ReLUs fused in the twin (the BatchNorm helper applies the ReLU and masks the gradient; residual sums become
     * add+relu vertices; the ReLU layers pass through): the same gradients and BatchNorm statistics as separate
     * layers. Fused are the 9 BatchNorm pairs of the ResNet-18 (stem and each block's first BatchNorm) and its 8
     * residual sums, not the projector's 2-D BatchNorm nor an output that an objective asks for; a helper that stops
     * fusing fails the step instead of dropping the ReLU.
     */
    @Test
    void fusedReluChangesNoGradient() throws Exception {
        assumeTrue(org.umm4j.backend.Umm4jBackend.init(), "oneDNN fast path not available");
        ComputationGraph ga = NnTestSupport.tinyWithProjector(DataType.FLOAT).graph();
        ComputationGraph gb = ga.clone();
        WorkspaceBackprop fused = new WorkspaceBackprop(ga, true, true, true);
        WorkspaceBackprop separate = new WorkspaceBackprop(gb, true, true, false);
        assertSameSteps(fused, ga, separate, gb, 70);
        assertEquals(9, fused.fusedBatchNorms().size(), fused.fusedBatchNorms().toString());
        assertTrue(fused.fusedBatchNorms().contains("s1b1_bn1"), fused.fusedBatchNorms().toString());
        assertEquals(0, separate.fusedBatchNorms().size());
        assertEquals(8, fused.fusedAdds().size(), fused.fusedAdds().toString());
        assertTrue(fused.fusedAdds().contains("s1b1_add"), fused.fusedAdds().toString());
        assertEquals(0, separate.fusedAdds().size());
        for (org.deeplearning4j.nn.conf.graph.GraphVertex v : ga.getConfiguration().getVertices().values()) {
            if (v instanceof org.deeplearning4j.nn.conf.graph.LayerVertex lv) {
                assertFalse(lv.getLayerConf().getLayer() instanceof PassThroughRelu, "source graph untouched");
            }
        }

        // an objective reading a fused BatchNorm's own output: the twin is rebuilt without that pair
        INDArray x = NnTestSupport.random(77, DataType.FLOAT, 6, 3, 16, 16);
        INDArray[] bnOut = new INDArray[1];
        fused.backprop(x, List.of("s1b1_bn1"), f -> {
            bnOut[0] = f.activation("s1b1_bn1");
            return List.of(f.outputs().get(0).div(10));
        });
        assertTrue(bnOut[0].minNumber().doubleValue() < 0, "the BatchNorm output before the ReLU");
        assertEquals(8, fused.fusedBatchNorms().size());
        assertFalse(fused.fusedBatchNorms().contains("s1b1_bn1"));
        fused.backprop(x, List.of("s1b1_add"), f -> {
            bnOut[0] = f.activation("s1b1_add");
            return List.of(f.outputs().get(0).div(10));
        });
        assertTrue(bnOut[0].minNumber().doubleValue() < 0, "the residual sum before the ReLU");
        assertEquals(7, fused.fusedAdds().size());
        assertEquals(8, fused.fusedBatchNorms().size(), "earlier requests stay unfused");

        // a re-created helper (as DL4J makes on clone/load) does not apply the ReLU: the pass-through layer refuses
        String bn = fused.fusedBatchNorms().iterator().next();
        org.deeplearning4j.nn.layers.normalization.BatchNormalization layer =
                (org.deeplearning4j.nn.layers.normalization.BatchNormalization) fused.twinForTest().getLayer(bn);
        java.lang.reflect.Field helper = layer.getClass().getDeclaredField("helper");
        helper.setAccessible(true);
        helper.set(layer, new org.deeplearning4j.nn.layers.mkldnn.MKLDNNBatchNormHelper(DataType.FLOAT));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> fused.backprop(x, z -> z.div(10)));
        assertTrue(e.getMessage().contains("did not apply the fused ReLU"), e.getMessage());
    }

    /**
     * umm4j's convolution helper in the twin (transposed-convolution input gradients for layers of at most 16
     * channels, no input gradient for the layer reading the network input) against DL4J's helper: the same
     * parameter gradients to float rounding over two calls (no updates in between, so nothing amplifies).
     */
    @Test
    void blockedConvolutionBatchNormPairsChangeGradientsOnlyByRounding() {
        assumeTrue(org.umm4j.backend.Umm4jBackend.init(), "oneDNN fast path not available");
        // width 16: every convolution's channel count is a multiple of 16, so the pairs are connected
        ResNetConfig cfg = NnTestSupport.tiny(18, Stem.CIFAR, 0.25,
                16, DataType.FLOAT);
        ComputationGraph ga = Backbone.create(cfg, new org.nd4j.linalg.learning.config.Sgd(0.1),
                Heads.simclrProjector(cfg.featureSize()).scaled(1.0 / 64)).graph();
        ComputationGraph gb = ga.clone();
        WorkspaceBackprop blocked = new WorkspaceBackprop(ga, true, true, true);
        WorkspaceBackprop plain = new WorkspaceBackprop(gb, true, true, true);
        String key = org.umm4j.backend.Umm4jBackend.BLOCKED_BATCH_NORM_PROPERTY;
        String old = System.getProperty(key);
        try {
            int[][] batches = {{6, 16}, {6, 8}, {4, 16}, {6, 16}}; // sizes change: primitives and buffers rebuilt
            for (int[] b : batches) {
                INDArray x = NnTestSupport.random(17 + b[0] + b[1], DataType.FLOAT, b[0], 3, b[1], b[1]);
                System.setProperty(key, "true");
                INDArray g1 = blocked.backprop(x, z -> z.div(10).subi(0.05)).gradient().dup();
                System.setProperty(key, "false");
                INDArray g2 = plain.backprop(x.dup(), z -> z.div(10).subi(0.05)).gradient().dup();
                double scale = g2.amaxNumber().doubleValue();
                double diff = g1.sub(g2).amaxNumber().doubleValue();
                // oneDNN's blocked kernel sums the statistics in another order than umm4j's NCHW passes (float);
                // a wrong gradient anywhere is 1e-3 of the scale and more
                assertTrue(scale > 0 && diff <= 5e-5 * scale,
                        java.util.Arrays.toString(b) + ": " + diff + " of " + scale);
                // running mean and variance (DL4J stores the latter as "var" or "log10stdev")
                for (String stat : ga.getLayer("s1b1_bn1").paramTable().keySet()) {
                    if (stat.equals("gamma") || stat.equals("beta")) {
                        continue;
                    }
                    INDArray sa = ga.getLayer("s1b1_bn1").getParam(stat);
                    INDArray sb = gb.getLayer("s1b1_bn1").getParam(stat);
                    assertTrue(sa.sub(sb).amaxNumber().doubleValue() <= 1e-5 * (1 + sb.amaxNumber().doubleValue()),
                            "running " + stat + " as without pairing: " + sa + " vs " + sb);
                }
            }
        } finally {
            if (old == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, old);
            }
        }
        // every convolution read only by a BatchNorm: the stem, two per basic block, the projection shortcuts
        assertEquals(20, blocked.convBatchNormsForTest().size());
        assertEquals("s1b1_bn1", blocked.convBatchNormsForTest().get("s1b1_conv1"));
        // and each basic block's first BatchNorm + ReLU, read only by the block's second convolution
        assertEquals(8, blocked.batchNormConvsForTest().size(), blocked.batchNormConvsForTest().toString());
        assertEquals("s1b1_conv2", blocked.batchNormConvsForTest().get("s1b1_bn1"));
        // the residual stream of stages 1-3 (stage 4's last sum feeds the pooling layer, so that stage stays NCHW):
        // 6 sums, their 6 second BatchNorms, 2 projection BatchNorms and the stem's BatchNorm produce it; 10
        // convolutions (each block's first and the projections of stages 2-4) read it
        WorkspaceBackprop.ResidualStream st = blocked.streamForTest();
        assertEquals(15, st.producers().size(), st.toString());
        assertEquals(15, blocked.streamTensorsForTest(), "all of them paired");
        assertEquals(0, plain.streamTensorsForTest(), "none with the blocked edges off");
        assertEquals("s1b1_out", st.producers().get("s1b1_add"));
        assertEquals("stem", st.producers().get("stem_bn"));
        assertEquals(List.of("s2b1_bn2", "s2b1_proj_bn"), st.sumInputs().get("s2b1_add"));
        assertEquals("s3b2_add", st.convInputs().get("s4b1_proj_conv"));
        assertEquals(10, st.convInputs().size());
        assertFalse(st.producers().containsKey("s4b2_add") || st.producers().containsKey("s4b1_add"));
    }

    @Test
    void umm4jConvolutionHelpersChangeGradientsOnlyByRounding() {
        assumeTrue(org.umm4j.backend.Umm4jBackend.init(), "oneDNN fast path not available");
        String key = org.umm4j.backend.Umm4jBackend.FAST_CONVOLUTION_PROPERTY;
        String old = System.getProperty(key);
        try {
            for (String mode : new String[]{"dnnl", "deconv"}) {
                ComputationGraph ga = NnTestSupport.tinyWithProjector(DataType.FLOAT).graph();
                ComputationGraph gb = ga.clone();
                WorkspaceBackprop umm4j = new WorkspaceBackprop(ga, true, true, true);
                WorkspaceBackprop dl4j = new WorkspaceBackprop(gb, true, true, true);
                for (int step = 0; step < 2; step++) {
                    INDArray x = NnTestSupport.random(90 + step, DataType.FLOAT, 6, 3, 16, 16);
                    System.setProperty(key, mode);
                    INDArray g1 = umm4j.backprop(x, z -> z.div(10).subi(0.05)).gradient().dup();
                    System.setProperty(key, "false");
                    INDArray g2 = dl4j.backprop(x.dup(), z -> z.div(10).subi(0.05)).gradient().dup();
                    double scale = g2.amaxNumber().doubleValue();
                    double diff = g1.sub(g2).amaxNumber().doubleValue();
                    assertTrue(scale > 0 && diff <= 1e-5 * scale, mode + " step " + step + ": " + diff + " of " + scale);
                }
                // dnnl: every convolution; deconv: the twin's first convolution (no input gradient) and the width-8
                // block convolutions
                String helper = mode.equals("dnnl") ? "DnnlConvHelper" : "NarrowConvHelper";
                assertEquals(helper, umm4j.twinForTest().getLayer("stem_conv").getHelper().getClass().getSimpleName());
                assertEquals(helper, umm4j.twinForTest().getLayer("s1b1_conv1").getHelper().getClass().getSimpleName());
                assertEquals("MKLDNNConvHelper",
                        dl4j.twinForTest().getLayer("stem_conv").getHelper().getClass().getSimpleName());
                assertEquals("MKLDNNConvHelper", ga.getLayer("stem_conv").getHelper().getClass().getSimpleName(),
                        "the source graph keeps DL4J's helper");
            }
        } finally {
            if (old == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, old);
            }
        }
    }

    /**
     * input [N, 3, 6, 6] -> conv 3x3 (4) -> BN -> ReLU "r" -> conv 1x1 (5) = output "maps" [N, 5, 6, 6], and
     * "r" -> average pool -> dense (3) = output "z" [N, 3]: two outputs, one of them 4-D, and an inner activation.
     */
    private static ComputationGraph twoOutputs(DataType dt) {
        ComputationGraph g = new ComputationGraph(ResNets.globalConfig(5, dt, new Sgd(0.1)).graphBuilder()
                .addInputs("in").setInputTypes(InputType.convolutional(6, 6, 3))
                .addLayer("c", new ConvolutionLayer.Builder(3, 3).nOut(4).padding(1, 1).hasBias(false)
                        .activation(Activation.IDENTITY).build(), "in")
                .addLayer("bn", new BatchNormalization.Builder().nOut(4).build(), "c")
                .addLayer("r", new ActivationLayer.Builder().activation(Activation.RELU).build(), "bn")
                .addLayer("maps", new ConvolutionLayer.Builder(1, 1).nOut(5).activation(Activation.IDENTITY).build(), "r")
                .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "r")
                .addLayer("z", new DenseLayer.Builder().nOut(3).activation(Activation.IDENTITY).build(), "pool")
                .setOutputs("z", "maps").build());
        g.init();
        return g;
    }

    @Test
    void twoOutputsWithMapsAndAnInnerActivationMatchTheExternalGradientPath() {
        ComputationGraph ga = twoOutputs(DataType.DOUBLE);
        ComputationGraph gb = ga.clone();
        WorkspaceBackprop wb = new WorkspaceBackprop(ga);
        for (int step = 0; step < 2; step++) {
            INDArray x = NnTestSupport.random(40 + step, DataType.DOUBLE, 4, 3, 6, 6);
            // a coupled objective: dL/dz and dL/dmaps each depend on both outputs
            INDArray[] seen = new INDArray[3];
            Gradient g1 = wb.backprop(x, List.of("r"), f -> {
                INDArray z = f.outputs().get(0);
                INDArray m = f.outputs().get(1);
                seen[0] = z;
                seen[1] = m;
                seen[2] = f.activation("r");
                return List.of(z.div(10).addi(m.meanNumber().doubleValue()), m.mul(0.2).subi(z.sumNumber().doubleValue() / 50));
            });
            gb.getConfiguration().setTrainingWorkspaceMode(WorkspaceMode.NONE);
            Map<String, INDArray> acts = gb.feedForward(new INDArray[]{x.dup()}, true, false);
            INDArray z = acts.get("z");
            INDArray m = acts.get("maps");
            assertEquals(4, seen[1].rank(), "the objective sees the maps in their own shape");
            assertEquals(z, seen[0], "step " + step);
            assertEquals(m, seen[1], "step " + step);
            assertEquals(acts.get("r"), seen[2], "step " + step);
            Gradient g2 = gb.backpropGradient(z.div(10).addi(m.meanNumber().doubleValue()),
                    m.mul(0.2).subi(z.sumNumber().doubleValue() / 50));
            double diff = g1.gradient().sub(g2.gradient()).amaxNumber().doubleValue();
            assertTrue(diff < 1e-12, "step " + step + ": gradients differ by " + diff);
            assertTrue(g1.gradient().amaxNumber().doubleValue() > 1e-3);
            assertEquals(gb.params(), ga.params(), "BatchNorm statistics, step " + step);
        }
    }

    @Test
    void wrongRequestsNameWhatWasExpected() {
        ComputationGraph g = twoOutputs(DataType.FLOAT);
        WorkspaceBackprop wb = new WorkspaceBackprop(g);
        INDArray x = NnTestSupport.random(3, DataType.FLOAT, 2, 3, 6, 6);
        IllegalStateException one = assertThrows(IllegalStateException.class, () -> wb.backprop(x, zz -> zz));
        assertTrue(one.getMessage().contains("2 outputs"), one.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> wb.backprop(x, List.of("nope"), f -> f.outputs()));
        assertTrue(unknown.getMessage().contains("'nope'"), unknown.getMessage());
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> wb.backprop(x, List.of(), f -> List.of(f.outputs().get(0))));
        assertTrue(count.getMessage().contains("expected 2 gradient(s)"), count.getMessage());
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> wb.backprop(x, List.of(), f -> List.of(f.outputs().get(0), f.outputs().get(0))));
        assertTrue(shape.getMessage().contains("[2, 5, 6, 6]") && shape.getMessage().contains("maps"), shape.getMessage());
        IllegalArgumentException notRead = assertThrows(IllegalArgumentException.class,
                () -> wb.backprop(x, List.of(), f -> List.of(f.activation("r"))));
        assertTrue(notRead.getMessage().contains("'r' was not requested"), notRead.getMessage());
        // after the failures a correct call still works
        Gradient ok = wb.backprop(x, List.of(), f -> List.of(f.outputs().get(0).mul(0.1), f.outputs().get(1).mul(0.1)));
        assertTrue(ok.gradient().amaxNumber().doubleValue() > 0);
    }
}
