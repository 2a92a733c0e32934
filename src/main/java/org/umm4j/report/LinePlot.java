package org.umm4j.report;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.umm4j.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A line chart written as PNG with XChart (headless), e.g. accuracy and dR against epoch.
 *
 * <p>Built with {@link #builder()}: required {@code setTitle}, {@code setXLabel}, {@code setYLabel}
 * and at least one series; optional size. Series with non-finite values are rejected so a plot never
 * hides a NaN.
 */
public final class LinePlot {
    /** One named curve. */
    public record Series(String name, double[] x, double[] y) {
        /** Validates lengths and values; errors name the series. */
        public Series {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(x, "x");
            Objects.requireNonNull(y, "y");
            if (x.length != y.length || x.length == 0) {
                throw new IllegalArgumentException("series '" + name + "': x and y must be non-empty and of equal "
                        + "length, got " + x.length + " and " + y.length);
            }
            for (int i = 0; i < x.length; i++) {
                if (!Double.isFinite(x[i]) || !Double.isFinite(y[i])) {
                    throw new IllegalArgumentException("series '" + name + "': non-finite point " + i
                            + " (" + x[i] + ", " + y[i] + ")");
                }
            }
            x = x.clone();
            y = y.clone();
        }
    }

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final int width;
    private final int height;
    private final List<Series> series;

    private LinePlot(Builder b) {
        this.title = b.title;
        this.xLabel = b.xLabel;
        this.yLabel = b.yLabel;
        this.width = b.width;
        this.height = b.height;
        this.series = List.copyOf(b.series);
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the series, in insertion order */
    public List<Series> series() {
        return series;
    }

    /** Renders the chart to {@code png} (atomically). */
    public void writePng(Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(width).height(height).title(title)
                .xAxisTitle(xLabel).yAxisTitle(yLabel).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        for (Series s : series) {
            chart.addSeries(s.name(), s.x(), s.y()).setMarker(SeriesMarkers.CIRCLE);
        }
        byte[] bytes = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        AtomicFiles.writeBytes(png, bytes);
    }

    /** Builder: {@code setX} required, {@code optX} optional. */
    public static final class Builder {
        private String title;
        private String xLabel;
        private String yLabel;
        private int width = 800;
        private int height = 500;
        private final List<Series> series = new ArrayList<>();

        private Builder() {
        }

        public Builder setTitle(String t) {
            this.title = t;
            return this;
        }

        public Builder setXLabel(String l) {
            this.xLabel = l;
            return this;
        }

        public Builder setYLabel(String l) {
            this.yLabel = l;
            return this;
        }

        /** Adds a curve. */
        public Builder addSeries(String name, double[] x, double[] y) {
            series.add(new Series(name, x, y));
            return this;
        }

        /** Image size in pixels (default 800 x 500). */
        public Builder optSize(int w, int h) {
            if (w < 100 || h < 100) {
                throw new IllegalArgumentException("plot size must be at least 100 x 100, got " + w + " x " + h);
            }
            this.width = w;
            this.height = h;
            return this;
        }

        /** @return the plot; errors name the missing field */
        public LinePlot build() {
            if (title == null) {
                throw new IllegalStateException("LinePlot: setTitle is required");
            }
            if (xLabel == null || yLabel == null) {
                throw new IllegalStateException("LinePlot: setXLabel and setYLabel are required");
            }
            if (series.isEmpty()) {
                throw new IllegalStateException("LinePlot '" + title + "': at least one series is required");
            }
            return new LinePlot(this);
        }
    }
}
