package org.umm4j.report;

import org.umm4j.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A self-contained HTML page of headings, paragraphs, tables and images (PNG files next to it,
 * referenced by relative path), written atomically. Text is HTML-escaped.
 */
public final class HtmlReport {
    private final StringBuilder body = new StringBuilder();
    private final String title;

    /** Starts a report with a page title. */
    public HtmlReport(String title) {
        this.title = Objects.requireNonNull(title, "title");
    }

    /** Adds a section heading. */
    public HtmlReport heading(String text) {
        body.append("<h2>").append(escape(text)).append("</h2>\n");
        return this;
    }

    /** Adds a paragraph. */
    public HtmlReport paragraph(String text) {
        body.append("<p>").append(escape(text)).append("</p>\n");
        return this;
    }

    /** Adds a pre-formatted block (e.g. a command line). */
    public HtmlReport code(String text) {
        body.append("<pre>").append(escape(text)).append("</pre>\n");
        return this;
    }

    /** Adds a table. */
    public HtmlReport table(CsvTable t) {
        body.append("<table>\n<tr>");
        for (String h : t.header()) {
            body.append("<th>").append(escape(h)).append("</th>");
        }
        body.append("</tr>\n");
        for (List<String> r : t.rows()) {
            body.append("<tr>");
            for (String c : r) {
                body.append("<td>").append(escape(c)).append("</td>");
            }
            body.append("</tr>\n");
        }
        body.append("</table>\n");
        return this;
    }

    /** Adds an image by path relative to the page, with alt text. */
    public HtmlReport image(String relativePath, String alt) {
        body.append("<figure><img src=\"").append(escape(relativePath)).append("\" alt=\"").append(escape(alt))
                .append("\"><figcaption>").append(escape(alt)).append("</figcaption></figure>\n");
        return this;
    }

    /** @return the whole page */
    public String toHtml() {
        return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + escape(title)
                + "</title>\n<style>body{font-family:sans-serif;max-width:960px;margin:2em auto;}"
                + "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
                + "text-align:right}th{background:#eee}img{max-width:100%}pre{background:#f6f6f6;padding:8px}"
                + "</style></head>\n<body>\n<h1>" + escape(title) + "</h1>\n" + body
                + "<p><small>written by umm4j at " + Instant.now() + "</small></p>\n</body></html>\n";
    }

    /** Writes the page to {@code file} atomically. */
    public void write(Path file) throws IOException {
        AtomicFiles.writeString(file, toHtml());
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
