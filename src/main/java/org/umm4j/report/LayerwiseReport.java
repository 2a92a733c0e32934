package org.umm4j.report;

import org.umm4j.eval.LayerwiseResult;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Renders a {@link LayerwiseResult} into a folder: {@code layerwise.csv}, {@code pearson.csv},
 * {@code accuracy.png} (k-NN and linear-probe top-1 against epoch, early vs last tap), {@code dr_label.png} and
 * {@code dr_instance.png} (dR with the label and with the instance membership against epoch, early vs last tap, with
 * Pearson's r against the probe's top-1 of the same tap in each legend entry; two plots because the two dR differ
 * by one to two orders of magnitude) and {@code index.html} (tables and plots).
 */
public final class LayerwiseReport {
    /** File names inside the output folder. */
    public static final String CSV = "layerwise.csv";
    public static final String PEARSON_CSV = "pearson.csv";
    public static final String ACCURACY_PNG = "accuracy.png";
    public static final String DR_LABEL_PNG = "dr_label.png";
    public static final String DR_INSTANCE_PNG = "dr_instance.png";
    public static final String INDEX = "index.html";

    private LayerwiseReport() {
    }

    /** Writes every file into {@code dir} (created if absent). */
    public static void write(LayerwiseResult result, Path dir, String runName) throws IOException {
        Files.createDirectories(dir);
        result.write(dir.resolve(CSV));
        result.pearsonTable().write(dir.resolve(PEARSON_CSV));
        accuracyPlot(result).writePng(dir.resolve(ACCURACY_PNG));
        drPlot(result, "dR_label").writePng(dir.resolve(DR_LABEL_PNG));
        drPlot(result, "dR_instance").writePng(dir.resolve(DR_INSTANCE_PNG));
        HtmlReport html = new HtmlReport("Layer-wise evaluation of " + runName);
        html.paragraph("Accuracy (k-NN and linear probe) and rate reduction dR (label and label-free instance "
                + "membership, eps 0.5, tau 0.5, L2-normalised rows) of the early and the last tap at every saved "
                + "checkpoint. Feature maps are global-average-pooled. Pearson r relates each dR curve to an "
                + "accuracy curve of the same tap over the checkpoints.");
        html.image(ACCURACY_PNG, "Top-1 accuracy against epoch");
        html.image(DR_LABEL_PNG, "dR with the label membership against epoch (r: Pearson correlation with the "
                + "probe's top-1 of the same tap)");
        html.image(DR_INSTANCE_PNG, "dR with the label-free instance membership against epoch (r as above)");
        html.heading("Pearson correlation between dR and accuracy");
        html.table(result.pearsonTable());
        html.heading("Per-checkpoint values");
        html.table(result.toTable());
        html.write(dir.resolve(INDEX));
    }

    /** @return top-1 accuracy (5-NN and probe; 200-NN is in the tables) against epoch for both taps */
    public static LinePlot accuracyPlot(LayerwiseResult r) {
        LinePlot.Builder b = LinePlot.builder().setTitle("Top-1 accuracy by checkpoint").setXLabel("epoch")
                .setYLabel("top-1 accuracy").optSize(1000, 560);
        for (String tap : r.taps()) {
            // 200-NN stays in the tables: six series do not fit a readable legend
            b.addSeries(tap + " 5-NN", r.epochs(tap), r.column(tap, "knn5_top1"));
            b.addSeries(tap + " linear probe", r.epochs(tap), r.column(tap, "probe_top1"));
        }
        return b.build();
    }

    /**
     * @param column {@code dR_label} or {@code dR_instance}
     * @return that dR against epoch for every tap, Pearson r vs the probe's top-1 in the legend
     */
    public static LinePlot drPlot(LayerwiseResult r, String column) {
        if (!LayerwiseResult.RATE_REDUCTIONS.contains(column)) {
            throw new IllegalArgumentException("column must be one of " + LayerwiseResult.RATE_REDUCTIONS + ", got "
                    + column);
        }
        String kind = column.equals("dR_label") ? "label" : "instance (label-free)";
        LinePlot.Builder b = LinePlot.builder().setTitle("Rate reduction dR, " + kind + " membership, by checkpoint")
                .setXLabel("epoch").setYLabel("dR (nats)").optSize(1000, 560);
        for (String tap : r.taps()) {
            double p = r.pearson(tap, column, "probe_top1");
            String name = String.format(Locale.ROOT, "%s dR (r=%s vs probe top-1)", tap,
                    Double.isNaN(p) ? "n/a" : String.format(Locale.ROOT, "%.2f", p));
            b.addSeries(name, r.epochs(tap), r.column(tap, column));
        }
        return b.build();
    }
}
