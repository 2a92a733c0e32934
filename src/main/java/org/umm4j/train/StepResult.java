package org.umm4j.train;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a {@link StepFunction} reports: the training loss, the number of images the step processed (for
 * img/s; count each sample once even when it has several views) and extra named values for the metrics log
 * (loss parts, dR, ...), whose names must be among the run's extra columns.
 */
public record StepResult(double loss, int images, Map<String, Double> extras) {
    public StepResult {
        if (images < 0) {
            throw new IllegalArgumentException("images must be >= 0, got " + images);
        }
        extras = extras == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(extras));
    }

    public static StepResult of(double loss, int images) {
        return new StepResult(loss, images, Map.of());
    }

    /** @return a copy with one more extra value */
    public StepResult withExtra(String name, double value) {
        Map<String, Double> m = new LinkedHashMap<>(extras);
        m.put(name, value);
        return new StepResult(loss, images, m);
    }
}
