package org.umm4j.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.SyntheticDataset;
import org.umm4j.data.augment.Recipe;
import org.umm4j.data.augment.Recipes;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.Stem;
import org.umm4j.ssl.MethodConfig;
import org.umm4j.ssl.Methods;
import org.umm4j.ssl.SslMethod;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

@Tag("slow")
class PretrainerTest {
    @TempDir
    Path dir;

    private static final ImageDataset DATA = SyntheticDataset.generate(new SyntheticDataset.Config(4, 6, 16, 3, 9));

    private Pretrainer pretrainer(String method, int epochs, Path out, Pretrainer.EpochListener l) {
        return pretrainer(method, epochs, epochs, out, l);
    }

    /** {@code plannedEpochs} fixes the EMA schedule, as for a run stopped after {@code epochs}. */
    private Pretrainer pretrainer(String method, int epochs, int plannedEpochs, Path out, Pretrainer.EpochListener l) {
        ResNetConfig rc = ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, 16, 16)
                .optWidthMultiplier(0.125).optSeed(3).build();
        Recipe recipe = Recipes.simclr("simclr-16", 16, 0.2, 0.5, 0.0,
                org.umm4j.data.augment.Normalize.cifar10());
        SslMethod m = Methods.create(MethodConfig.of(method, rc, (long) plannedEpochs * (DATA.size() / 8), 5)
                .withHeadScale(1.0 / 64).withQueueSize(16));
        Pretrainer.Builder b = Pretrainer.builder().setDataset(DATA).setRecipe(recipe).setMethod(m)
                .setOptimizer(OptimizerConfig.adam(1e-3)).setEpochs(epochs).setBatchSize(8).setOut(out).optSeed(11);
        if (l != null) {
            b.optEpochListener(l, List.of("probe"));
        }
        return b.build();
    }

    @Test
    void writesManifestMetricsAndCheckpointsAndCallsTheEpochListener() throws Exception {
        Path out = dir.resolve("run");
        int[] calls = {0};
        TrainingLoop.Result r = pretrainer("simclr", 2, out, (g, epoch) -> {
            calls[0]++;
            return Map.of("probe", (double) epoch);
        }).run(false);
        assertEquals(2, r.epochsCompleted());
        assertEquals(6, r.globalSteps());
        assertEquals(2, calls[0]);
        assertTrue(Files.exists(out.resolve("manifest.json")));
        List<String> lines = Files.readAllLines(out.resolve("metrics.csv"));
        assertEquals(7, lines.size(), lines.toString());
        assertTrue(lines.get(0).endsWith("probe"), lines.get(0));
        assertTrue(lines.get(3).endsWith(",0.0") || lines.get(3).endsWith(",0"), lines.get(3));
        assertEquals(2, Checkpoint.latest(out).orElseThrow().epoch() + 1);
        assertTrue(Files.readString(out.resolve("manifest.json")).contains("simclr"));
    }

    /** BYOL with its EMA target: 2 epochs equal 1 epoch + resume for 1 more, bit for bit. */
    @Test
    void resumeWithAnEmaTargetIsExact() {
        ComputationGraph straight = pretrainer("byol", 2, dir.resolve("a"), null).run(false).graph();
        pretrainer("byol", 1, 2, dir.resolve("b"), null).run(false);
        ComputationGraph resumed = pretrainer("byol", 2, dir.resolve("b"), null).run(true).graph();
        assertEquals(straight.params(), resumed.params());
        ComputationGraph t1 = Checkpoint.latest(dir.resolve("a")).orElseThrow().restoreGraph("target", false);
        ComputationGraph t2 = Checkpoint.latest(dir.resolve("b")).orElseThrow().restoreGraph("target", false);
        assertEquals(t1.params(), t2.params());
    }

    @Test
    void rejectsABatchLargerThanTheDataset() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Pretrainer.builder()
                .setDataset(DATA).setRecipe(Recipes.simclrCifar()).setMethod(Methods.create(MethodConfig.of("simclr",
                        ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, 16, 16).build(), 1, 1)))
                .setOptimizer(OptimizerConfig.adam(1e-3)).setEpochs(1).setBatchSize(64).setOut(dir).build());
        assertTrue(e.getMessage().contains("exceeds the dataset size"), e.getMessage());
    }
}
