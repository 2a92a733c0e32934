package org.umm4j.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.umm4j.backend.Umm4jBackend;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The epoch-end hook of {@link TrainingLoop}: forced saves, the {@code best} pointer and early stopping. */
class EpochEndHookTest {
    @TempDir
    Path dir;

    private TrainingLoop loop(Path out, int epochs, int saveEvery, int keepLast, TrainingLoop.EpochEndHook hook) {
        Umm4jBackend.init();
        OptimizerConfig o = OptimizerConfig.adam(1e-2);
        RunDirectory run = RunDirectory.create(out, Map.of("optimizer", o.toMap()), 5, "synthetic", "none");
        return TrainingLoop.builder().setRun(run).setGraphFactory(() -> TinyGraphs.dense(o, 5))
                .setStepFunction((g, ctx) -> {
                    g.fit(TinyGraphs.batch(ctx.rng(), 8));
                    return StepResult.of(g.score(), 8);
                })
                .setConfig(new TrainingConfig(epochs, 2, 5, saveEvery, keepLast, List.of()))
                .optEpochEndHook(hook).build();
    }

    @Test
    void hookMarksBestForcesItsCheckpointAndStopsTheRun() throws Exception {
        List<Integer> seen = new ArrayList<>();
        // best at epoch 1 (not on the saveEvery = 10 schedule), stop after epoch 3 of 8
        TrainingLoop.Result r = loop(dir.resolve("run"), 8, 10, 1, epoch -> {
            seen.add(epoch);
            return new TrainingLoop.EpochDecision(false, epoch == 1, epoch == 3);
        }).run();
        assertEquals(List.of(0, 1, 2, 3), seen);
        assertEquals(4, r.epochsCompleted());
        assertEquals(8, r.globalSteps());
        assertEquals(3, r.lastCheckpoint().epoch());
        Path ck = dir.resolve("run").resolve(RunDirectory.CHECKPOINTS);
        // keepLast = 1 prunes everything but the latest and the best
        assertTrue(Files.isDirectory(ck.resolve("epoch-0001")), "the best checkpoint survives pruning");
        assertTrue(Files.isDirectory(ck.resolve("epoch-0003")));
        assertFalse(Files.exists(ck.resolve("epoch-0000")));
        assertFalse(Files.exists(ck.resolve("epoch-0002")));
        assertEquals(1, Checkpoint.best(dir.resolve("run")).orElseThrow().epoch());
        assertEquals("epoch-0001", Files.readString(ck.resolve(CheckpointStore.BEST)).trim());
        assertEquals(List.of(1, 3), Checkpoint.all(dir.resolve("run")).stream().map(Checkpoint::epoch).toList());
    }

    @Test
    void continueDecisionKeepsTheScheduleAndNoBestPointer() {
        loop(dir.resolve("plain"), 3, 2, 10, epoch -> TrainingLoop.EpochDecision.CONTINUE).run();
        assertEquals(List.of(1, 2), Checkpoint.all(dir.resolve("plain")).stream().map(Checkpoint::epoch).toList());
        assertTrue(Checkpoint.best(dir.resolve("plain")).isEmpty());
    }

    @Test
    void nullDecisionAndMarkingAMissingCheckpointAreErrors() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> loop(dir.resolve("null"), 2, 1, 10, epoch -> null).run());
        assertTrue(e.getMessage().contains("returned null"), e.getMessage());
        CheckpointStore store = new CheckpointStore(dir.resolve("empty"), 3);
        IllegalArgumentException m = assertThrows(IllegalArgumentException.class, () -> store.markBest(4));
        assertTrue(m.getMessage().contains("epoch 4"), m.getMessage());
    }
}
