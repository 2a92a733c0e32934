package org.umm4j.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.Split;
import org.umm4j.data.augment.Recipes;
import org.umm4j.eval.DrMonitor;
import org.umm4j.eval.FeatureExtractor;
import org.umm4j.eval.LayerwiseResult;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.ssl.MethodConfig;
import org.umm4j.ssl.Methods;
import org.umm4j.train.Checkpoint;
import org.umm4j.train.MetricsLog;
import org.umm4j.train.OptimizerConfig;
import org.umm4j.train.Pretrainer;
import org.umm4j.train.RunDirectory;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * eval, report, monitor and timing run in-process on a tiny run directory: 40 synthetic 32x32 images, a ResNet-18 at
 * width 0.125, SimCLR for 3 epochs with the dR monitor, a checkpoint every epoch.
 */
@Tag("slow")
class EvalCommandsTest {
    @TempDir
    static Path tmp;
    static Path run;
    static DrMonitor monitor;

    @BeforeAll
    static void pretrain() throws Exception {
        run = tmp.resolve("run");
        DatasetOptions dopts = DatasetOptions.of("synthetic", null, 40, 20);
        BackboneOptions bopts = BackboneOptions.of("resnet18", 0.125, "cifar", 1.0 / 64);
        ImageDataset train = dopts.load(Split.TRAIN, 11);
        ResNetConfig rc = bopts.config(train, 3);
        Map<String, Object> manifest = new LinkedHashMap<>();
        dopts.toManifest().forEach((k, v) -> {
            if (v != null) {
                manifest.put(k, v); // Map.copyOf in Pretrainer rejects null values (dataDir of synthetic)
            }
        });
        manifest.putAll(bopts.toManifest());
        monitor = DrMonitor.create(train, FeatureExtractor.normalizeFor("simclr-cifar", 3), 256, 5);
        Pretrainer.builder().setDataset(train).setRecipe(Recipes.simclrCifar())
                .setMethod(Methods.create(MethodConfig.of("simclr", rc, 15, 5).withHeadScale(1.0 / 64)))
                .setOptimizer(OptimizerConfig.adam(1e-3)).setEpochs(3).setBatchSize(8).setOut(run).optSeed(11)
                .optManifest(manifest).optEpochListener(monitor, List.of(DrMonitor.COLUMN)).build().run(false);
    }

    private record Out(int code, String out, String err) {
    }

    private static Out cli(String... args) {
        PrintStream o = System.out;
        PrintStream e = System.err;
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        ByteArrayOutputStream be = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bo, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(be, true, StandardCharsets.UTF_8));
        try {
            int code = Umm4j.run(args);
            return new Out(code, bo.toString(StandardCharsets.UTF_8), be.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(o);
            System.setErr(e);
        }
    }

    @Test
    void monitorColumnIsLoggedEachEpochAndReproducibleFromTheCheckpoint() {
        List<Map<String, String>> rows = MetricsLog.read(run.resolve(RunDirectory.METRICS));
        List<String> logged = rows.stream().map(r -> r.get(DrMonitor.COLUMN)).filter(v -> !v.isEmpty()).toList();
        assertEquals(3, logged.size());
        assertEquals(3, monitor.history().size());
        Checkpoint last = Checkpoint.latest(run).orElseThrow();
        assertEquals(2, last.epoch());
        // the listener ran after the epoch's last update, the checkpoint holds the same parameters
        assertEquals(Double.parseDouble(logged.get(2)), monitor.measure(last.restoreGraph(false)), 1e-4);
        assertTrue(Double.parseDouble(logged.get(0)) > 0);
    }

