package org.umm4j.report;

import org.umm4j.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A small table of named columns, written as RFC 4180 CSV (atomically) and rendered into HTML reports.
 * Numbers are formatted with {@link Locale#ROOT} so files read the same everywhere.
 */
public final class CsvTable {
    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();

    /** Creates an empty table with the given column names. */
    public CsvTable(List<String> header) {
        if (Objects.requireNonNull(header, "header").isEmpty()) {
            throw new IllegalArgumentException("header must name at least one column");
        }
        this.header = List.copyOf(header);
    }

    /** Appends a row; numbers are formatted, other values use {@code toString()}. */
    public CsvTable addRow(Object... cells) {
        if (cells.length != header.size()) {
            throw new IllegalArgumentException("row has " + cells.length + " cells, expected " + header.size()
                    + " for columns " + header);
        }
        List<String> row = new ArrayList<>(cells.length);
        for (Object c : cells) {
            row.add(format(c));
        }
        rows.add(row);
        return this;
    }

    /** @return the column names */
    public List<String> header() {
        return header;
    }

    /** @return the rows as formatted strings */
    public List<List<String>> rows() {
        return List.copyOf(rows);
    }

    static String format(Object c) {
        if (c instanceof Double d) {
            return String.format(Locale.ROOT, "%.6g", d);
        }
        if (c instanceof Float f) {
            return String.format(Locale.ROOT, "%.6g", f.doubleValue());
        }
        return String.valueOf(c);
    }

    /** @return the CSV text (header line first, {@code \n} line ends) */
    public String toCsv() {
        StringBuilder sb = new StringBuilder();
        appendLine(sb, header);
        for (List<String> r : rows) {
            appendLine(sb, r);
        }
        return sb.toString();
    }

    private static void appendLine(StringBuilder sb, List<String> cells) {
        for (int i = 0; i < cells.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            String c = cells.get(i);
            if (c.contains(",") || c.contains("\"") || c.contains("\n")) {
                sb.append('"').append(c.replace("\"", "\"\"")).append('"');
            } else {
                sb.append(c);
            }
        }
        sb.append('\n');
    }

    /** Writes the CSV to {@code file} atomically. */
    public void write(Path file) throws IOException {
        AtomicFiles.writeString(file, toCsv());
    }
}
