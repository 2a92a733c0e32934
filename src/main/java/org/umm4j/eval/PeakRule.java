package org.umm4j.eval;

import org.umm4j.train.TrainingLoop;

/**
 * Patience on the peak of a per-epoch signal (higher is better): a value above the best so far by more than
 * {@code minDelta} is a new peak (save and mark that epoch's checkpoint as best); {@code patience} epochs in a row
 * without a new peak stop the run. {@code patience = 0} never stops and never marks. Mutable, one per run.
 */
final class PeakRule {
    private final int patience;
    private final double minDelta;
    private double best = Double.NEGATIVE_INFINITY;
    private int bestEpoch = -1;
    private int sinceBest;
    private int lastEpoch = -1;

    PeakRule(int patience, double minDelta) {
        if (patience < 0) {
            throw new IllegalArgumentException("patience must be >= 0, got " + patience);
        }
        if (!(minDelta >= 0)) {
            throw new IllegalArgumentException("minDelta must be >= 0, got " + minDelta);
        }
        this.patience = patience;
        this.minDelta = minDelta;
    }

    /** Records the value of an epoch. */
    void observe(int epoch, double value) {
        lastEpoch = epoch;
        if (bestEpoch < 0 || value > best + minDelta) {
            best = value;
            bestEpoch = epoch;
            sinceBest = 0;
        } else {
            sinceBest++;
        }
    }

    /** @return the decision for {@code epoch}; CONTINUE if it was not observed (e.g. a non-finite last loss) */
    TrainingLoop.EpochDecision decide(int epoch) {
        if (patience == 0 || epoch != lastEpoch) {
            return TrainingLoop.EpochDecision.CONTINUE;
        }
        boolean isBest = epoch == bestEpoch;
        return new TrainingLoop.EpochDecision(isBest, isBest, sinceBest >= patience);
    }

    double best() {
        return best;
    }

    int bestEpoch() {
        return bestEpoch;
    }

    int sinceBest() {
        return sinceBest;
    }
}
