package org.umm4j.spark;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.umm4j.data.InMemoryImageDataset;
import org.umm4j.data.SyntheticDataset;
import org.umm4j.data.augment.FloatImage;
import org.umm4j.data.augment.Normalize;
import org.umm4j.data.augment.Recipe;
import org.umm4j.data.augment.Recipes;
import org.umm4j.nn.Backbone;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.SplitBackbone;
import org.umm4j.nn.Stem;
import org.umm4j.ssl.MethodConfig;
import org.umm4j.ssl.Methods;
import org.umm4j.ssl.SslMethod;
import org.umm4j.train.Checkpoint;
import org.umm4j.train.MetricsLog;
import org.umm4j.train.OptimizerConfig;
import org.umm4j.train.Pretrainer;
import org.umm4j.train.StepRandom;
import org.umm4j.umm.CpaSketch;
import org.umm4j.umm.FlatAdam;
import org.umm4j.umm.Hypergradient;
import org.umm4j.umm.UmmConfig;
import org.umm4j.umm.UmmFineTuner;
import org.umm4j.umm.UmmProblem;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Distributed UMM on Spark {@code local[n]} against the single-machine UMM step, on 8x8 images and a tiny ResNet. */
@Tag("slow")
class SparkUmmFineTunerTest {
    private static final int SIZE = 8;
    private static final long SEED = 5;
    private static final double LR = 1e-3;
    private static final double INNER_LR = 0.01;
    private static final UmmConfig UMM = new UmmConfig(1, 1, 0.5, 0.5, new CpaSketch(4, 1e-2, 1e-6), 4);
    private static final InMemoryImageDataset DATA =
            SyntheticDataset.generate(new SyntheticDataset.Config(4, 4, SIZE, 3, 9));   // 16 images
    private static final RecipeFactory RECIPE =
            () -> Recipes.simclr("simclr-8", SIZE, 0.2, 0.5, 0.0, Normalize.cifar10());

    @TempDir
    Path dir;