    @Test
    void evalWritesCsvPlotsAndHtmlThenReportAndMonitorUseThem() throws Exception {
        Out o = cli("eval", "--run", run.toString(), "--probe-epochs", "5", "--dr-subset", "300");
        assertEquals(0, o.code(), o.err());
        Path eval = run.resolve("eval");
        LayerwiseResult r = LayerwiseResult.read(eval.resolve("layerwise.csv"));
        assertEquals(List.of("stage2", "pool"), r.taps());
        assertArrayEquals(new double[]{0, 1, 2}, r.epochs("pool"));
        for (String f : List.of("accuracy.png", "dr_label.png", "dr_instance.png", "pearson.csv", "index.html")) {
            assertTrue(Files.size(eval.resolve(f)) > 100, f);
        }
        assertTrue(Files.readString(eval.resolve("index.html")).contains("accuracy.png"));
        assertTrue(o.out().contains("pearson pool"), o.out());
        // same 40 images, same tap, same membership: eval's last-layer instance dR equals the monitor's value
        List<Double> mon = monitor.history().stream().map(h -> h[1]).toList();
        assertArrayEquals(mon.stream().mapToDouble(Double::doubleValue).toArray(), r.column("pool", "dR_instance"),
                1e-3);

        Out rep = cli("report", "--run", run.toString());
        assertEquals(0, rep.code(), rep.err());
        String html = Files.readString(run.resolve("report/index.html"));
        assertTrue(html.contains("loss.png") && html.contains("monitor.png") && html.contains("../eval/dr_instance.png"), html);
        assertTrue(Files.size(run.resolve("report/loss.png")) > 100);

        Out m = cli("monitor", "--run", run.toString());
        assertEquals(0, m.code(), m.err());
        List<String> lines = m.out().strip().lines().toList();
        assertEquals("epoch,dR_monitor,mark", lines.get(0));
        assertEquals(4, lines.size());
        int peak = 0;
        for (int i = 1; i < 3; i++) {
            if (mon.get(i) > mon.get(peak)) {
                peak = i;
            }
        }
        assertTrue(lines.get(peak + 1).endsWith(",peak"), m.out());
        assertEquals(1, lines.stream().filter(l -> l.endsWith(",peak")).count(), m.out());
    }

    @Test
    void timingRunsOnRandomAndRunFeatures() {
        Out t = cli("timing", "--n", "60", "--dim", "16", "--n-test", "20", "--probe-epochs", "3", "--top-k", "5",
                "--repeats", "1");
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().contains("CRR dense"), t.out());
        assertTrue(t.out().contains("train 60 x 16, test 20"), t.out());
        assertTrue(t.out().contains("ratios to dense CRR") && t.out().contains("ratios to top-5 CRR"), t.out());
        Out r = cli("timing", "--run", run.toString(), "--n", "30", "--n-test", "10", "--probe-epochs", "3",
                "--top-k", "5", "--repeats", "1", "--no-dense", "--crr-subset", "20");
        assertEquals(0, r.code(), r.err());
        assertFalse(r.out().contains("CRR dense"), r.out());
        assertTrue(r.out().contains("train 30 x 64, test 10; CRR on 20 training features"), r.out());
    }

    @Test
    void badRunDirectoriesGiveClearErrors() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("not-a-run"));
        for (String cmd : List.of("eval", "report", "monitor", "timing")) {
            Out o = cli(cmd, "--run", empty.toString());
            assertEquals(2, o.code(), cmd);
            assertTrue(o.err().contains("is not a run directory"), cmd + ": " + o.err());
        }
        Path noCkpt = tmp.resolve("no-checkpoints");
        RunDirectory.create(noCkpt, Map.of("dataset", "synthetic", "trainLimit", 20, "testLimit", 10), 1, "synthetic",
                "none");
        Out o = cli("eval", "--run", noCkpt.toString());
        assertEquals(2, o.code());
        assertTrue(o.err().contains("has no checkpoints"), o.err());
        o = cli("monitor", "--run", noCkpt.toString());
        assertEquals(2, o.code());
        assertTrue(o.err().contains("no metrics log"), o.err());
        o = cli("eval", "--run", run.toString(), "--early-tap", "stage7");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("--early-tap"), o.err());
    }
}
