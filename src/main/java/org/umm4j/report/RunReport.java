package org.umm4j.report;

import org.umm4j.train.RunDirectory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The report of a run, {@code report/index.html} inside the run directory: the training loss curve
 * ({@code loss.png}: per step and the per-epoch mean, from {@code metrics.csv}), the label-free monitor curve
 * ({@code monitor.png}, when the run logged {@code dR_monitor}) with its peak, and the layer-wise plots of
 * {@code eval/} when {@code umm4j eval} has run (linked by relative path, not copied).
 */
public final class RunReport {
    /** Sub-folder of the run. */
    public static final String DIR = "report";
    public static final String LOSS_PNG = "loss.png";
    public static final String MONITOR_PNG = "monitor.png";
    /** The monitor column of metrics.csv. */
    public static final String MONITOR_COLUMN = "dR_monitor";

    private RunReport() {
    }

    /**
     * Writes {@code runDir/report/}.
     *
     * @return the written {@code index.html}
     * @throws IllegalArgumentException if {@code runDir} is not a run or has no metrics rows
     */
    public static Path write(Path runDir) throws IOException {
        RunDirectory run = RunDirectory.open(runDir);
        RunCurves curves = RunCurves.read(run.metricsFile());
        Path dir = runDir.resolve(DIR);
        Files.createDirectories(dir);
        String name = runDir.toAbsolutePath().normalize().getFileName().toString();
        HtmlReport html = new HtmlReport("Run report: " + name);
        html.heading("Run");
        Object cfg = run.manifest().get("config");
        html.paragraph("dataset " + run.manifest().get("dataset") + ", seed " + run.seed() + ", started "
                + run.manifest().get("startTime") + ", backend " + run.manifest().get("backend"));
        if (cfg != null) {
            html.code(String.valueOf(cfg));
        }
        html.heading("Training loss");
        LinePlot.builder().setTitle("Training loss").setXLabel("step").setYLabel("loss")
                .addSeries("loss per step", curves.steps(), curves.losses())
                .addSeries("epoch mean (at the epoch's last step)", curves.epochEnd(), curves.epochLoss())
                .build().writePng(dir.resolve(LOSS_PNG));
        html.image(LOSS_PNG, "Training loss per step and its mean per epoch");
        double[][] mon = RunCurves.column(run.metricsFile(), MONITOR_COLUMN);
        html.heading("Label-free monitor (dR of last-layer features, instance membership)");
        if (mon[0].length > 0) {
            int peak = argMax(mon[1]);
            LinePlot.builder().setTitle("dR monitor").setXLabel("epoch").setYLabel("dR (nats)")
                    .addSeries(MONITOR_COLUMN, mon[0], mon[1])
                    .addSeries(String.format(Locale.ROOT, "peak: epoch %d, dR %.4f", (int) mon[0][peak], mon[1][peak]),
                            new double[]{mon[0][peak]}, new double[]{mon[1][peak]})
                    .build().writePng(dir.resolve(MONITOR_PNG));
            html.image(MONITOR_PNG, "dR_monitor per epoch; its peak marks the best checkpoint by the label-free rule");
        } else {
            html.paragraph("This run logged no " + MONITOR_COLUMN + " column (train with the monitor on to get it).");
        }
        html.heading("Layer-wise evaluation");
        Path eval = runDir.resolve("eval");
        if (Files.isRegularFile(eval.resolve(LayerwiseReport.CSV))) {
            html.image("../eval/" + LayerwiseReport.ACCURACY_PNG, "Top-1 accuracy against epoch (umm4j eval)");
            html.image("../eval/" + LayerwiseReport.DR_LABEL_PNG, "dR (label membership) against epoch with Pearson r");
            html.image("../eval/" + LayerwiseReport.DR_INSTANCE_PNG, "dR (instance membership) against epoch with "
                    + "Pearson r");
            html.paragraph("Full tables: ../eval/index.html");
        } else {
            html.paragraph("Not evaluated yet: run umm4j eval --run " + runDir + " first.");
        }
        Path index = dir.resolve("index.html");
        html.write(index);
        return index;
    }

    /** @return index of the largest value (first on ties) */
    public static int argMax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
