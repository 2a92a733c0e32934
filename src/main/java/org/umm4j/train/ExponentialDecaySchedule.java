package org.umm4j.train;

import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Objects;

/**
 * Exponential decay from a base to a final learning rate over a known number of iterations:
 * <pre>
 *   lr(t) = b (f / b)^(min(t, T) / T)        (equivalently b gamma^t with gamma = (f/b)^(1/T))
 * </pre>
 * so {@code lr(0) = b} and {@code lr(t) = f} for {@code t >= T}. Parameterising by the end value rather than a
 * per-step factor lets the UMM paper's schedule comparison use one {@code (base, final, T)} triple for every
 * schedule. By iteration; the epoch argument is ignored. Immutable.
 */
public final class ExponentialDecaySchedule implements ISchedule {
    private static final long serialVersionUID = 1L;

    private final double baseLr;
    private final double finalLr;
    private final int totalSteps;

    /**
     * @param baseLr     {@code b} &gt; 0
     * @param finalLr    {@code f}, in (0, b]
     * @param totalSteps {@code T} &gt; 0
     */
    @JsonCreator
    public ExponentialDecaySchedule(@JsonProperty("baseLr") double baseLr,
                                    @JsonProperty("finalLr") double finalLr,
                                    @JsonProperty("totalSteps") int totalSteps) {
        Checks.positive("baseLr", baseLr);
        if (!(finalLr > 0 && finalLr <= baseLr)) {
            throw new IllegalArgumentException("finalLr must be in (0, baseLr=" + baseLr + "] for exponential decay, got "
                    + finalLr);
        }
        if (totalSteps <= 0) {
            throw new IllegalArgumentException("totalSteps must be > 0, got " + totalSteps);
        }
        this.baseLr = baseLr;
        this.finalLr = finalLr;
        this.totalSteps = totalSteps;
    }

    @Override
    public double valueAt(int iteration, int epoch) {
        if (iteration < 0) {
            throw new IllegalArgumentException("iteration must be >= 0, got " + iteration);
        }
        double frac = Math.min(iteration, totalSteps) / (double) totalSteps;
        return baseLr * Math.pow(finalLr / baseLr, frac);
    }

    /** @return the per-iteration factor {@code gamma = (f/b)^(1/T)} */
    public double gamma() {
        return Math.pow(finalLr / baseLr, 1.0 / totalSteps);
    }

    @Override
    public ISchedule clone() {
        return this;
    }

    @JsonProperty("baseLr")
    public double getBaseLr() {
        return baseLr;
    }

    @JsonProperty("finalLr")
    public double getFinalLr() {
        return finalLr;
    }

    @JsonProperty("totalSteps")
    public int getTotalSteps() {
        return totalSteps;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ExponentialDecaySchedule s && s.baseLr == baseLr && s.finalLr == finalLr
                && s.totalSteps == totalSteps;
    }

    @Override
    public int hashCode() {
        return Objects.hash(baseLr, finalLr, totalSteps);
    }

    @Override
    public String toString() {
        return "ExponentialDecaySchedule(baseLr=" + baseLr + ", finalLr=" + finalLr + ", totalSteps=" + totalSteps + ")";
    }
}
