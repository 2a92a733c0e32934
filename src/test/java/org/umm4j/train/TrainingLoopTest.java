package org.umm4j.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.umm4j.backend.Umm4jBackend;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;
import static org.umm4j.train.CheckpointTest.assertBitEqual;

class TrainingLoopTest {
    private static final int SPE = 3;
    private static final long SEED = 20240901L;

    @BeforeAll
    static void backend() {
        Umm4jBackend.init();
    }

    /**
     * Fits random regression data drawn from the per-step generator, keeps an EMA copy of the graph and a small
     * "queue" array as extra state (the shape of BYOL/MoCo state), and can be told to return NaN at one step.
     */
    static final class Fitter implements StepFunction, ExtraState {
        private final long nanAt;
        private final double badValue;
        ComputationGraph ema;
        INDArray queue = Nd4j.zeros(DataType.FLOAT, 4, 2);

        Fitter(long nanAt, double badValue) {
            this.nanAt = nanAt;
            this.badValue = badValue;
        }

        Fitter() {
            this(-1, Double.NaN);
        }

        @Override
        public StepResult step(ComputationGraph graph, StepContext ctx) {
            MultiDataSet b = TinyGraphs.batch(ctx.rng(), 16);
            graph.fit(b);
            if (ema == null) {
                ema = graph.clone();
            } else {
                ema.params().muli(0.9).addi(graph.params().mul(0.1));
            }
            queue.getRow(ctx.globalStep() % 4).assign(Nd4j.rand(DataType.FLOAT, 2)); // ND4J's generator, reseeded
            double loss = ctx.globalStep() == nanAt ? badValue : graph.score();
            return StepResult.of(loss, 16).withExtra("queue_sum", queue.sumNumber().doubleValue());
        }

        @Override
        public void save(CheckpointData.Builder b) {
            b.optGraph("ema", ema).optArray("queue", queue.dup()).optState("kind", "fitter");
        }

        @Override
        public void restore(Checkpoint c) {
            assertEquals("fitter", c.state().get("kind"));
            ema = c.restoreGraph("ema", false);
            queue = c.readArray("queue");
        }
    }

    private static TrainingLoop loop(Path dir, int epochs, int saveEvery, OptimizerConfig o, Fitter f,
                                     AtomicInteger factoryCalls) {
        RunDirectory run = RunDirectory.exists(dir) ? RunDirectory.open(dir)
                : RunDirectory.create(dir, Map.of("optimizer", o.toMap()), SEED, "synthetic", "none");
        return TrainingLoop.builder().setRun(run)
                .setGraphFactory(() -> {
                    factoryCalls.incrementAndGet();
                    return TinyGraphs.dense(o, SEED);
                })
                .setStepFunction(f).optExtraState(f)
                .setConfig(new TrainingConfig(epochs, SPE, SEED, saveEvery, 3, List.of("queue_sum")))
                .build();
    }

    private static OptimizerConfig lars() {
        return OptimizerConfig.lars(0.5, 0.9, 1e-4).withSchedule(new WarmupCosineSchedule(0.5, 0.005, 2, 4 * SPE));
    }

    private static OptimizerConfig adam() {
        return OptimizerConfig.adam(1e-2).withWeightDecay(1e-3)
                .withSchedule(new ExponentialDecaySchedule(1e-2, 1e-3, 4 * SPE));
    }

    @ParameterizedTest
    @EnumSource(value = OptimizerConfig.Type.class, names = {"LARS", "ADAM"})
    void fourEpochsEqualTwoPlusResumedTwoBitForBit(OptimizerConfig.Type type, @TempDir Path tmp) {
        {
            OptimizerConfig o = type == OptimizerConfig.Type.LARS ? lars() : adam();
            Path a = tmp.resolve("a-" + o.type());
            Path b = tmp.resolve("b-" + o.type());
            AtomicInteger calls = new AtomicInteger();
            Fitter fa = new Fitter();
            TrainingLoop.Result ra = loop(a, 4, 2, o, fa, calls).run();
            assertEquals(4, ra.epochsCompleted());
            assertEquals(4L * SPE, ra.globalSteps());

            Fitter fb1 = new Fitter();
            loop(b, 2, 2, o, fb1, calls).run();
            assertEquals(2, calls.get(), "one factory call per fresh run");
            Fitter fb2 = new Fitter(); // a fresh process: nothing carried in memory...
            Nd4j.getRandom().setSeed(987654321L); // ...not even ND4J's global generator state
            Nd4j.rand(DataType.FLOAT, 3);
            TrainingLoop.Result rb = loop(b, 4, 2, o, fb2, calls).resume();
            assertEquals(2, calls.get(), "resume restores the graph instead of building one");

            assertBitEqual(ra.graph().params(), rb.graph().params(), o.type() + " parameters");
            assertBitEqual(ra.graph().getUpdater().getStateViewArray(), rb.graph().getUpdater().getStateViewArray(),
                    o.type() + " updater state");
            assertBitEqual(fa.ema.params(), fb2.ema.params(), o.type() + " EMA parameters");
            assertBitEqual(fa.queue, fb2.queue, o.type() + " queue");
            assertEquals(ra.lastLoss(), rb.lastLoss(), 0.0);
            List<Map<String, String>> ma = MetricsLog.read(a.resolve("metrics.csv"));
            List<Map<String, String>> mb = MetricsLog.read(b.resolve("metrics.csv"));
            assertEquals(4 * SPE, ma.size());
            assertEquals(ma.stream().map(r -> r.get("step") + ":" + r.get("loss") + ":" + r.get("lr") + ":"
                            + r.get("queue_sum")).toList(),
                    mb.stream().map(r -> r.get("step") + ":" + r.get("loss") + ":" + r.get("lr") + ":"
                            + r.get("queue_sum")).toList(), o.type() + " metrics");
            // the logged lr follows the schedule by global step
            for (int i = 0; i < ma.size(); i++) {
                assertEquals(o.schedule().valueAt(i, 0), Double.parseDouble(ma.get(i).get("lr")), 1e-12);
            }
            assertEquals(List.of(1, 3), new CheckpointStore(a.resolve("checkpoints"), 9).list().stream()
                    .map(Checkpoint::epoch).toList());
        }
    }