    private static ResNetConfig net() {
        return ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, SIZE, SIZE)
                .optWidthMultiplier(0.0625).optSeed(3).build();
    }

    private static SslMethod method() {
        return method("simclr");
    }

    private static SslMethod method(String name) {
        return Methods.create(MethodConfig.of(name, net(), 100, 5).withHeadScale(1.0 / 64));
    }

    /** A one-epoch SimCLR pretraining run (2 steps of 8) to fine-tune. */
    private Checkpoint source() {
        return source("simclr");
    }

    private Checkpoint source(String name) {
        Path out = dir.resolve("src-" + name);
        Pretrainer.builder().setDataset(DATA).setRecipe(RECIPE.get()).setMethod(method(name))
                .setOptimizer(OptimizerConfig.adam(1e-3)).setEpochs(1).setBatchSize(8).setOut(out).optSeed(11)
                .build().run(false);
        return Checkpoint.latest(out).orElseThrow();
    }

    private SparkUmmFineTuner.Builder tuner(JavaSparkContext sc, Checkpoint src, int workers, int batch, int k) {
        return tuner(sc, src, workers, batch, k, 1);
    }

    private SparkUmmFineTuner.Builder tuner(JavaSparkContext sc, Checkpoint src, int workers, int batch, int k,
                                            int epochs) {
        return SparkUmmFineTuner.builder().setSparkContext(sc).setSource(src).setMethod(method())
                .setImages(sc.parallelize(ImageRecord.fromDataset(DATA), 2)).setImageShape(3, SIZE, SIZE)
                .setRecipe(RECIPE).setConfig(new SparkSslConfig(epochs, batch, workers, k, SEED, 1, 3)).optUmm(UMM)
                .optLr(LR).optInnerLr(INNER_LR);
    }

    /** View v of images, made by the test from the recipe's documented seeding. */
    private static INDArray view(Recipe r, List<ImageRecord> images, int epoch, int v) {
        List<INDArray> rows = new ArrayList<>();
        for (ImageRecord rec : images) {
            FloatImage img = r.applyView(FloatImage.fromUint8(rec.pixels(), 0, 3, SIZE, SIZE), SEED, epoch, rec.index(), v);
            rows.add(Nd4j.create(img.data(), new long[]{1, img.channels(), img.height(), img.width()}, 'c'));
        }
        return Nd4j.concat(0, rows.toArray(new INDArray[0]));
    }

    /** One single-machine unrolled UMM step + Adam (t = 1) from the source: {f_l params, m, v, L_SSL, dR}. */
    private static Object[] singleMachineStep(Checkpoint src, UmmBatch b) {
        SslMethod m = method();
        Backbone backbone = m.createOnline();
        ComputationGraph online = src.restoreGraph(false);
        for (Map.Entry<String, INDArray> e : backbone.graph().paramTable().entrySet()) {
            e.getValue().assign(online.getParam(e.getKey()));
        }
        SplitBackbone split = backbone.split("stage2");
        UmmProblem problem = new UmmProblem(split.last(), m.objective(), UMM, "projector", false);
        Recipe r = RECIPE.get();
        problem.setBatch(split.earlyFeatures(view(r, b.images(), b.epoch(), 0)),
                split.earlyFeatures(view(r, b.images(), b.epoch(), 1)), List.of(),
                StepRandom.forStep(SEED, b.epoch(), b.step()).nextLong());
        INDArray theta = problem.theta();
        Hypergradient.Directions d = Hypergradient.byName("unrolled", INNER_LR).compute(problem, theta, problem.phi());
        FlatAdam adam = new FlatAdam(LR);
        INDArray next = adam.step(theta, d.theta(), 1);
        Map<String, Double> parts = problem.commit(next, null);
        problem.copyParametersTo(split.last());
        return new Object[]{Nd4j.toFlattened(split.last().params()), adam.m(), adam.v(), parts.get("ssl"),
                parts.get("dR")};
    }

    private static double maxAbsDiff(INDArray a, INDArray b) {
        return Transforms.abs(a.reshape(a.length()).sub(b.reshape(b.length()))).maxNumber().doubleValue();
    }

    @Test
    void twoWorkersOneLocalStepGiveTheMeanOfTheirSingleMachineUmmSteps() {
        Checkpoint src = source();
        List<ImageRecord> all = ImageRecord.fromDataset(DATA);
        UmmBatch b0 = new UmmBatch(0, 0, all.subList(0, 4));
        UmmBatch b1 = new UmmBatch(0, 1, all.subList(8, 12));
        Object[] s0 = singleMachineStep(src, b0);
        Object[] s1 = singleMachineStep(src, b1);
        INDArray expected = Nd4j.concat(0, ((INDArray) s0[0]).reshape(((INDArray) s0[0]).length()),
                (INDArray) s0[1], (INDArray) s0[2])
                .addi(Nd4j.concat(0, ((INDArray) s1[0]).reshape(((INDArray) s1[0]).length()), (INDArray) s1[1],
                        (INDArray) s1[2]))
                .divi(2);
        try (JavaSparkContext sc = LocalSpark.start("local[2]")) {
            SparkUmmFineTuner t = tuner(sc, src, 2, 4, 1).build();
            INDArray start = t.initialState();
            JavaRDD<UmmBatch> data = sc.parallelize(List.of(b0, b1), 2);
            Broadcast<INDArray> early = sc.broadcast(t.earlyParams().dup());
            SparkParameterAveraging.Round r = t.round(start, data, early, null, 0, 0, "test round");
            assertEquals(2, r.workers());
            assertEquals(expected.length(), r.params().length());
            // the workers really moved apart, so the mean is not either one of them
            double spread = maxAbsDiff((INDArray) s0[0], (INDArray) s1[0]);
            assertTrue(spread > 1e-4, "the two workers' updates differ by " + spread);
            assertTrue(maxAbsDiff(r.params(), start) > 1e-4);
            // f_l's weights, BatchNorm running statistics and Adam's m and v: the mean of the two single-machine steps
            assertTrue(maxAbsDiff(expected, r.params()) <= 1e-6, "max |spark - mean| = " + maxAbsDiff(expected, r.params()));
            assertEquals(((Double) s0[3] + (Double) s1[3]) / 2, r.meanLoss(), 1e-6);
            assertEquals(((Double) s0[4] + (Double) s1[4]) / 2, r.extraMeans()[0], 1e-6);
        }
    }

    @Test
    void oneWorkerRunIsTheSingleMachineRunAndItsCheckpointLoadsBack() {
        Checkpoint src = source();
        // single machine: 16 images, batch 4 -> 4 steps
        Path single = dir.resolve("single");
        UmmFineTuner.builder().setSource(src).setDataset(DATA).setRecipe(RECIPE.get()).setMethod(method()).setOut(single)
                .setEpochs(1).setBatchSize(4).optUmm(UMM).optLr(LR).optInnerLr(INNER_LR).optSeed(SEED).build().run(false);
        Checkpoint sm = Checkpoint.latest(single).orElseThrow();
        List<Map<String, String>> smRows = MetricsLog.read(single.resolve("metrics.csv"));
        Path out = dir.resolve("spark");
        SparkUmmFineTuner.Result r;
        try (JavaSparkContext sc = LocalSpark.start("local[2]")) {
            // one worker, K = 2 local steps per round: 2 rounds over the same 4 batches, Adam state carried
            r = tuner(sc, src, 1, 4, 2).optRunDirectory(out).optManifest("synthetic", Map.of("dataset", "synthetic"))
                    .build().run();
        }
        assertEquals(2, r.rounds().size());
        Checkpoint c = Checkpoint.latest(out).orElseThrow();
        assertEquals(0, c.epoch());
        assertEquals(sm.step(), c.step());
        ComputationGraph expected = sm.restoreGraph(false);
        ComputationGraph loaded = c.restoreGraph(false);
        assertEquals(expected.paramTable().keySet(), loaded.paramTable().keySet());
        assertTrue(maxAbsDiff(expected.params(), loaded.params()) <= 1e-6,
                "max |spark - single machine| = " + maxAbsDiff(expected.params(), loaded.params()));
        assertTrue(maxAbsDiff(sm.readArray("umm-adam-v"), c.readArray("umm-adam-v")) <= 1e-9);
        assertTrue(maxAbsDiff(sm.readArray("umm-adam-m"), c.readArray("umm-adam-m")) <= 1e-7);
        assertEquals(0.0, maxAbsDiff(r.graph().params(), loaded.params()), "the checkpoint holds the result");
        // the fine-tuning moved f_l and left f_e alone
        ComputationGraph before = src.restoreGraph(false);
        assertEquals(before.getParam("stem_conv_W"), loaded.getParam("stem_conv_W"));
        assertTrue(maxAbsDiff(before.getVertex("projector").params(), loaded.getVertex("projector").params()) > 0);
        // a round's loss and dR are the means of its K steps' (after each update)
        List<Map<String, String>> rows = MetricsLog.read(out.resolve("metrics.csv"));
        assertEquals(2, rows.size());
        assertEquals("2", rows.get(0).get("step"));
        assertEquals("4", rows.get(1).get("step"));
        for (int i = 0; i < 2; i++) {
            double mean = (Double.parseDouble(smRows.get(2 * i).get("loss"))
                    + Double.parseDouble(smRows.get(2 * i + 1).get("loss"))) / 2;
            assertEquals(mean, Double.parseDouble(rows.get(i).get("loss")), 1e-5);
            double meanDr = (Double.parseDouble(smRows.get(2 * i).get("dR"))
                    + Double.parseDouble(smRows.get(2 * i + 1).get("dR"))) / 2;
            assertEquals(meanDr, Double.parseDouble(rows.get(i).get("dR")), 1e-5);
        }
    }

    @Test
    void twoWorkerRunResumedFromItsCheckpointEqualsTheStraightRun() {
        Checkpoint src = source();
        Path straight = dir.resolve("straight");
        Path resumed = dir.resolve("resumed");
        try (JavaSparkContext sc = LocalSpark.start("local[2]")) {
            // 16 images, batches of 4, 2 workers, K = 1: 2 rounds per epoch
            SparkUmmFineTuner.Result a = tuner(sc, src, 2, 4, 1, 2).optRunDirectory(straight).build().run();
            assertEquals(4, a.rounds().size());
            tuner(sc, src, 2, 4, 1, 1).optRunDirectory(resumed).build().run();
            SparkUmmFineTuner.Result b = tuner(sc, src, 2, 4, 1, 2).optRunDirectory(resumed).build().run();
            assertEquals(2, b.rounds().size(), "the resumed run trains epoch 1 only");
            assertEquals(0.0, maxAbsDiff(a.graph().params(), b.graph().params()));
            Checkpoint ca = Checkpoint.latest(straight).orElseThrow();
            Checkpoint cb = Checkpoint.latest(resumed).orElseThrow();
            assertEquals(1, cb.epoch());
            assertEquals(4, cb.step());
            assertEquals(0.0, maxAbsDiff(ca.readArray("umm-adam-v"), cb.readArray("umm-adam-v")));
            assertEquals(MetricsLog.read(straight.resolve("metrics.csv")).size(),
                    MetricsLog.read(resumed.resolve("metrics.csv")).size());
            assertTrue(maxAbsDiff(a.graph().params(), src.restoreGraph(false).params()) > 0);
            // records must be indexed 0..N-1: a duplicated index (and so a missing one) is named, not trained on
            List<ImageRecord> bad = new ArrayList<>(ImageRecord.fromDataset(DATA));
            bad.set(5, new ImageRecord(0, bad.get(5).pixels(), bad.get(5).label()));
            Exception e = assertThrows(Exception.class, () -> tuner(sc, src, 2, 4, 1, 1)
                    .setImages(sc.parallelize(bad, 2)).build().run());
            assertTrue(String.valueOf(e.getMessage()).contains("indexed 0..N-1"), e.getMessage());
        }
    }

    @Test
    void neumannWithOneWorkerUpdatesThetaAndPhiAsTheSingleMachineRun() {
        Checkpoint src = source();
        Path single = dir.resolve("single-neumann");
        UmmFineTuner.builder().setSource(src).setDataset(DATA).setRecipe(RECIPE.get()).setMethod(method()).setOut(single)
                .setEpochs(1).setBatchSize(8).optUmm(UMM).optLr(LR).optInnerLr(INNER_LR).optSeed(SEED)
                .optHypergradient("neumann").build().run(false);
        Checkpoint sm = Checkpoint.latest(single).orElseThrow();
        Path out = dir.resolve("spark-neumann");
        try (JavaSparkContext sc = LocalSpark.start("local[2]")) {
            tuner(sc, src, 1, 8, 1).optHypergradient("neumann").optRunDirectory(out).build().run();
        }
        Checkpoint c = Checkpoint.latest(out).orElseThrow();
        assertEquals(sm.step(), c.step());
        ComputationGraph expected = sm.restoreGraph(false);
        ComputationGraph loaded = c.restoreGraph(false);
        assertTrue(maxAbsDiff(expected.params(), loaded.params()) <= 1e-6,
                "max |spark - single machine| = " + maxAbsDiff(expected.params(), loaded.params()));
        // phi (the projector) has its own Adam state, carried in the averaged vector
        assertTrue(c.arrayNames().contains("umm-adam-m-phi"));
        assertTrue(maxAbsDiff(sm.readArray("umm-adam-m-phi"), c.readArray("umm-adam-m-phi")) <= 1e-7);
        assertTrue(maxAbsDiff(sm.readArray("umm-adam-v-phi"), c.readArray("umm-adam-v-phi")) <= 1e-9);
        assertTrue(maxAbsDiff(src.restoreGraph(false).getVertex("projector").params(),
                loaded.getVertex("projector").params()) > 0);
    }

    @Test
    void byolWithOneWorkerUsesTheBroadcastTargetAsTheSingleMachineRun() {
        Checkpoint src = source("byol");
        Path single = dir.resolve("single-byol");
        UmmFineTuner.builder().setSource(src).setDataset(DATA).setRecipe(RECIPE.get()).setMethod(method("byol"))
                .setOut(single).setEpochs(1).setBatchSize(8).optUmm(UMM).optLr(LR).optInnerLr(INNER_LR).optSeed(SEED)
                .build().run(false);
        Checkpoint sm = Checkpoint.latest(single).orElseThrow();
        Path out = dir.resolve("spark-byol");
        try (JavaSparkContext sc = LocalSpark.start("local[2]")) {
            tuner(sc, src, 1, 8, 1).setMethod(method("byol")).optRunDirectory(out).build().run();
        }
        Checkpoint c = Checkpoint.latest(out).orElseThrow();
        ComputationGraph expected = sm.restoreGraph(false);
        ComputationGraph loaded = c.restoreGraph(false);
        assertTrue(maxAbsDiff(expected.params(), loaded.params()) <= 1e-6,
                "max |spark - single machine| = " + maxAbsDiff(expected.params(), loaded.params()));
        assertTrue(maxAbsDiff(src.restoreGraph(false).params(), loaded.params()) > 0);
        // the checkpoint keeps BYOL's target (unchanged), so it is a complete BYOL checkpoint like the single machine's
        assertTrue(c.graphNames().contains("target"), c.graphNames().toString());
        assertEquals(0.0, maxAbsDiff(src.restoreGraph("target", false).params(),
                c.restoreGraph("target", false).params()));
    }
}
