package org.umm4j.spark;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.umm4j.cli.BackboneOptions;
import org.umm4j.cli.DatasetOptions;
import org.umm4j.cli.Umm4j;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.Split;
import org.umm4j.data.augment.Recipes;
import org.umm4j.ssl.MethodConfig;
import org.umm4j.ssl.Methods;
import org.umm4j.train.Checkpoint;
import org.umm4j.train.MetricsLog;
import org.umm4j.train.OptimizerConfig;
import org.umm4j.train.Pretrainer;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code spark-umm} in-process on Spark {@code local[2]}, from a tiny pretraining run, and {@code umm4j eval} on its result. */
@Tag("slow")
class SparkUmmTest {
    @TempDir
    Path dir;

    private int trainImages;

    /** A one-epoch SimCLR run on 20 synthetic images whose manifest carries the dataset and backbone flags. */
    private Path source() throws Exception {
        DatasetOptions d = DatasetOptions.of("synthetic", null, 20, 20);
        BackboneOptions b = BackboneOptions.of("resnet18", 0.0625, "cifar", 1.0 / 64);
        ImageDataset data = d.load(Split.TRAIN, 11);
        trainImages = data.size();
        Map<String, Object> m = new LinkedHashMap<>(d.toManifest());
        m.putAll(b.toManifest());
        m.values().removeIf(Objects::isNull);   // Pretrainer.optManifest rejects the null dataDir of synthetic data
        Path out = dir.resolve("src");
        Pretrainer.builder().setDataset(data).setRecipe(Recipes.simclrCifar())
                .setMethod(Methods.create(MethodConfig.of("simclr", b.config(data, 11), 10, 5).withHeadScale(b.headScale())))
                .setOptimizer(OptimizerConfig.adam(1e-3)).setEpochs(1).setBatchSize(8).setOut(out).optSeed(11)
                .optManifest(m).build().run(false);
        return out;
    }

    @Test
    void fineTunesOnLocalSparkAndEvalReadsTheRun() throws Exception {
        Path src = source();
        Path out = dir.resolve("umm");
        int rc = new CommandLine(new SparkUmm()).execute("--spark-master", "local[2]", "--workers", "2",
                "--local-steps", "1", "--checkpoint", src.toString(), "--out", out.toString(), "--epochs", "1",
                "--batch-size", "4", "--sketch-k", "4", "--sketch-batch", "4", "--lr", "1e-3", "--seed", "3");
        assertEquals(0, rc);
        // N images, batches of 4, 2 workers, K = 1: floor(floor(N / 4) / 2) rounds (2 for the 20 images)
        int rounds = trainImages / 4 / 2;
        assertTrue(rounds >= 2, trainImages + " images");
        List<Map<String, String>> rows = MetricsLog.read(out.resolve("metrics.csv"));
        assertEquals(rounds, rows.size());
        for (Map<String, String> row : rows) {
            assertEquals(2.0, Double.parseDouble(row.get("workers")));
            assertTrue(Double.isFinite(Double.parseDouble(row.get("loss"))), row.toString());
            assertTrue(Double.isFinite(Double.parseDouble(row.get("dR"))), row.toString());
        }
        Checkpoint c = Checkpoint.latest(out).orElseThrow();
        assertEquals(0, c.epoch());
        assertEquals(rounds, c.step());
        assertTrue(c.arrayNames().contains("umm-adam-m"));
        ComputationGraph before = Checkpoint.latest(src).orElseThrow().restoreGraph(false);
        ComputationGraph after = c.restoreGraph(false);
        assertEquals(before.getVertex("stem_conv").params(), after.getVertex("stem_conv").params());
        assertNotEquals(before.getVertex("projector").params(), after.getVertex("projector").params());
        String manifest = Files.readString(out.resolve("manifest.json"));
        assertTrue(manifest.contains("spark-umm-parameter-averaging"), manifest);
        // the run is a run directory like umm4j umm's: the layer-wise evaluation reads it
        assertEquals(0, Umm4j.run("eval", "--run", out.toString(), "--probe-epochs", "2", "--dr-subset", "16"));
        assertTrue(Files.exists(out.resolve("eval").resolve("layerwise.csv")));
    }

    @Test
    void badFlagsAndUnsupportedSetupsFailByName() throws Exception {
        assertNotEquals(0, new CommandLine(new SparkUmm()).execute("--out", dir.resolve("x").toString()));
        assertNotEquals(0, new CommandLine(new SparkUmm()).execute("--checkpoint", dir.toString(), "--out",
                dir.resolve("y").toString(), "--hypergradient", "magic"));
    }
}