    @Test
    void nonFiniteLossStopsKeepsLastGoodCheckpointAndResumeIsExact(@TempDir Path tmp) {
        OptimizerConfig o = lars();
        AtomicInteger calls = new AtomicInteger();
        Fitter clean = new Fitter();
        TrainingLoop.Result ref = loop(tmp.resolve("ref"), 4, 1, o, clean, calls).run();

        Path dir = tmp.resolve("nan");
        long k = 2L * SPE + 1; // epoch 2, step 1
        NonFiniteLossException e = assertThrows(NonFiniteLossException.class,
                () -> loop(dir, 4, 1, o, new Fitter(k, Double.NaN), calls).run());
        assertTrue(e.getMessage().contains("NaN") && e.getMessage().contains("epoch 2, step 1")
                && e.getMessage().contains("global step 7") && e.getMessage().contains("epoch-0001"), e.getMessage());
        assertEquals(2, e.epoch());
        assertEquals(1, e.step());
        assertTrue(Double.isNaN(e.loss()));
        Checkpoint latest = Checkpoint.latest(dir).orElseThrow();
        assertEquals(1, latest.epoch());
        assertEquals(2L * SPE, latest.step());
        assertEquals(8, MetricsLog.read(dir.resolve("metrics.csv")).size(), "rows up to the failing step");

        Nd4j.getRandom().setSeed(-5L); // as in a fresh process
        TrainingLoop.Result r = loop(dir, 4, 1, o, new Fitter(), calls).resume();
        assertBitEqual(ref.graph().params(), r.graph().params(), "resumed after the NaN");
        List<Map<String, String>> rows = MetricsLog.read(dir.resolve("metrics.csv"));
        assertEquals(List.of("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"),
                rows.stream().map(m -> m.get("step")).toList(), "rows after the checkpoint were replaced");
        assertFalse(rows.stream().anyMatch(m -> m.get("loss").equals("NaN")));
    }

    @Test
    void infiniteLossBeforeAnyCheckpoint(@TempDir Path tmp) {
        NonFiniteLossException e = assertThrows(NonFiniteLossException.class,
                () -> loop(tmp, 2, 1, adam(), new Fitter(1, Double.POSITIVE_INFINITY), new AtomicInteger()).run());
        assertTrue(e.getMessage().contains("Infinity") && e.getMessage().contains("no checkpoint"), e.getMessage());
        assertTrue(Checkpoint.latest(tmp).isEmpty());
    }

    @Test
    void resumeChecksSeedAndRunRefusesExistingCheckpoints(@TempDir Path tmp) throws Exception {
        AtomicInteger calls = new AtomicInteger();
        loop(tmp, 1, 1, adam(), new Fitter(), calls).run();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> loop(tmp, 2, 1, adam(), new Fitter(), calls).run());
        assertTrue(e.getMessage().contains("resume()"), e.getMessage());
        TrainingLoop other = TrainingLoop.builder().setRun(RunDirectory.open(tmp))
                .setGraphFactory(() -> TinyGraphs.dense(adam(), 1)).setStepFunction(new Fitter())
                .setConfig(new TrainingConfig(2, SPE, SEED + 1, 1, 1, List.of("queue_sum"))).build();
        e = assertThrows(IllegalStateException.class, other::resume);
        assertTrue(e.getMessage().contains("seed"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> TrainingLoop.builder().build());
        assertTrue(e.getMessage().contains("stepFunction"), e.getMessage());
        assertTrue(Files.exists(tmp.resolve("manifest.json")));
    }

    @Test
    void stepRandomStreamsDependOnEveryCoordinate() {
        long a = StepRandom.seed(1, 0, 0, 0);
        assertNotEquals(a, StepRandom.seed(2, 0, 0, 0));
        assertNotEquals(a, StepRandom.seed(1, 1, 0, 0));
        assertNotEquals(a, StepRandom.seed(1, 0, 1, 0));
        assertNotEquals(a, StepRandom.seed(1, 0, 0, 1));
        assertEquals(StepRandom.forStep(9, 2, 7).nextLong(), StepRandom.forStep(9, 2, 7).nextLong());
        // SplitMix64 finaliser reference value: mix(0) of the golden-gamma increment is 0xE220A8397B1DCDAF
        assertEquals(0xE220A8397B1DCDAFL, StepRandom.mix(0));
    }
}
