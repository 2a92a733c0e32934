package org.umm4j.ssl;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.Stem;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class MethodsTest {
    static ResNetConfig tinyResNet() {
        return ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, 16, 16)
                .optWidthMultiplier(0.125).optSeed(3).build();
    }

    static SslMethod tiny(String name) {
        MethodConfig c = MethodConfig.of(name, tinyResNet(), 100, 5).withHeadScale(1.0 / 64).withQueueSize(32);
        if (name.equals("wmse")) {
            // W-MSE whitens sub-batches larger than the embedding: 64/16 = 4 dims, sub-batch 8
            c = c.withHeadScale(1.0 / 16).withObjectiveParams(Map.of("subBatchSize", 8.0));
        }
        return Methods.create(c);
    }

    private static List<INDArray> views(long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray a = Nd4j.rand(DataType.FLOAT, 8, 3, 16, 16);
        INDArray b = a.add(Nd4j.randn(DataType.FLOAT, 8, 3, 16, 16).muli(0.1));
        return List.of(a, b);
    }

    /** SwAV's multi-crop batch: the two views plus two 8 px local crops of the first. */
    private static List<INDArray> multiCrop(long seed) {
        List<INDArray> v = views(seed);
        INDArray a = v.get(0);
        INDArray l1 = a.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, 8),
                NDArrayIndex.interval(0, 8)).dup();
        INDArray l2 = a.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(8, 16),
                NDArrayIndex.interval(4, 12)).dup();
        return List.of(v.get(0), v.get(1), l1, l2);
    }

    static ComputationGraph withAdam(SslMethod m, double lr) {
        ComputationGraph g = m.createOnlineGraph();
        g.setUpdater(null);
        for (var l : g.getLayers()) {
            if (l.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.BaseLayer bl) {
                bl.setIUpdater(new Adam(lr));
            }
        }
        g.initGradientsView();
        return g;
    }

    /** A few Adam steps on one fixed batch lower every method's loss (epoch 1: SwAV's prototypes train too). */
    @ParameterizedTest
    @ValueSource(strings = {"simclr", "barlow", "vicreg", "wmse", "byol", "simsiam", "mocov2", "swav", "vicregl",
            "superinfo"})
    void aFewStepsLowerTheLoss(String name) {
        SslMethod m = tiny(name);
        ComputationGraph g = withAdam(m, 3e-3);
        m.attach(g);
        List<INDArray> v = name.equals("swav") ? multiCrop(1) : views(1);
        double first = m.step(g, v, 0, 1).loss();
        double last = first;
        for (int i = 1; i < 12; i++) {
            last = m.step(g, v, i, 1).loss();
            assertTrue(Double.isFinite(last), name + " step " + i);
        }
        assertTrue(last < first, name + ": loss " + first + " -> " + last);
    }

    @Test
    void targetMethodsCheckpointTheirAuxiliaryState() {
        SslMethod byol = tiny("byol");
        ComputationGraph g = byol.createOnline().graph();
        byol.attach(g);
        assertEquals(List.of("target"), List.copyOf(byol.auxiliaryGraphs().keySet()));
        // the target starts as a copy of backbone + projector
        INDArray w = byol.auxiliaryGraphs().get("target").getParam("stem_conv_W");
        assertEquals(g.getParam("stem_conv_W"), w);
        byol.step(g, views(2), 0, 0);
        assertNotEquals(g.getParam("stem_conv_W"), byol.auxiliaryGraphs().get("target").getParam("stem_conv_W"),
                "online moved, the EMA target lags behind");

        SslMethod moco = tiny("mocov2");
        ComputationGraph gm = moco.createOnline().graph();
        moco.attach(gm);
        INDArray q0 = moco.auxiliaryArrays().get("queue");
        assertEquals(32, q0.rows());
        moco.step(gm, views(3), 0, 0);
        INDArray q1 = moco.auxiliaryArrays().get("queue");
        assertEquals(32, q1.rows());
        assertEquals(q0.getRow(8), q1.getRow(0), "8 keys enqueued, the 8 oldest evicted");

        SslMethod restored = tiny("mocov2");
        restored.restoreAuxiliary(moco.auxiliaryGraphs(), Map.of("queue", q1));
        assertEquals(q1, restored.auxiliaryArrays().get("queue"));
        assertThrows(NullPointerException.class, () -> tiny("byol").restoreAuxiliary(Map.of(), Map.of()));
    }

    @Test
    void unknownMethodsAndWrongViewsAreClearErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tiny("dino"));
        assertTrue(e.getMessage().contains("simclr, barlow") && e.getMessage().contains("superinfo"), e.getMessage());
        assertEquals(10, Methods.NAMES.size());
        SslMethod vl = tiny("vicregl");
        ComputationGraph single = vl.createOnline().graph();
        vl.attach(single);
        IllegalArgumentException two = assertThrows(IllegalArgumentException.class, () -> vl.step(single, views(1), 0, 0));
        assertTrue(two.getMessage().contains("createOnlineGraph"), two.getMessage());
        assertTrue(tiny("swav").acceptsViews(6) && !tiny("swav").acceptsViews(1) && !tiny("simclr").acceptsViews(3));
        SslMethod m = tiny("simclr");
        ComputationGraph g = m.createOnline().graph();
        assertThrows(IllegalArgumentException.class, () -> m.step(g, List.of(views(1).get(0)), 0, 0));
        assertThrows(IllegalStateException.class, () -> tiny("byol").step(g, views(1), 0, 0));
    }
}
