package org.umm4j.eval;

import org.umm4j.report.CsvTable;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * The layer-wise evaluation of a run: one {@link Row} per (checkpoint epoch, tap), with accuracies in [0, 1] and
 * rate reductions in nats, and the Pearson correlation between a dR curve and an accuracy curve of the same tap
 * over epochs (the UMM paper, arXiv 2410.00772, reports 0.92 to 0.98).
 *
 * <p>CSV layout ({@link #COLUMNS}, one row per epoch and tap, epochs increasing):
 * {@code epoch,tap,knn5_top1,knn200_top1,probe_top1,probe_top5,dR_label,dR_instance}.
 */
public final class LayerwiseResult {
    /** The CSV header. */
    public static final List<String> COLUMNS = List.of("epoch", "tap", "knn5_top1", "knn200_top1", "probe_top1",
            "probe_top5", "dR_label", "dR_instance");
    /** The accuracy columns. */
    public static final List<String> ACCURACIES = List.of("knn5_top1", "knn200_top1", "probe_top1", "probe_top5");
    /** The rate-reduction columns. */
    public static final List<String> RATE_REDUCTIONS = List.of("dR_label", "dR_instance");

    /**
     * One checkpoint at one tap.
     *
     * @param epoch      0-based epoch of the checkpoint
     * @param tap        the tap's vertex name
     * @param knn5       5-NN majority top-1 accuracy
     * @param knn200     weighted 200-NN (T = 0.1) top-1 accuracy
     * @param probeTop1  linear-probe top-1 accuracy
     * @param probeTop5  linear-probe top-5 accuracy
     * @param drLabel    dR with the label membership
     * @param drInstance dR with the label-free instance membership
     */
    public record Row(int epoch, String tap, double knn5, double knn200, double probeTop1, double probeTop5,
                      double drLabel, double drInstance) {
        /** Validates; errors name the field. */
        public Row {
            if (epoch < 0) {
                throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
            }
            Objects.requireNonNull(tap, "tap");
            if (tap.isEmpty() || tap.contains(",")) {
                throw new IllegalArgumentException("tap must be a non-empty name without commas, got '" + tap + "'");
            }
            double[] acc = {knn5, knn200, probeTop1, probeTop5};
            for (int i = 0; i < acc.length; i++) {
                if (!(acc[i] >= 0 && acc[i] <= 1)) {
                    throw new IllegalArgumentException(ACCURACIES.get(i) + " must be in [0, 1], got " + acc[i]);
                }
            }
            if (!Double.isFinite(drLabel) || !Double.isFinite(drInstance)) {
                throw new IllegalArgumentException("dR values must be finite, got " + drLabel + ", " + drInstance);
            }
        }

        /** @return the value of a named column (an accuracy or dR column) */
        public double value(String column) {
            return switch (column) {
                case "knn5_top1" -> knn5;
                case "knn200_top1" -> knn200;
                case "probe_top1" -> probeTop1;
                case "probe_top5" -> probeTop5;
                case "dR_label" -> drLabel;
                case "dR_instance" -> drInstance;
                default -> throw new IllegalArgumentException("unknown column '" + column + "'; numeric columns: "
                        + COLUMNS.subList(2, COLUMNS.size()));
            };
        }
    }

    private final List<Row> rows;

    /** @param rows the rows (copied); at least one */
    public LayerwiseResult(List<Row> rows) {
        if (Objects.requireNonNull(rows, "rows").isEmpty()) {
            throw new IllegalArgumentException("rows must not be empty");
        }
        this.rows = List.copyOf(rows);
    }

    public List<Row> rows() {
        return rows;
    }

    /** @return the taps in first-seen order */
    public List<String> taps() {
        LinkedHashSet<String> t = new LinkedHashSet<>();
        rows.forEach(r -> t.add(r.tap()));
        return List.copyOf(t);
    }

    /** @return the rows of one tap, by increasing epoch */
    public List<Row> rows(String tap) {
        List<Row> out = new ArrayList<>();
        for (Row r : rows) {
            if (r.tap().equals(tap)) {
                out.add(r);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no rows for tap '" + tap + "'; taps: " + taps());
        }
        out.sort((a, b) -> Integer.compare(a.epoch(), b.epoch()));
        return out;
    }

    /** @return the epochs of one tap as doubles (for plots) */
    public double[] epochs(String tap) {
        return rows(tap).stream().mapToDouble(Row::epoch).toArray();
    }

    /** @return one column of one tap, by increasing epoch */
    public double[] column(String tap, String column) {
        return rows(tap).stream().mapToDouble(r -> r.value(column)).toArray();
    }

    /**
     * Pearson's r between a dR column and an accuracy column of one tap over the checkpoints.
     *
     * @return r, or NaN with fewer than two checkpoints or a constant curve
     */
    public double pearson(String tap, String drColumn, String accuracyColumn) {
        double[] x = column(tap, drColumn);
        double[] y = column(tap, accuracyColumn);
        return x.length < 2 ? Double.NaN : Pearson.correlation(x, y);
    }

    /** @return a table {@code tap, dR, accuracy, pearson_r} over every tap, dR column and accuracy column */
    public CsvTable pearsonTable() {
        CsvTable t = new CsvTable(List.of("tap", "dR", "accuracy", "pearson_r"));
        for (String tap : taps()) {
            for (String dr : RATE_REDUCTIONS) {
                for (String acc : ACCURACIES) {
                    t.addRow(tap, dr, acc, pearson(tap, dr, acc));
                }
            }
        }
        return t;
    }

    /** @return the rows as a table with {@link #COLUMNS} */
    public CsvTable toTable() {
        CsvTable t = new CsvTable(COLUMNS);
        for (Row r : rows) {
            t.addRow(r.epoch(), r.tap(), r.knn5(), r.knn200(), r.probeTop1(), r.probeTop5(), r.drLabel(),
                    r.drInstance());
        }
        return t;
    }

    /** Writes the CSV atomically. */
    public void write(Path csv) throws IOException {
        toTable().write(csv);
    }

    /**
     * Reads a CSV written by {@link #write}.
     *
     * @throws IllegalArgumentException if the file's header is not {@link #COLUMNS} or a row is malformed (the
     *                                  message names the file and line)
     */
    public static LayerwiseResult read(Path csv) {
        List<String> lines;
        try {
            lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read layer-wise results " + csv, e);
        }
        if (lines.isEmpty() || !lines.get(0).equals(String.join(",", COLUMNS))) {
            throw new IllegalArgumentException(csv + " is not a layer-wise result: expected header "
                    + String.join(",", COLUMNS) + ", got " + (lines.isEmpty() ? "an empty file" : lines.get(0)));
        }
        List<Row> rows = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            String[] c = lines.get(i).split(",", -1);
            try {
                if (c.length != COLUMNS.size()) {
                    throw new IllegalArgumentException("has " + c.length + " cells, expected " + COLUMNS.size());
                }
                rows.add(new Row(Integer.parseInt(c[0]), c[1], Double.parseDouble(c[2]), Double.parseDouble(c[3]),
                        Double.parseDouble(c[4]), Double.parseDouble(c[5]), Double.parseDouble(c[6]),
                        Double.parseDouble(c[7])));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(csv + " line " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return new LayerwiseResult(rows);
    }
}
