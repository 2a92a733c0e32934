package org.umm4j.train;

/**
 * Thrown by {@link TrainingLoop} when a step returns a NaN or infinite loss. The run stops before any further
 * checkpoint, so {@code checkpoints/latest} still names the last good one.
 */
public final class NonFiniteLossException extends IllegalStateException {
    private static final long serialVersionUID = 1L;
    private final int epoch;
    private final int step;
    private final long globalStep;
    private final double loss;

    public NonFiniteLossException(int epoch, int step, long globalStep, double loss, String lastGood) {
        super("non-finite loss " + loss + " at epoch " + epoch + ", step " + step + " (global step " + globalStep
                + "); " + lastGood);
        this.epoch = epoch;
        this.step = step;
        this.globalStep = globalStep;
        this.loss = loss;
    }

    public int epoch() {
        return epoch;
    }

    public int step() {
        return step;
    }

    public long globalStep() {
        return globalStep;
    }

    public double loss() {
        return loss;
    }
}
