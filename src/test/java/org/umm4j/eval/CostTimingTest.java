package org.umm4j.eval;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.umm4j.crr.CodingRate;

import static org.junit.jupiter.api.Assertions.*;

class CostTimingTest {
    @Test
    void timesAllFourSignalsOnTheSameFeaturesAndReportsTheirValues() {
        int[] ytr = new int[40];
        int[] yte = new int[12];
        INDArray tr = CostTiming.randomFeatures(40, 6, 4, 0.1, 3, ytr);
        INDArray te = CostTiming.randomFeatures(12, 6, 4, 0.1, 3, yte);
        assertArrayEquals(new long[]{40, 6}, tr.shape());
        assertEquals(2, ytr[6]);
        CostTiming t = CostTiming.measure(tr, ytr, te, yte, 4, 5, 3, 1, 0, true);
        for (double s : new double[]{t.crrDenseSeconds(), t.crrTopKSeconds(), t.knnSeconds(), t.probeSeconds()}) {
            assertTrue(s > 0 && Double.isFinite(s), "seconds " + s);
        }
        // well-separated clusters (same means for train and test: same seed): both classifiers are perfect
        assertEquals(1.0, t.knnTop1());
        assertEquals(1.0, t.probeTop1());
        CodingRate cr = CodingRate.withDefaults();
        assertEquals(FeatureRates.instanceRateReduction(cr, tr, 0.5), t.crrDense(), 1e-9);
        assertEquals(FeatureRates.instanceRateReductionTopK(cr, tr, 0.5, 3), t.crrTopK(), 1e-9);
        assertEquals(t.probeSeconds() / t.crrTopKSeconds(), t.probeOverCrrTopK(), 1e-12);
        for (double s : new double[]{t.firstRun().crrDenseSeconds(), t.firstRun().crrTopKSeconds(),
                t.firstRun().knnSeconds(), t.firstRun().probeSeconds()}) {
            assertTrue(s > 0 && Double.isFinite(s), "first-run seconds " + s);
        }
        CostTiming noDense = CostTiming.measure(tr, ytr, te, yte, 4, 2, 3, 1, 0, false);
        assertTrue(Double.isNaN(noDense.crrDenseSeconds()) && Double.isNaN(noDense.crrDense())
                && Double.isNaN(noDense.firstRun().crrDenseSeconds()));
        assertThrows(IllegalArgumentException.class, () -> CostTiming.measure(tr, ytr, te, yte, 4, 2, 3, 0, 0, true));
        // CRR on a seeded subset of 10 rows: the value is that of exactly those rows
        CostTiming sub = CostTiming.measure(tr, ytr, te, yte, 4, 2, 3, 1, 5, false, 10);
        INDArray rows = tr.getRows(FeatureRates.subset(40, 10, 5));
        assertEquals(FeatureRates.instanceRateReductionTopK(cr, rows, 0.5, 3), sub.crrTopK(), 1e-9);
        assertNotEquals(t.crrTopK(), sub.crrTopK());
        assertThrows(IllegalArgumentException.class, () -> CostTiming.randomFeatures(3, 2, 2, 1, 0, new int[2]));
    }
}
