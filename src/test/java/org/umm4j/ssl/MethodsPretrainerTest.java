package org.umm4j.ssl;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.SyntheticDataset;
import org.umm4j.data.augment.Normalize;
import org.umm4j.data.augment.Recipe;
import org.umm4j.data.augment.Recipes;
import org.umm4j.train.Checkpoint;
import org.umm4j.train.OptimizerConfig;
import org.umm4j.train.Pretrainer;
import org.umm4j.train.TrainingLoop;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Every method through the {@link Pretrainer} at test scale: 1 epoch of 2 steps, finite loss, restorable checkpoint. */
@Tag("slow")
class MethodsPretrainerTest {
    @TempDir
    Path dir;

    private static final ImageDataset DATA = SyntheticDataset.generate(new SyntheticDataset.Config(4, 4, 16, 3, 9));

    @ParameterizedTest
    @ValueSource(strings = {"simclr", "barlow", "vicreg", "wmse", "byol", "simsiam", "mocov2", "swav", "vicregl",
            "superinfo"})
    void oneEpochGivesAFiniteLossAndARestorableCheckpoint(String name) {
        SslMethod m = MethodsTest.tiny(name);
        Recipe recipe = name.equals("swav")
                ? Recipes.swav("swav-16", 16, 8, 2, false, Normalize.cifar10())
                : Recipes.simclr("simclr-16", 16, 0.2, 0.5, 0.0, Normalize.cifar10());
        Path out = dir.resolve(name);
        TrainingLoop.Result r = Pretrainer.builder().setDataset(DATA).setRecipe(recipe).setMethod(m)
                .setOptimizer(OptimizerConfig.adam(1e-3)).setEpochs(1).setBatchSize(8).setOut(out).optSeed(3)
                .optWorkers(1).build().run(false);
        assertEquals(2, r.globalSteps());
        assertTrue(Double.isFinite(r.lastLoss()), name + " loss " + r.lastLoss());
        Checkpoint c = Checkpoint.latest(out).orElseThrow();
        ComputationGraph restored = c.restoreGraph(false);
        assertEquals(r.graph().params(), restored.params());
        assertEquals(r.graph().getConfiguration().getNetworkOutputs(), restored.getConfiguration().getNetworkOutputs());
        switch (name) {
            case "byol", "mocov2" -> assertTrue(c.graphNames().contains("target"), c.graphNames().toString());
            case "swav" -> {
                assertTrue(c.arrayNames().contains("prototypes"), c.arrayNames().toString());
                SslMethod fresh = MethodsTest.tiny(name);
                fresh.restoreAuxiliary(Map.of(), Map.of("prototypes", c.readArray("prototypes")));
                assertEquals(m.auxiliaryArrays().get("prototypes"), fresh.auxiliaryArrays().get("prototypes"));
            }
            case "vicregl", "superinfo" -> assertEquals(2, restored.getNumOutputArrays());
            default -> assertTrue(c.graphNames().isEmpty() || !c.graphNames().contains("target"));
        }
    }
}
