package org.umm4j.cli;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.umm4j.eval.SupervisedFineTuner;
import org.umm4j.train.Checkpoint;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code umm4j finetune} in-process on a tiny synthetic pretraining run. */
@Tag("slow")
class FinetuneCommandTest {
    @TempDir
    Path dir;

    @Test
    void fineTunesOnAFractionOfTheLabelsAndResumes() throws Exception {
        Path src = TinyRuns.simclr(dir.resolve("src"), true);
        Path out = dir.resolve("ft");
        // 20 training images, 2 per class: half the labels = 10 images, batch 4 = 2 steps per epoch
        assertEquals(0, Umm4j.run("finetune", "--run", src.toString(), "--label-fraction", "0.5", "--epochs", "1",
                "--batch-size", "4", "--out", out.toString(), "--seed", "3"));
        Checkpoint c = Checkpoint.latest(out).orElseThrow();
        assertEquals(2, c.step());
        String json = Files.readString(out.resolve(SupervisedFineTuner.RESULT));
        assertTrue(json.contains("\"labelled\" : 10"), json);
        String manifest = Files.readString(out.resolve("manifest.json"));
        assertTrue(manifest.contains("labelFraction"), manifest);
        assertEquals(0, Umm4j.run("finetune", "--run", src.toString(), "--label-fraction", "0.5", "--epochs", "2",
                "--batch-size", "4", "--out", out.toString(), "--seed", "3", "--resume"));
        assertEquals(4, Checkpoint.latest(out).orElseThrow().step());
    }

    @Test
    void refusesBadFlagsAndRunsWithoutOptions() throws Exception {
        Path src = TinyRuns.simclr(dir.resolve("src"), true);
        assertNotEquals(0, Umm4j.run("finetune", "--run", src.toString(), "--label-fraction", "0"));
        assertNotEquals(0, Umm4j.run("finetune", "--run", src.toString(), "--label-fraction", "1.5"));
        // 0.01 of 2 images per class is no image at all: the subset's error names the class
        assertNotEquals(0, Umm4j.run("finetune", "--run", src.toString(), "--label-fraction", "0.01"));
        Path bare = TinyRuns.simclr(dir.resolve("bare"), false);
        assertNotEquals(0, Umm4j.run("finetune", "--run", bare.toString(), "--label-fraction", "0.5"));
    }
}
