package org.umm4j.umm;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.SyntheticDataset;
import org.umm4j.data.augment.MultiViewBatch;
import org.umm4j.data.augment.MultiViewBatchIterator;
import org.umm4j.data.augment.Normalize;
import org.umm4j.data.augment.Recipe;
import org.umm4j.data.augment.Recipes;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.Stem;
import org.umm4j.ssl.MethodConfig;
import org.umm4j.ssl.Methods;
import org.umm4j.ssl.ObjectiveInput;
import org.umm4j.ssl.SslMethod;
import org.umm4j.train.Checkpoint;
import org.umm4j.train.OptimizerConfig;
import org.umm4j.train.Pretrainer;
import org.umm4j.train.TrainingLoop;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** End-to-end UMM fine-tuning of a tiny pretrained run on synthetic 16x16 images. */
@Tag("slow")
class UmmFineTunerTest {
    static final ImageDataset DATA = SyntheticDataset.generate(new SyntheticDataset.Config(4, 6, 16, 3, 9));
    static final Recipe RECIPE = Recipes.simclr("simclr-16", 16, 0.2, 0.5, 0.0, Normalize.cifar10());

    @TempDir
    Path dir;

    static ResNetConfig config() {
        return ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, 16, 16)
                .optWidthMultiplier(0.125).optSeed(3).build();
    }

    static SslMethod method(String name) {
        return Methods.create(MethodConfig.of(name, config(), 100, 5).withHeadScale(1.0 / 64));
    }

    /** A 1-epoch pretraining run (3 steps of 8). */
    static Path pretrain(Path out, String name) {
        Pretrainer.builder().setDataset(DATA).setRecipe(RECIPE).setMethod(method(name))
                .setOptimizer(OptimizerConfig.adam(1e-3)).setEpochs(1).setBatchSize(8).setOut(out).optSeed(11)
                .build().run(false);
        return out;
    }

    private UmmFineTuner.Builder tuner(Path source, String name, Path out, int epochs) {
        return UmmFineTuner.builder().setSource(UmmFineTuner.resolveSource(source)).setDataset(DATA).setRecipe(RECIPE)
                .setMethod(method(name)).setOut(out).setEpochs(epochs).setBatchSize(8).optSeed(5)
                .optUmm(UmmConfig.defaults().withWeights(1, 1)).optLr(1e-3).optInnerLr(0.01);
    }

    private static boolean sameParams(ComputationGraph a, ComputationGraph b, String prefix) {
        Map<String, INDArray> pb = b.paramTable();
        for (Map.Entry<String, INDArray> e : a.paramTable().entrySet()) {
            if (e.getKey().startsWith(prefix) && !e.getValue().equals(pb.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    @Test
    void unrolledUmmTunesOnlyTheLastLayersAndCheckpointsAFullOnlineGraph() throws Exception {
        Path src = pretrain(dir.resolve("src"), "simclr");
        ComputationGraph before = Checkpoint.latest(src).orElseThrow().restoreGraph(false);
        TrainingLoop.Result r = tuner(src, "simclr", dir.resolve("umm"), 1).build().run(false);
        assertEquals(3, r.globalSteps());
        assertTrue(Double.isFinite(r.lastLoss()));
        ComputationGraph after = Checkpoint.latest(dir.resolve("umm")).orElseThrow().restoreGraph(false);
        assertEquals(before.paramTable().keySet(), after.paramTable().keySet());
        // f_e (stem, stage 1 = s1*, stage 2 = s2*) frozen; stage 3 and 4 and the projector changed
        assertTrue(sameParams(before, after, "stem"));
        assertTrue(sameParams(before, after, "s1"));
        assertTrue(sameParams(before, after, "s2"));
        assertTrue(!sameParams(before, after, "s4"));
        assertTrue(!sameParams(before, after, "projector"));
        String manifest = Files.readString(dir.resolve("umm").resolve("manifest.json"));
        assertTrue(manifest.contains("\"hypergradient\"") && manifest.contains("unrolled"), manifest);
        assertTrue(Files.readString(dir.resolve("umm").resolve("metrics.csv")).contains("dR"));
    }

    @Test
    void resumeIsExactAndNeumannUpdatesTheProjector() {
        Path src = pretrain(dir.resolve("src"), "simclr");
        ComputationGraph straight = tuner(src, "simclr", dir.resolve("a"), 2).build().run(false).graph();
        tuner(src, "simclr", dir.resolve("b"), 1).build().run(false);
        ComputationGraph resumed = tuner(src, "simclr", dir.resolve("b"), 2).build().run(true).graph();
        assertEquals(straight.params(), resumed.params());
        ComputationGraph before = Checkpoint.latest(src).orElseThrow().restoreGraph(false);
        ComputationGraph neumann = tuner(src, "simclr", dir.resolve("n"), 1).optHypergradient("neumann")
                .build().run(false).graph();
        assertTrue(!sameParams(before, neumann, "projector"));
        assertTrue(!sameParams(before, neumann, "s3"));
        assertTrue(Checkpoint.latest(dir.resolve("n")).orElseThrow().arrayNames().contains("umm-adam-m-phi"));
    }

    /** L_SSL of the full online network on a fixed batch of views, BatchNorm in training mode. */
    private static double sslLoss(ComputationGraph g, SslMethod m) {
        try (MultiViewBatchIterator it = MultiViewBatchIterator.builder().setDataset(DATA).setRecipe(RECIPE)
                .setBatchSize(24).setSeed(123).optShuffle(false).build()) {
            MultiViewBatch b = it.next();
            INDArray x = Nd4j.concat(0, b.views().get(0), b.views().get(1));
            ComputationGraph c = g.clone();
            INDArray o = c.feedForward(new INDArray[]{x}, true, true).get(c.getConfiguration().getNetworkOutputs().get(0));
            return m.objective().compute(ObjectiveInput.of(o.get(NDArrayIndex.interval(0, 24), NDArrayIndex.all()),
                    o.get(NDArrayIndex.interval(24, 48), NDArrayIndex.all()))).loss();
        }
    }

    /**
     * Joint mode adds a full-network SSL step to each UMM step: the early layers f_e, which UMM alone never touches,
     * move, and the SSL loss on a held batch stays in range. (Whether 12 steps at batch 8 lower that loss depends on
     * float rounding: Adam turns near-zero gradient components into full-size steps of either sign, so the test checks
     * what the mode guarantees; that the SSL step itself lowers the loss is MethodsTest's.)
     */
    @Test
    void jointModeAlsoTrainsTheEarlyLayers() {
        Path src = pretrain(dir.resolve("src"), "simclr");
        SslMethod m = method("simclr");
        ComputationGraph before = Checkpoint.latest(src).orElseThrow().restoreGraph(false);
        double l0 = sslLoss(before, m);
        ComputationGraph g = tuner(src, "simclr", dir.resolve("joint"), 4).optJoint(true)
                .optJointOptimizer(OptimizerConfig.adam(1e-3)).build().run(false).graph();
        assertTrue(!sameParams(before, g, "stem") && !sameParams(before, g, "s1") && !sameParams(before, g, "s2"),
                "joint mode trains f_e too");
        double l1 = sslLoss(g, m);
        assertTrue(Double.isFinite(l1) && l1 < 1.1 * l0, "SSL loss " + l0 + " -> " + l1);
    }

    @Test
    void byolUsesTheRestoredTargetAndTheControlModeRuns() {
        Path src = pretrain(dir.resolve("src"), "byol");
        TrainingLoop.Result r = tuner(src, "byol", dir.resolve("byol"), 1).build().run(false);
        assertTrue(Double.isFinite(r.lastLoss()));
        TrainingLoop.Result c = tuner(src, "byol", dir.resolve("ctl"), 1).optMode(UmmFineTuner.Mode.SSL_LAST)
                .build().run(false);
        assertNotEquals(r.graph().params(), c.graph().params());
        assertTrue(Checkpoint.latest(dir.resolve("byol")).orElseThrow().graphNames().contains("target"));
    }

    @Test
    void rejectsBadSettings() {
        Path src = pretrain(dir.resolve("src"), "simclr");
        assertThrows(IllegalArgumentException.class, () -> tuner(src, "simsiam", dir.resolve("x"), 1).build());
        assertThrows(IllegalArgumentException.class, () -> tuner(src, "simclr", dir.resolve("x"), 1).optTap("pool").build());
        assertThrows(IllegalArgumentException.class, () -> tuner(src, "simclr", dir.resolve("x"), 1).optHypergradient("adam").build());
        assertThrows(IllegalArgumentException.class, () -> UmmFineTuner.resolveSource(dir.resolve("nowhere")));
    }
}
