package org.umm4j.eval;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.SyntheticDataset;
import org.umm4j.data.augment.Normalize;
import org.umm4j.data.augment.Recipes;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.Stem;
import org.umm4j.ssl.MethodConfig;
import org.umm4j.ssl.Methods;
import org.umm4j.train.Checkpoint;
import org.umm4j.train.OptimizerConfig;
import org.umm4j.train.Pretrainer;
import org.umm4j.train.TrainingLoop;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The monitor inside a real {@link Pretrainer} run: early stopping and the best pointer. */
@Tag("slow")
class DrMonitorTest {
    private static final ImageDataset DATA = SyntheticDataset.generate(new SyntheticDataset.Config(4, 6, 16, 3, 9));

    @TempDir
    Path dir;

    @Test
    void patienceStopsThePretrainerAndMarksTheBestCheckpoint() {
        ResNetConfig rc = ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, 16, 16)
                .optWidthMultiplier(0.125).optSeed(3).build();
        // minDelta so large that no later epoch beats epoch 0: with patience 1 the run must stop after epoch 1
        DrMonitor monitor = DrMonitor.create(DATA, Normalize.cifar10(), 16, 2).withPatience(1, 1e9);
        TrainingLoop.Result r = Pretrainer.builder().setDataset(DATA)
                .setRecipe(Recipes.simclr("simclr-16", 16, 0.2, 0.5, 0.0, Normalize.cifar10()))
                .setMethod(Methods.create(MethodConfig.of("simclr", rc, 15, 5).withHeadScale(1.0 / 64)))
                .setOptimizer(OptimizerConfig.adam(1e-3)).setEpochs(5).setBatchSize(8).setOut(dir).optSeed(11)
                .optSaveEvery(10).optEpochListener(monitor, List.of(DrMonitor.COLUMN)).build().run(false);
        assertEquals(2, r.epochsCompleted());
        assertEquals(2, monitor.history().size());
        assertEquals(0, monitor.bestEpoch());
        assertEquals(0, Checkpoint.best(dir).orElseThrow().epoch());
        assertEquals(List.of(0, 1), Checkpoint.all(dir).stream().map(Checkpoint::epoch).toList());
        assertEquals(16, monitor.subset().length);
        assertEquals(monitor.history().get(0)[1], monitor.best());
    }

    @Test
    void rejectsBadSettings() {
        assertThrows(IllegalArgumentException.class, () -> DrMonitor.create(DATA, Normalize.cifar10(), 1, 0));
        DrMonitor m = DrMonitor.create(DATA, Normalize.cifar10(), 8, 0);
        assertThrows(IllegalArgumentException.class, () -> m.withPatience(0, 0));
        assertThrows(IllegalArgumentException.class, () -> m.withPatience(2, -1));
    }
}
