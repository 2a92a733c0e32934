package org.umm4j.cli;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.umm4j.train.Checkpoint;
import org.umm4j.train.RunDirectory;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** {@code umm4j pretrain} run in-process on a few synthetic images. */
class PretrainCommandTest {
    @TempDir
    Path dir;

    /** 20 synthetic 32 px images, batches of 8 (2 steps per epoch), the narrowest network. */
    private static String[] args(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("pretrain", "--dataset", "synthetic", "--train-limit", "20", "--test-limit", "20",
                "--width", "0.125", "--head-scale", "0.015625", "--batch-size", "8", "--workers", "1",
                "--seed", "7", "--out", out.toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Tag("slow") // about 20 s on the shared 2 cores (the synthetic set is generated in full, then subset)
    @Test
    void oneEpochWritesARunDirectoryThatRebuildsDataAndNetwork() throws Exception {
        Path out = dir.resolve("run");
        assertEquals(0, Umm4j.run(args(out, "--epochs", "1", "--method", "simclr",
                "--objective-param", "temperature=0.2")));
        assertTrue(Files.exists(out.resolve(RunDirectory.MANIFEST)));
        List<String> metrics = Files.readAllLines(out.resolve(RunDirectory.METRICS));
        assertEquals(3, metrics.size(), "header + 2 steps: " + metrics);
        Checkpoint c = Checkpoint.latest(out).orElseThrow();
        assertEquals(0, c.epoch());
        Map<String, Object> manifest = RunDirectory.open(out).manifest();
        @SuppressWarnings("unchecked")
        Map<String, Object> cfg = (Map<String, Object>) manifest.get("config");
        DatasetOptions d = DatasetOptions.fromManifest(cfg);
        assertEquals("synthetic", d.name());
        assertEquals(20, cfg.get("trainLimit"));
        BackboneOptions b = BackboneOptions.fromManifest(cfg);
        assertEquals(0.015625, b.headScale());
        Map<?, ?> p = (Map<?, ?>) cfg.get("pretrain");
        assertEquals("simclr", p.get("method"));
        assertEquals(0.2, ((Map<?, ?>) p.get("objectiveParams")).get("temperature"));
        assertEquals(0.2, ((Map<?, ?>) cfg.get("objective")).get("temperature"));
        assertEquals(0.5, p.get("jitterStrength"), "the recipe's jitter strength is recorded for umm to rebuild it");
        // the network the manifest describes has the checkpoint's backbone shape
        var data = d.load(org.umm4j.data.Split.TRAIN, 7);
        var rebuilt = org.umm4j.nn.Backbone.create(b.config(data, 7)).graph();
        assertArrayEquals(rebuilt.getParam("stem_conv_W").shape(), c.restoreGraph(false).getParam("stem_conv_W").shape());

        // k-NN of the checkpoint and of a random network, data and shape taken from the manifest
        assertEquals(0, Umm4j.run("knn-eval", "--run", out.toString()));
        assertEquals(0, Umm4j.run("knn-eval", "--run", out.toString(), "--random"));
        for (String f : List.of("knn.json", "knn-random.json")) {
            String json = Files.readString(out.resolve(f));
            assertTrue(json.contains("\"train\": 20") && json.contains("\"test\": 20"), json);
            double top1 = Double.parseDouble(json.replaceAll("(?s).*\"top1\": ([0-9.]+).*", "$1"));
            assertTrue(top1 >= 0 && top1 <= 1, json);
        }
        assertTrue(Files.readString(out.resolve("knn.json")).contains("epoch 1"));
    }

    @Test
    void resumeContinuesFromTheLatestCheckpoint() {
        Path out = dir.resolve("run");
        assertEquals(0, Umm4j.run(args(out, "--epochs", "1")));
        assertEquals(0, Checkpoint.latest(out).orElseThrow().epoch());
        // without --resume an existing run is refused
        assertNotEquals(0, Umm4j.run(args(out, "--epochs", "2")));
        assertEquals(0, Umm4j.run(args(out, "--epochs", "2", "--resume")));
        Checkpoint c = Checkpoint.latest(out).orElseThrow();
        assertEquals(1, c.epoch());
        assertEquals(4, c.step());
        // resuming with another method is refused
        StringWriter err = new StringWriter();
        CommandLine cl = Umm4j.commandLine();
        cl.setErr(new PrintWriter(err));
        assertNotEquals(0, cl.execute(args(out, "--epochs", "3", "--resume", "--method", "byol")));
        assertTrue(err.toString().contains("simclr"), err.toString());
    }

    @Test
    void unknownValuesAreClearErrors() {
        StringWriter err = new StringWriter();
        CommandLine cl = Umm4j.commandLine();
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args(dir.resolve("x"), "--method", "dino"));
        assertNotEquals(0, code);
        assertTrue(err.toString().contains("--method 'dino' is not one of simclr, barlow, vicreg, wmse, byol, simsiam, "
                + "mocov2, swav, vicregl, superinfo"), err.toString());
        assertFalse(Files.exists(dir.resolve("x")), "nothing is written for a bad command line");

        StringWriter err2 = new StringWriter();
        CommandLine cl2 = Umm4j.commandLine();
        cl2.setErr(new PrintWriter(err2));
        assertNotEquals(0, cl2.execute(args(dir.resolve("y"), "--optimizer", "rmsprop")));
        assertTrue(err2.toString().contains("adam, sgd, lars"), err2.toString());
        StringWriter err3 = new StringWriter();
        CommandLine cl3 = Umm4j.commandLine();
        cl3.setErr(new PrintWriter(err3));
        assertNotEquals(0, cl3.execute(args(dir.resolve("z"), "--schedule", "step")));
        assertTrue(err3.toString().contains("warmup-cosine, cosine, exponential, constant"), err3.toString());
        StringWriter err4 = new StringWriter();
        CommandLine cl4 = Umm4j.commandLine();
        cl4.setErr(new PrintWriter(err4));
        assertNotEquals(0, cl4.execute(args(dir.resolve("w"), "--jitter-strength", "-1")));
        assertTrue(err4.toString().contains("--jitter-strength"), err4.toString());
        StringWriter err5 = new StringWriter();
        CommandLine cl5 = Umm4j.commandLine();
        cl5.setErr(new PrintWriter(err5));
        assertNotEquals(0, cl5.execute(args(dir.resolve("v"), "--crop-scale-min", "1.5")));
        assertTrue(err5.toString().contains("--crop-scale-min"), err5.toString());
    }

    @Test
    void recipesFollowTheMethodAndTheImageSize() {
        var small = org.umm4j.data.SyntheticDataset.generate(new org.umm4j.data.SyntheticDataset.Config(2, 2, 32, 3, 1));
        var big = org.umm4j.data.SyntheticDataset.generate(new org.umm4j.data.SyntheticDataset.Config(2, 2, 96, 3, 1));
        assertEquals(2, PretrainCommand.recipeFor("simclr", small, 6).numViews());
        assertEquals(8, PretrainCommand.recipeFor("swav", small, 6).numViews());
        // a crop lower bound of 1 makes every SimCLR view the whole image (up to flip and colour)
        assertEquals(2, PretrainCommand.recipeFor("simclr", small, 6, 0.0, 1.0).numViews());
        assertEquals(2 + 3, PretrainCommand.recipeFor("swav", big, 3).numViews());
        assertTrue(PretrainCommand.recipeFor("byol", small, 6).name().startsWith("byol"));
        assertEquals(0.4914f, PretrainCommand.normalizeFor(small).mean()[0]);
        assertEquals(0.485f, PretrainCommand.normalizeFor(big).mean()[0]);
    }
}
