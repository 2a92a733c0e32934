package org.umm4j.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ReportTest {
    @TempDir
    Path dir;

    @Test
    void linePlotWritesAPngOfTheRequestedSizeWithDrawnSeries() throws Exception {
        Path png = dir.resolve("acc.png");
        LinePlot.builder().setTitle("k-NN accuracy").setXLabel("epoch").setYLabel("accuracy")
                .addSeries("last (r=0.95)", new double[]{1, 2, 3}, new double[]{0.2, 0.4, 0.35})
                .addSeries("early", new double[]{1, 2, 3}, new double[]{0.1, 0.2, 0.3})
                .optSize(640, 400).build().writePng(png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(640, img.getWidth());
        assertEquals(400, img.getHeight());
        // something other than the white background was drawn
        long nonWhite = 0;
        for (int y = 0; y < img.getHeight(); y += 2) {
            for (int x = 0; x < img.getWidth(); x += 2) {
                if ((img.getRGB(x, y) & 0xFFFFFF) != 0xFFFFFF) {
                    nonWhite++;
                }
            }
        }
        assertTrue(nonWhite > 500, "plot looks empty: " + nonWhite);
        try (var files = Files.list(dir)) {
            assertEquals(List.of(png), files.toList(), "no temporary files left behind");
        }
    }

    @Test
    void plotRejectsNaNAndMissingFields() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LinePlot.builder()
                .addSeries("dR", new double[]{1, 2}, new double[]{0.1, Double.NaN}));
        assertTrue(e.getMessage().contains("dR") && e.getMessage().contains("non-finite"));
        assertThrows(IllegalArgumentException.class, () -> LinePlot.builder()
                .addSeries("dR", new double[]{1, 2}, new double[]{0.1}));
        IllegalStateException s = assertThrows(IllegalStateException.class, () -> LinePlot.builder()
                .setXLabel("x").setYLabel("y").addSeries("a", new double[]{1}, new double[]{1}).build());
        assertTrue(s.getMessage().contains("setTitle"));
    }

    @Test
    void csvQuotesAndFormatsNumbers() throws Exception {
        CsvTable t = new CsvTable(List.of("method", "acc", "note"));
        t.addRow("simclr", 0.123456789, "a, \"b\"");
        assertEquals("method,acc,note\nsimclr,0.123457,\"a, \"\"b\"\"\"\n", t.toCsv());
        Path f = dir.resolve("t.csv");
        t.write(f);
        assertEquals(t.toCsv(), Files.readString(f));
        assertThrows(IllegalArgumentException.class, () -> t.addRow("x", 1.0));
    }

    @Test
    void htmlEscapesAndEmbedsTablesAndImages() {
        CsvTable t = new CsvTable(List.of("k")).addRow("<b>");
        String html = new HtmlReport("Run <1>").paragraph("a & b").table(t).image("acc.png", "accuracy").toHtml();
        assertTrue(html.contains("<h1>Run &lt;1&gt;</h1>"));
        assertTrue(html.contains("a &amp; b"));
        assertTrue(html.contains("<td>&lt;b&gt;</td>"));
        assertTrue(html.contains("<img src=\"acc.png\""));
    }
}
