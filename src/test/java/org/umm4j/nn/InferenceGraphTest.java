package org.umm4j.nn;

import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InferenceGraphTest {

    private static double maxRelDiff(INDArray a, INDArray b) {
        double scale = Math.max(1e-12, b.castTo(DataType.DOUBLE).amaxNumber().doubleValue());
        return a.castTo(DataType.DOUBLE).sub(b.castTo(DataType.DOUBLE)).amaxNumber().doubleValue() / scale;
    }

    private static ComputationGraph perturbed(ResNetConfig cfg, long seed) {
        ComputationGraph g = ResNets.build(cfg);
        INDArray x = NnTestSupport.random(seed, cfg.dataType(), 8, 3, cfg.height(), cfg.width());
        NnTestSupport.perturbBatchNorm(g, x, seed);
        return g;
    }

    @Test
    void resnet18InDoubleEqualsTheSourceGraphAtEveryTap() {
        ResNetConfig cfg = NnTestSupport.tiny(18, Stem.CIFAR, 0.125, 16, DataType.DOUBLE);
        ComputationGraph g = perturbed(cfg, 3);
        INDArray before = g.params().dup();
        InferenceGraph f = InferenceGraph.of(g);
        // stem + 16 block BNs + 3 projection BNs; ReLUs: after the stem BN and every first BN of a block (into the
        // convolution), after every residual sum (into an add+relu vertex)
        assertEquals(20, f.foldedBatchNorms());
        assertEquals(9 + 8, f.fusedReLUs());
        assertEquals(0, f.graph().getConfiguration().getVertices().values().stream()
                .filter(v -> v instanceof org.deeplearning4j.nn.conf.graph.LayerVertex lv
                        && lv.getLayerConf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.ActivationLayer)
                .count(), "no ReLU layer is left");
        long bns = f.graph().getConfiguration().getVertices().values().stream()
                .filter(v -> v instanceof org.deeplearning4j.nn.conf.graph.LayerVertex lv
                        && lv.getLayerConf().getLayer() instanceof BatchNormalization).count();
        assertEquals(0, bns, "no BatchNorm layer is left");
        assertEquals(before, g.params(), "the source graph is not modified");

        INDArray x = NnTestSupport.random(11, DataType.DOUBLE, 5, 3, 16, 16);
        String[] taps = Taps.ALL.toArray(new String[0]);
        Map<String, INDArray> want = g.feedForward(new INDArray[]{x}, false, true);
        Map<String, INDArray> got = f.activations(x, taps);
        for (String t : taps) {
            if (Taps.INPUT.equals(t)) {
                continue;
            }
            assertNotNull(got.get(t), t);
            assertTrue(maxRelDiff(got.get(t), want.get(t)) < 1e-12, t + ": " + maxRelDiff(got.get(t), want.get(t)));
        }
    }

    @Test
    void floatOutputsAgreeToFloatRounding() {
        ResNetConfig cfg = NnTestSupport.tiny(18, Stem.CIFAR, 0.25, 32, DataType.FLOAT);
        ComputationGraph g = perturbed(cfg, 5);
        INDArray x = NnTestSupport.random(12, DataType.FLOAT, 6, 3, 32, 32);
        INDArray want = g.outputSingle(false, x);
        INDArray got = InferenceGraph.of(g).activations(x, Taps.POOL).get(Taps.POOL);
        double d = maxRelDiff(got, want);
        assertTrue(d < 1e-5, "float folded vs unfolded: " + d);
        assertTrue(d > 0 || got.equals(want));
    }

    @Test
    void bottleneckResNet50AndImageNetStem() {
        ResNetConfig cfg = NnTestSupport.tiny(50, Stem.IMAGENET, 0.0625, 32, DataType.DOUBLE);
        ComputationGraph g = perturbed(cfg, 7);
        InferenceGraph f = InferenceGraph.of(g);
        // stem + 3 per bottleneck block (16 blocks) + 4 projections; ReLUs: stem + 2 per block + 1 per residual sum
        assertEquals(1 + 48 + 4, f.foldedBatchNorms());
        assertEquals(1 + 32 + 16, f.fusedReLUs());
        INDArray x = NnTestSupport.random(13, DataType.DOUBLE, 3, 3, 32, 32);
        assertTrue(maxRelDiff(f.activations(x, Taps.POOL).get(Taps.POOL), g.outputSingle(false, x)) < 1e-12);
    }

    @Test
    void keptVerticesAreNotFusedAway() {
        ResNetConfig cfg = NnTestSupport.tiny(18, Stem.CIFAR, 0.125, 16, DataType.DOUBLE);
        ComputationGraph g = perturbed(cfg, 9);
        InferenceGraph f = InferenceGraph.of(g, "s1b1_conv1", "s2b1_bn1");
        assertNotNull(f.graph().getVertex("s1b1_conv1"), "kept conv stays a vertex");
        assertNotNull(f.graph().getVertex("s1b1_bn1"), "its BatchNorm then stays too (nothing to fold into)");
        assertNotNull(f.graph().getVertex("s2b1_bn1"), "kept BN output (conv folded into it, ReLU separate)");
        assertNull(f.graph().getVertex("s2b1_conv1"), "the conv before a kept BN is folded into it");
        assertEquals(19, f.foldedBatchNorms());
        assertEquals(7 + 8, f.fusedReLUs());
        INDArray x = NnTestSupport.random(14, DataType.DOUBLE, 4, 3, 16, 16);
        // in training mode the source graph's BN outputs are not overwritten by the in-place ReLU; compare the
        // conv output (no BN involved) and the pool output
        Map<String, INDArray> got = f.activations(x, "s1b1_conv1", Taps.POOL);
        Map<String, INDArray> want = g.feedForward(new INDArray[]{x}, false, true);
        assertTrue(maxRelDiff(got.get("s1b1_conv1"), want.get("s1b1_conv1")) < 1e-12);
        assertTrue(maxRelDiff(got.get(Taps.POOL), want.get(Taps.POOL)) < 1e-12);
        assertThrows(IllegalArgumentException.class, () -> f.activations(x, "s3b1_conv1"));
        assertThrows(IllegalArgumentException.class, () -> InferenceGraph.of(g, "no_such_vertex"));
    }

    @Test
    void aKeptResidualSumStaysAnAddVertex() {
        ResNetConfig cfg = NnTestSupport.tiny(18, Stem.CIFAR, 0.125, 16, DataType.DOUBLE);
        ComputationGraph g = perturbed(cfg, 21);
        InferenceGraph f = InferenceGraph.of(g, "s1b2_add");
        assertTrue(f.graph().getConfiguration().getVertices().get("s1b2_add")
                instanceof org.deeplearning4j.nn.conf.graph.ElementWiseVertex);
        assertTrue(f.graph().getConfiguration().getVertices().get("s1b1_out") instanceof AddReluVertex);
        assertEquals(9 + 7, f.fusedReLUs());
        INDArray x = NnTestSupport.random(22, DataType.DOUBLE, 3, 3, 16, 16);
        assertTrue(maxRelDiff(f.activations(x, Taps.POOL).get(Taps.POOL), g.outputSingle(false, x)) < 1e-12);
    }

    @Test
    void addReluVertexComputesReluOfTheSumAndItsGradientAndChecksShapes() {
        AddReluVertex v = new AddReluVertex();
        assertEquals(v, v.clone());
        assertEquals(0, v.numParams(true));
        assertThrows(org.deeplearning4j.nn.conf.inputs.InvalidInputTypeException.class, () -> v.getOutputType(0,
                org.deeplearning4j.nn.conf.inputs.InputType.convolutional(4, 4, 2),
                org.deeplearning4j.nn.conf.inputs.InputType.convolutional(4, 4, 3)));
        AddReluVertex.Impl impl = new AddReluVertex.Impl(null, "v", 0, DataType.DOUBLE);
        assertThrows(IllegalStateException.class, () -> impl.doBackward(false, null), "no inputs yet");
        impl.setInputs(new INDArray[]{org.nd4j.linalg.factory.Nd4j.createFromArray(1.0, -2.0, 3.0, 1.0),
                org.nd4j.linalg.factory.Nd4j.createFromArray(0.5, 1.0, -4.0, -1.0)});
        INDArray y = impl.doForward(false, org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces());
        assertEquals(org.nd4j.linalg.factory.Nd4j.createFromArray(1.5, 0.0, 0.0, 0.0), y);
        // dL/da = dL/db = dL/dy where a + b > 0 (not at a + b = 0), as separate arrays
        impl.setEpsilon(org.nd4j.linalg.factory.Nd4j.createFromArray(2.0, 3.0, 4.0, 5.0));
        INDArray[] g = impl.doBackward(false, org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces())
                .getSecond();
        assertEquals(org.nd4j.linalg.factory.Nd4j.createFromArray(2.0, 0.0, 0.0, 0.0), g[0]);
        assertEquals(g[0], g[1]);
        assertTrue(g[0] != g[1], "one array per input");
        impl.setInputs(new INDArray[]{org.nd4j.linalg.factory.Nd4j.createFromArray(1.0, 2.0),
                org.nd4j.linalg.factory.Nd4j.createFromArray(1.0, 2.0)});
        impl.setEpsilon(org.nd4j.linalg.factory.Nd4j.createFromArray(2.0, 3.0));
        assertThrows(IllegalStateException.class,
                () -> impl.doBackward(false, org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces()),
                "new inputs without their forward pass: the mask would come from another output");
        impl.setInputs(new INDArray[]{org.nd4j.linalg.factory.Nd4j.createFromArray(1.0, 2.0),
                org.nd4j.linalg.factory.Nd4j.createFromArray(1.0, 2.0, 3.0)});
        assertThrows(IllegalArgumentException.class,
                () -> impl.doForward(false, org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces()));
    }

    @Test
    void headsAndOutputsAreCopiedUnchanged() {
        Backbone b = NnTestSupport.tinyWithProjector(DataType.DOUBLE);
        ComputationGraph g = b.graph();
        INDArray xt = NnTestSupport.random(15, DataType.DOUBLE, 8, 3, 16, 16);
        NnTestSupport.perturbBatchNorm(g, xt, 15);
        InferenceGraph f = InferenceGraph.of(g);
        assertEquals(g.getConfiguration().getNetworkOutputs(), f.graph().getConfiguration().getNetworkOutputs());
        INDArray x = NnTestSupport.random(16, DataType.DOUBLE, 4, 3, 16, 16);
        String out = b.outputName();
        assertTrue(maxRelDiff(f.activations(x, out).get(out), g.outputSingle(false, x)) < 1e-12);
    }

    @Test
    void foldingOffCopiesEverything() {
        ResNetConfig cfg = NnTestSupport.tiny(18, Stem.CIFAR, 0.125, 16, DataType.DOUBLE);
        ComputationGraph g = perturbed(cfg, 17);
        InferenceGraph f = InferenceGraph.of(g, List.of(), false);
        assertEquals(0, f.foldedBatchNorms());
        assertEquals(g.getNumLayers(), f.graph().getNumLayers());
        assertEquals(g.params(), f.graph().params());
        long convsWithBias = f.graph().getConfiguration().getVertices().values().stream()
                .filter(v -> v instanceof org.deeplearning4j.nn.conf.graph.LayerVertex lv
                        && lv.getLayerConf().getLayer() instanceof ConvolutionLayer c && c.isHasBias()).count();
        assertEquals(0, convsWithBias);
    }

    @Test
    void laterTrainingOfTheSourceDoesNotReachTheCopy() {
        ResNetConfig cfg = NnTestSupport.tiny(18, Stem.CIFAR, 0.125, 16, DataType.DOUBLE);
        ComputationGraph g = perturbed(cfg, 19);
        InferenceGraph f = InferenceGraph.of(g);
        INDArray x = NnTestSupport.random(20, DataType.DOUBLE, 4, 3, 16, 16);
        INDArray first = f.activations(x, Taps.POOL).get(Taps.POOL).dup();
        g.params().muli(1.5);
        assertEquals(first, f.activations(x, Taps.POOL).get(Taps.POOL));
    }
}
