package org.umm4j.report;

import org.umm4j.train.MetricsLog;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Curves read from a run's {@code metrics.csv} ({@link MetricsLog}: one row per step): the training loss per
 * step, its mean per epoch, and any per-epoch column such as the label-free monitor {@code dR_monitor} (filled on
 * the last step of each epoch, empty elsewhere).
 *
 * @param steps     global step of each row
 * @param losses    loss of each row
 * @param epochs    epochs that have rows, increasing
 * @param epochLoss mean loss over each epoch's rows (non-finite losses skipped)
 * @param epochEnd  the last logged step of each epoch (where the epoch mean is drawn)
 */
public record RunCurves(double[] steps, double[] losses, double[] epochs, double[] epochLoss, double[] epochEnd) {

    /**
     * Reads the loss curves.
     *
     * @throws IllegalArgumentException if the file is missing or has no rows
     */
    public static RunCurves read(Path metricsCsv) {
        List<Map<String, String>> rows = rows(metricsCsv);
        List<double[]> pts = new ArrayList<>();
        for (Map<String, String> r : rows) {
            double loss = parse(r.get("loss"));
            if (Double.isFinite(loss)) {
                pts.add(new double[]{parse(r.get("step")), loss, parse(r.get("epoch"))});
            }
        }
        if (pts.isEmpty()) {
            throw new IllegalArgumentException(metricsCsv + " has no finite loss");
        }
        double[] s = new double[pts.size()];
        double[] l = new double[pts.size()];
        List<double[]> byEpoch = new ArrayList<>();
        for (int i = 0; i < pts.size(); i++) {
            s[i] = pts.get(i)[0];
            l[i] = pts.get(i)[1];
            double e = pts.get(i)[2];
            if (byEpoch.isEmpty() || byEpoch.get(byEpoch.size() - 1)[0] != e) {
                byEpoch.add(new double[]{e, 0, 0, 0});
            }
            double[] b = byEpoch.get(byEpoch.size() - 1);
            b[1] += l[i];
            b[2]++;
            b[3] = s[i];
        }
        double[] ep = new double[byEpoch.size()];
        double[] el = new double[byEpoch.size()];
        double[] end = new double[byEpoch.size()];
        for (int i = 0; i < ep.length; i++) {
            ep[i] = byEpoch.get(i)[0];
            el[i] = byEpoch.get(i)[1] / byEpoch.get(i)[2];
            end[i] = byEpoch.get(i)[3];
        }
        return new RunCurves(s, l, ep, el, end);
    }

    /**
     * The non-empty values of one column with their epochs, e.g. {@code dR_monitor}.
     *
     * @return {@code [2][k]}: epochs and values (k = 0 when the column is absent or always empty)
     * @throws IllegalArgumentException if the file is missing or has no rows
     */
    public static double[][] column(Path metricsCsv, String column) {
        List<Map<String, String>> rows = rows(metricsCsv);
        List<double[]> pts = new ArrayList<>();
        for (Map<String, String> r : rows) {
            String v = r.get(column);
            if (v != null && !v.isEmpty()) {
                pts.add(new double[]{parse(r.get("epoch")), parse(v)});
            }
        }
        double[][] out = new double[2][pts.size()];
        for (int i = 0; i < pts.size(); i++) {
            out[0][i] = pts.get(i)[0];
            out[1][i] = pts.get(i)[1];
        }
        return out;
    }

    private static List<Map<String, String>> rows(Path metricsCsv) {
        if (!Files.isRegularFile(metricsCsv)) {
            throw new IllegalArgumentException("no metrics log at " + metricsCsv + " (is this a run directory that "
                    + "has trained?)");
        }
        List<Map<String, String>> rows = MetricsLog.read(metricsCsv);
        if (rows.isEmpty()) {
            throw new IllegalArgumentException(metricsCsv + " has no rows yet");
        }
        return rows;
    }

    private static double parse(String s) {
        try {
            return Double.parseDouble(s);
        } catch (NumberFormatException | NullPointerException e) {
            return Double.NaN;
        }
    }
}
