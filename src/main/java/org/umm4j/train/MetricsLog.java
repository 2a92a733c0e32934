package org.umm4j.train;

import org.umm4j.io.AtomicFiles;

import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The append-only training log {@code metrics.csv}: one row per training step with the columns
 * {@code epoch, step, loss, lr, img_per_s} followed by the run's extra named columns (loss parts, dR, ...).
 *
 * <p>{@code epoch} is 0-based; {@code step} is the global step count after the step (1 for the first step of a
 * run), the same number a {@link Checkpoint} records, so resuming from a checkpoint at step s keeps rows with
 * {@code step <= s} and drops the rest ({@link #openForResume}). The header is written once, when the file is
 * created; each row is flushed as it is written, so a crash loses at most the row being written (an incomplete
 * last line is dropped on resume). Numbers use {@link Double#toString} (locale-independent); a missing extra
 * value is an empty cell.
 */
public final class MetricsLog implements Closeable {
    /** the fixed leading columns */
    public static final List<String> BASE_COLUMNS = List.of("epoch", "step", "loss", "lr", "img_per_s");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.\\-]+");

    private final Path file;
    private final List<String> extraColumns;
    private final BufferedWriter out;

    private MetricsLog(Path file, List<String> extraColumns, BufferedWriter out) {
        this.file = file;
        this.extraColumns = extraColumns;
        this.out = out;
    }

    /**
     * Opens a log for appending, creating it with its header if absent.
     *
     * @throws IllegalStateException if the file exists with a different header
     */
    public static MetricsLog open(Path file, List<String> extraColumns) {
        List<String> extras = checkColumns(extraColumns);
        List<String> header = header(extras);
        try {
            if (!Files.exists(file)) {
                AtomicFiles.writeString(file, String.join(",", header) + "\n");
            } else {
                List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
                if (lines.isEmpty() || !lines.get(0).equals(String.join(",", header))) {
                    throw new IllegalStateException(file + " has header " + (lines.isEmpty() ? "<none>" : lines.get(0))
                            + " but this run logs " + String.join(",", header));
                }
                dropTornLastLine(file);
            }
            BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
            return new MetricsLog(file, extras, w);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open metrics log " + file, e);
        }
    }

    /**
     * Opens an existing log to continue a run resumed at global step {@code lastStep}: rows with a larger step are
     * removed (atomic rewrite), earlier rows are kept.
     */
    public static MetricsLog openForResume(Path file, List<String> extraColumns, long lastStep) {
        if (Files.exists(file)) {
            truncateAfter(file, lastStep);
        }
        return open(file, extraColumns);
    }

    /** Rewrites {@code file} atomically keeping the header and the complete rows with {@code step <= lastStep}. */
    public static void truncateAfter(Path file, long lastStep) {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            List<String> lines = completeLines(text);
            if (lines.isEmpty()) {
                return;
            }
            int stepCol = List.of(lines.get(0).split(",", -1)).indexOf("step");
            if (stepCol < 0) {
                throw new IllegalStateException(file + " has no 'step' column: " + lines.get(0));
            }
            StringBuilder sb = new StringBuilder(lines.get(0)).append('\n');
            for (int i = 1; i < lines.size(); i++) {
                String[] cells = lines.get(i).split(",", -1);
                if (cells.length > stepCol && Long.parseLong(cells[stepCol]) <= lastStep) {
                    sb.append(lines.get(i)).append('\n');
                }
            }
            AtomicFiles.writeString(file, sb.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot truncate " + file, e);
        }
    }

    /** Reads a log as rows of column name to cell text (header order). */
    public static List<Map<String, String>> read(Path file) {
        try {
            List<String> lines = completeLines(Files.readString(file, StandardCharsets.UTF_8));
            List<Map<String, String>> rows = new ArrayList<>();
            if (lines.isEmpty()) {
                return rows;
            }
            String[] head = lines.get(0).split(",", -1);
            for (int i = 1; i < lines.size(); i++) {
                String[] cells = lines.get(i).split(",", -1);
                Map<String, String> row = new LinkedHashMap<>();
                for (int c = 0; c < head.length; c++) {
                    row.put(head[c], c < cells.length ? cells[c] : "");
                }
                rows.add(row);
            }
            return rows;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /**
     * Appends one row and flushes it.
     *
     * @param extras values for some or all of the extra columns; a key that is not a column is an error
     */
    public void append(int epoch, long step, double loss, double lr, double imagesPerSecond, Map<String, Double> extras) {
        Map<String, Double> ex = extras == null ? Map.of() : extras;
        for (String k : ex.keySet()) {
            if (!extraColumns.contains(k)) {
                throw new IllegalArgumentException("extras key '" + k + "' is not a column of " + file
                        + "; columns: " + extraColumns);
            }
        }
        StringBuilder sb = new StringBuilder();
        sb.append(epoch).append(',').append(step).append(',').append(loss).append(',').append(lr).append(',')
                .append(imagesPerSecond);
        for (String c : extraColumns) {
            Double v = ex.get(c);
            sb.append(',');
            if (v != null) {
                sb.append(v.doubleValue());
            }
        }
        try {
            out.write(sb.append('\n').toString());
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + file, e);
        }
    }

    /** @return the extra column names, in order */
    public List<String> extraColumns() {
        return extraColumns;
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close " + file, e);
        }
    }

    private static List<String> header(List<String> extras) {
        List<String> h = new ArrayList<>(BASE_COLUMNS);
        h.addAll(extras);
        return h;
    }

    private static List<String> checkColumns(List<String> extraColumns) {
        List<String> extras = extraColumns == null ? List.of() : List.copyOf(extraColumns);
        for (String c : extras) {
            if (!NAME.matcher(c).matches() || BASE_COLUMNS.contains(c)) {
                throw new IllegalArgumentException("extraColumns: '" + c + "' must match [A-Za-z0-9_.-]+ and not be one of "
                        + BASE_COLUMNS);
            }
        }
        if (extras.stream().distinct().count() != extras.size()) {
            throw new IllegalArgumentException("extraColumns has duplicates: " + extras);
        }
        return Collections.unmodifiableList(extras);
    }

    private static List<String> completeLines(String text) {
        List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
        // the last element is "" after a final newline, or a torn row without one: drop it either way
        lines.remove(lines.size() - 1);
        return lines;
    }

    private static void dropTornLastLine(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        if (!text.isEmpty() && !text.endsWith("\n")) {
            AtomicFiles.writeString(file, text.substring(0, text.lastIndexOf('\n') + 1));
        }
    }
}
