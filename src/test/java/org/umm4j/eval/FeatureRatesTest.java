package org.umm4j.eval;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.umm4j.crr.CodingRate;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/** dR of L2-normalised features against float64 values of src/test/resources/org/umm4j/eval/feature_rates_reference.py. */
class FeatureRatesTest {
    private static final double[][] Z = {{1.0, 0.2, -0.5, 0.3}, {0.9, 0.1, -0.4, 0.0}, {-0.2, 1.1, 0.3, 0.5},
            {0.0, 0.8, 0.4, 0.7}, {0.5, -0.6, 1.2, 0.1}, {0.4, -0.5, 0.9, -0.2}, {1.3, 0.0, 0.0, 0.9},
            {-0.7, 0.3, -0.2, 1.0}};
    private static final int[] LABELS = {0, 0, 1, 1, 2, 2, 0, 1};

    private static INDArray z(double scale) {
        // FLOAT, as the evaluation uses; scaled rows must give the same dR (rows are normalised)
        return Nd4j.create(Z).muli(scale).castTo(DataType.FLOAT);
    }

    @Test
    void rateReductionsMatchNumpyReferenceAndIgnoreRowScale() {
        CodingRate cr = CodingRate.withDefaults();
        for (double scale : new double[]{1.0, 7.5}) {
            assertEquals(1.131515560802419, FeatureRates.labelRateReduction(cr, z(scale), LABELS, 3), 2e-5);
            assertEquals(0.247705746687783, FeatureRates.instanceRateReduction(cr, z(scale), 0.5), 2e-5);
            assertEquals(0.7860653093327947, FeatureRates.instanceRateReductionTopK(cr, z(scale), 0.5, 3), 2e-5);
        }
    }

    @Test
    void l2RowsGivesUnitRowsInFloat() {
        INDArray n = FeatureRates.l2Rows(z(3));
        assertEquals(DataType.FLOAT, n.dataType());
        for (int i = 0; i < Z.length; i++) {
            assertEquals(1.0, n.getRow(i).norm2Number().doubleValue(), 1e-6);
        }
        assertThrows(IllegalArgumentException.class, () -> FeatureRates.l2Rows(Nd4j.create(new double[]{Double.NaN, 1}, 1, 2)));
    }

    @Test
    void subsetIsSeededDistinctSortedAndBounded() {
        int[] a = FeatureRates.subset(100, 20, 3);
        assertArrayEquals(a, FeatureRates.subset(100, 20, 3));
        assertFalse(Arrays.equals(a, FeatureRates.subset(100, 20, 4)));
        assertEquals(20, Arrays.stream(a).distinct().count());
        int[] sorted = a.clone();
        Arrays.sort(sorted);
        assertArrayEquals(sorted, a);
        assertTrue(Arrays.stream(a).allMatch(i -> i >= 0 && i < 100));
        assertArrayEquals(new int[]{0, 1, 2, 3, 4}, FeatureRates.subset(5, 50, 1));
        assertThrows(IllegalArgumentException.class, () -> FeatureRates.subset(0, 3, 1));
    }

    @Test
    void labelMembershipRejectsMismatchedLabels() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FeatureRates.labelRateReduction(CodingRate.withDefaults(), z(1), new int[]{0, 1}, 3));
        assertTrue(e.getMessage().contains("labels"), e.getMessage());
    }
}
