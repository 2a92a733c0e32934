package org.umm4j.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.umm4j.backend.Umm4jBackend;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class CheckpointTest {

    @BeforeAll
    static void backend() {
        Umm4jBackend.init();
    }

    static void assertBitEqual(INDArray expected, INDArray actual, String what) {
        assertEquals(expected.dataType(), actual.dataType(), what + " data type");
        assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
        assertArrayEquals(expected.dup('c').reshape(expected.length()).toDoubleVector(),
                actual.dup('c').reshape(actual.length()).toDoubleVector(), 0.0, what);
    }

    private static ComputationGraph trained(long seed) {
        ComputationGraph g = TinyGraphs.dense(OptimizerConfig.adam(1e-2)
                .withSchedule(new WarmupCosineSchedule(1e-2, 1e-4, 2, 10)), seed);
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < 3; i++) {
            g.fit(TinyGraphs.batch(rng, 8));
        }
        return g;
    }

    private static CheckpointData data(ComputationGraph g, int epoch) {
        return CheckpointData.builder().setGraph(g).setEpoch(epoch).setStep(10L * (epoch + 1)).setSeed(5).build();
    }

    @Test
    void saveThenLoadGivesIdenticalEverything(@TempDir Path tmp) {
        RunDirectory run = RunDirectory.create(tmp, Map.of(), 5, "synthetic", "none");
        ComputationGraph g = trained(1);
        ComputationGraph head = trained(2);
        ComputationGraph ema = g.clone();
        INDArray queue = Nd4j.rand(DataType.FLOAT, 6, 3);
        INDArray counts = Nd4j.createFromArray(1.0, 2.5, -3.0);
        Checkpoint saved = Checkpoint.save(run, CheckpointData.builder().setGraph(g).setEpoch(3).setStep(40).setSeed(5)
                .optGraph("ema", ema).optGraph("head", head).optArray("queue", queue).optArray("counts", counts)
                .optState("tau", 0.996).optState("names", List.of("a", "b")).build(), 3);
        assertEquals(tmp.resolve("checkpoints/epoch-0003"), saved.path());

        Checkpoint c = Checkpoint.latest(tmp).orElseThrow();
        assertEquals(3, c.epoch());
        assertEquals(40, c.step());
        assertEquals(5, c.seed());
        assertEquals(0.996, ((Number) c.state().get("tau")).doubleValue());
        assertEquals(List.of("a", "b"), c.state().get("names"));
        assertEquals(List.of("ema", "head"), c.graphNames());
        ComputationGraph r = c.restoreGraph(true);
        assertBitEqual(g.params(), r.params(), "parameters");
        assertBitEqual(g.getUpdater().getStateViewArray(), r.getUpdater().getStateViewArray(), "updater state");
        assertTrue(g.getUpdater().getStateViewArray().amaxNumber().doubleValue() > 0);
        assertEquals(g.getConfiguration().getIterationCount(), r.getConfiguration().getIterationCount());
        assertBitEqual(ema.params(), c.restoreGraph("ema", false).params(), "ema parameters");
        ComputationGraph h = c.restoreGraph("head", true);
        assertBitEqual(head.params(), h.params(), "head parameters");
        assertBitEqual(head.getUpdater().getStateViewArray(), h.getUpdater().getStateViewArray(), "head updater");
        assertBitEqual(queue, c.readArray("queue"), "queue");
        assertBitEqual(counts, c.readArray("counts"), "counts");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.readArray("nope"));
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
    }

    @Test
    void crashDuringSaveNeverCorruptsPreviousCheckpointOrPointer(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("checkpoints");
        ComputationGraph g0 = trained(3);
        INDArray p0 = g0.params().dup();
        new CheckpointStore(dir, 5).save(data(g0, 0));

        ComputationGraph g1 = trained(4);
        CheckpointStore crashing = new CheckpointStore(dir, 5, p -> {
            throw new IllegalStateException("simulated crash before commit");
        });
        assertThrows(IllegalStateException.class, () -> crashing.save(data(g1, 1)));
        assertEquals("epoch-0000", Files.readString(dir.resolve("latest")).trim());
        try (var s = Files.list(dir)) {
            assertEquals(List.of("epoch-0000", "latest"), s.map(p -> p.getFileName().toString()).sorted().toList(),
                    "the failed temp folder is cleaned up");
        }

        // a hard crash leaves a stale, half-written temp folder behind
        Path stale = dir.resolve(".tmp-epoch-0001-123");
        Files.createDirectories(stale);
        Files.write(stale.resolve("model.zip"), new byte[]{1, 2, 3});
        // and a crash between rename and pointer update leaves a complete folder that latest does not name
        Path other = tmp.resolve("other");
        new CheckpointStore(other, 5).save(data(g1, 2));
        Files.move(other.resolve("epoch-0002"), dir.resolve("epoch-0002"));

        CheckpointStore store = new CheckpointStore(dir, 5);
        Checkpoint latest = store.latest().orElseThrow();
        assertEquals(0, latest.epoch());
        CheckpointTest.assertBitEqual(p0, latest.restoreGraph(true).params(), "previous checkpoint intact");

        // the next save cleans the stale temp folder and replaces the orphan of the same epoch
        store.save(data(g1, 2));
        assertFalse(Files.exists(stale));
        assertEquals(2, store.latest().orElseThrow().epoch());
        assertBitEqual(g1.params(), store.latest().orElseThrow().restoreGraph(false).params(), "new checkpoint");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> store.save(data(g0, 2)));
        assertTrue(e.getMessage().contains("latest"), e.getMessage());
    }

    @Test
    void keepsLastNAndFallsBackWithoutPointer(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("checkpoints");
        CheckpointStore store = new CheckpointStore(dir, 2);
        ComputationGraph g = trained(6);
        for (int e = 0; e < 4; e++) {
            store.save(data(g, e));
        }
        assertEquals(List.of(2, 3), store.list().stream().map(Checkpoint::epoch).toList());
        assertEquals(3, store.latest().orElseThrow().epoch());
        Files.delete(dir.resolve("latest"));
        assertEquals(3, store.latest().orElseThrow().epoch(), "falls back to the highest complete checkpoint");
        assertTrue(new CheckpointStore(tmp.resolve("empty"), 1).latest().isEmpty());
    }

    @Test
    void checkpointDataValidates() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> CheckpointData.builder().setEpoch(1).build());
        assertTrue(e.getMessage().contains("graph") && e.getMessage().contains("seed"), e.getMessage());
        IllegalArgumentException a = assertThrows(IllegalArgumentException.class,
                () -> CheckpointData.builder().optArray("../x", Nd4j.zeros(1)));
        assertTrue(a.getMessage().contains("array name"), a.getMessage());
        a = assertThrows(IllegalArgumentException.class, () -> CheckpointData.builder().setStep(-1));
        assertTrue(a.getMessage().contains("step"), a.getMessage());
    }
}
