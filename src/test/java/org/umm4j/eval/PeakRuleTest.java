package org.umm4j.eval;

import org.junit.jupiter.api.Test;
import org.umm4j.train.TrainingLoop.EpochDecision;

import static org.junit.jupiter.api.Assertions.*;

class PeakRuleTest {
    @Test
    void marksEachNewPeakAndStopsAfterPatienceEpochsWithoutOne() {
        PeakRule r = new PeakRule(2, 0.01);
        double[] curve = {1.0, 1.2, 1.205, 1.3, 1.25, 1.29, 1.1};
        EpochDecision[] want = {
                new EpochDecision(true, true, false),   // first value is the first peak
                new EpochDecision(true, true, false),   // 1.2 > 1.0 + 0.01
                new EpochDecision(false, false, false), // 1.205 is not above 1.2 + 0.01
                new EpochDecision(true, true, false),   // 1.3 new peak, counter reset
                new EpochDecision(false, false, false), // 1 epoch without a peak
                new EpochDecision(false, false, true),  // 2 epochs: stop
        };
        for (int e = 0; e < want.length; e++) {
            r.observe(e, curve[e]);
            assertEquals(want[e], r.decide(e), "epoch " + e);
        }
        assertEquals(3, r.bestEpoch());
        assertEquals(1.3, r.best());
    }

    @Test
    void withoutPatienceOrObservationItContinues() {
        PeakRule off = new PeakRule(0, 0);
        off.observe(0, 5);
        off.observe(1, 1);
        assertEquals(EpochDecision.CONTINUE, off.decide(1));
        PeakRule on = new PeakRule(1, 0);
        on.observe(0, 1);
        assertEquals(EpochDecision.CONTINUE, on.decide(1), "epoch 1 was never observed (non-finite loss)");
        assertThrows(IllegalArgumentException.class, () -> new PeakRule(-1, 0));
        assertThrows(IllegalArgumentException.class, () -> new PeakRule(1, Double.NaN));
    }
}
