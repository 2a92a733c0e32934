package org.umm4j.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.umm4j.train.Checkpoint;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code umm4j umm} in-process on a tiny synthetic pretraining run. */
@Tag("slow")
class UmmCommandTest {
    @TempDir
    Path dir;

    private Path source(boolean withOptions) throws Exception {
        return TinyRuns.simclr(dir.resolve(withOptions ? "src" : "bare"), withOptions);
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
