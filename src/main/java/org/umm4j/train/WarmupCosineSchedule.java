package org.umm4j.train;

import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Objects;

/**
 * Linear warm-up followed by cosine decay, by iteration (the schedule of SimCLR, BYOL, Barlow Twins and the
 * UMM paper's pretraining runs); with {@code warmupSteps = 0} it is plain cosine decay.
 *
 * <p>With base rate {@code b}, final rate {@code f}, warm-up length {@code W} and total length {@code T}
 * (iterations, counted from 0):
 * <pre>
 *   lr(t) = b (t + 1) / W                                          for 0 &lt;= t &lt; W
 *   lr(t) = f + (b - f) (1 + cos(pi (t - W) / (T - W))) / 2          for W &lt;= t &lt; T
 *   lr(t) = f                                                      for t &gt;= T
 * </pre>
 * The warm-up starts at {@code b / W} rather than 0 so that the first step already moves the weights, and
 * reaches {@code b} exactly at its last step ({@code t = W - 1}); the cosine part starts at {@code b} at
 * {@code t = W} and would reach {@code f} at {@code t = T}. The epoch argument of {@link #valueAt} is
 * ignored: DL4J passes the network's iteration count, which umm4j checkpoints restore, so a resumed run
 * continues on the same curve.
 *
 * <p>Immutable; serialised by DL4J's Jackson inside the updater that uses it.
 */
public final class WarmupCosineSchedule implements ISchedule {
    private static final long serialVersionUID = 1L;

    private final double baseLr;
    private final double finalLr;
    private final int warmupSteps;
    private final int totalSteps;

    /**
     * @param baseLr      peak learning rate {@code b}, &gt; 0
     * @param finalLr     learning rate at the end {@code f}, in [0, b]
     * @param warmupSteps warm-up iterations {@code W}, in [0, T)
     * @param totalSteps  total iterations {@code T}, &gt; 0
     */
    @JsonCreator
    public WarmupCosineSchedule(@JsonProperty("baseLr") double baseLr,
                                @JsonProperty("finalLr") double finalLr,
                                @JsonProperty("warmupSteps") int warmupSteps,
                                @JsonProperty("totalSteps") int totalSteps) {
        Checks.positive("baseLr", baseLr);
        if (!(finalLr >= 0 && finalLr <= baseLr)) {
            throw new IllegalArgumentException("finalLr must be in [0, baseLr=" + baseLr + "], got " + finalLr);
        }
        if (totalSteps <= 0) {
            throw new IllegalArgumentException("totalSteps must be > 0, got " + totalSteps);
        }
        if (warmupSteps < 0 || warmupSteps >= totalSteps) {
            throw new IllegalArgumentException("warmupSteps must be in [0, totalSteps=" + totalSteps + "), got "
                    + warmupSteps);
        }
        this.baseLr = baseLr;
        this.finalLr = finalLr;
        this.warmupSteps = warmupSteps;
        this.totalSteps = totalSteps;
    }

    /** Cosine decay from {@code baseLr} to {@code finalLr} over {@code totalSteps}, no warm-up. */
    public static WarmupCosineSchedule cosine(double baseLr, double finalLr, int totalSteps) {
        return new WarmupCosineSchedule(baseLr, finalLr, 0, totalSteps);
    }

    @Override
    public double valueAt(int iteration, int epoch) {
        if (iteration < 0) {
            throw new IllegalArgumentException("iteration must be >= 0, got " + iteration);
        }
        if (iteration < warmupSteps) {
            return baseLr * (iteration + 1) / warmupSteps;
        }
        if (iteration >= totalSteps) {
            return finalLr;
        }
        double progress = (double) (iteration - warmupSteps) / (totalSteps - warmupSteps);
        return finalLr + (baseLr - finalLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }

    @Override
    public ISchedule clone() {
        return this; // immutable
    }

    @JsonProperty("baseLr")
    public double getBaseLr() {
        return baseLr;
    }

    @JsonProperty("finalLr")
    public double getFinalLr() {
        return finalLr;
    }

    @JsonProperty("warmupSteps")
    public int getWarmupSteps() {
        return warmupSteps;
    }

    @JsonProperty("totalSteps")
    public int getTotalSteps() {
        return totalSteps;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WarmupCosineSchedule s && s.baseLr == baseLr && s.finalLr == finalLr
                && s.warmupSteps == warmupSteps && s.totalSteps == totalSteps;
    }

    @Override
    public int hashCode() {
        return Objects.hash(baseLr, finalLr, warmupSteps, totalSteps);
    }

    @Override
    public String toString() {
        return "WarmupCosineSchedule(baseLr=" + baseLr + ", finalLr=" + finalLr + ", warmupSteps=" + warmupSteps
                + ", totalSteps=" + totalSteps + ")";
    }
}
