package org.umm4j.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.Split;
import org.umm4j.data.augment.Recipes;
import org.umm4j.ssl.MethodConfig;
import org.umm4j.ssl.Methods;
import org.umm4j.train.Checkpoint;
import org.umm4j.train.OptimizerConfig;
import org.umm4j.train.Pretrainer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code umm4j umm} in-process on a tiny synthetic pretraining run. */
@Tag("slow")
class UmmCommandTest {
    @TempDir
    Path dir;

    private Path source(boolean withOptions) throws Exception {
        DatasetOptions d = DatasetOptions.of("synthetic", null, 20, 0);
        BackboneOptions b = BackboneOptions.of("resnet18", 0.0625, "cifar", 1.0 / 64);
        ImageDataset data = d.load(Split.TRAIN, 11);
        Map<String, Object> m = new LinkedHashMap<>();
        if (withOptions) {
            m.putAll(d.toManifest());
            m.putAll(b.toManifest());
            // Pretrainer.optManifest copies with Map.copyOf, which rejects the null dataDir of synthetic data
            m.values().removeIf(java.util.Objects::isNull);
        }
        Path out = dir.resolve(withOptions ? "src" : "bare");
        Pretrainer.builder().setDataset(data).setRecipe(Recipes.simclrCifar())
                .setMethod(Methods.create(MethodConfig.of("simclr", b.config(data, 11), 10, 5).withHeadScale(b.headScale())))
                .setOptimizer(OptimizerConfig.adam(1e-3)).setEpochs(1).setBatchSize(8).setOut(out).optSeed(11)
                .optManifest(m).build().run(false);
        return out;
    }

    @Test
    void fineTunesARunRebuiltFromItsManifest() throws Exception {
        Path src = source(true);
        Path out = dir.resolve("umm");
        int code = Umm4j.run("umm", "--checkpoint", src.resolve("checkpoints").resolve("epoch-0000").toString(),
                "--out", out.toString(), "--epochs", "1", "--batch-size", "8", "--sketch-batch", "8", "--sketch-k", "4",
                "--lr", "1e-3", "--beta", "1", "--lambda", "1", "--hypergradient", "unrolled", "--seed", "3");
        assertEquals(0, code);
        Checkpoint c = Checkpoint.latest(out).orElseThrow();
        assertEquals(0, c.epoch());
        assertEquals(2, c.step());
        ComputationGraph before = Checkpoint.latest(src).orElseThrow().restoreGraph(false);
        ComputationGraph after = c.restoreGraph(false);
        assertEquals(before.getVertex("stem_conv").params(), after.getVertex("stem_conv").params());
        assertNotEquals(before.getVertex("projector").params(), after.getVertex("projector").params());
        String manifest = Files.readString(out.resolve("manifest.json"));
        assertTrue(manifest.contains("\"sketchK\" : 4") || manifest.contains("\"sketchK\":4"), manifest);
        assertTrue(manifest.contains("\"width\""), manifest);
    }

    @Test
    void failsClearlyWithoutManifestEntriesOrWithBadFlags() throws Exception {
        Path bare = source(false);
        assertNotEquals(0, Umm4j.run("umm", "--checkpoint", bare.toString(), "--out", dir.resolve("x").toString()));
        assertNotEquals(0, Umm4j.run("umm", "--out", dir.resolve("y").toString()));
        assertNotEquals(0, Umm4j.run("umm", "--checkpoint", bare.toString(), "--out", dir.resolve("z").toString(),
                "--hypergradient", "magic"));
    }
}
