package org.umm4j.train;

import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * A constant learning rate, {@code lr(t) = b}: the baseline of the UMM paper's schedule comparison. Exists (rather
 * than DL4J's {@code FixedSchedule}) so that all four umm4j schedules share construction and validation. Immutable.
 */
public final class ConstantSchedule implements ISchedule {
    private static final long serialVersionUID = 1L;

    private final double lr;

    /** @param lr the learning rate, &gt; 0 */
    @JsonCreator
    public ConstantSchedule(@JsonProperty("lr") double lr) {
        Checks.positive("lr", lr);
        this.lr = lr;
    }

    @Override
    public double valueAt(int iteration, int epoch) {
        return lr;
    }

    @Override
    public ISchedule clone() {
        return this;
    }

    @JsonProperty("lr")
    public double getLr() {
        return lr;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConstantSchedule s && s.lr == lr;
    }

    @Override
    public int hashCode() {
        return Double.hashCode(lr);
    }

    @Override
    public String toString() {
        return "ConstantSchedule(lr=" + lr + ")";
    }
}
