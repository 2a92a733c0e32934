package org.umm4j.cli;

import org.junit.jupiter.api.Test;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.Split;
import org.umm4j.data.Subsets;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class DatasetOptionsTest {
    @Test
    void longTailAndLimitsSurviveTheManifestAndShapeTheTrainingSplit() throws Exception {
        DatasetOptions o = DatasetOptions.of("synthetic", null, 1000, 200);
        o.longTail = 10;
        Map<String, Object> m = o.toManifest();
        DatasetOptions back = DatasetOptions.fromManifest(m);
        assertEquals(m, back.toManifest());
        ImageDataset train = back.load(Split.TRAIN, 3);
        int[] counts = Subsets.classCounts(train);
        assertEquals(100, counts[0], "the head class keeps the balanced count");
        assertEquals(10, counts[counts.length - 1], "the tail class has n_max / 10");
        for (int c = 1; c < counts.length; c++) {
            assertTrue(counts[c] <= counts[c - 1], "counts fall monotonically");
        }
        assertEquals(200, back.load(Split.TEST, 3).size(), "the test split stays balanced");
    }

    @Test
    void badValuesNameTheFlag() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DatasetOptions.of("imagenet", null, 0, 0));
        assertTrue(e.getMessage().contains("--dataset") && e.getMessage().contains("cifar10"));
        IllegalArgumentException d = assertThrows(IllegalArgumentException.class, () -> DatasetOptions.of("cifar10", null, 0, 0));
        assertTrue(d.getMessage().contains("--data-dir"));
        DatasetOptions o = DatasetOptions.of("synthetic", null, 0, 0);
        o.longTail = 0.5;
        assertThrows(IllegalArgumentException.class, o::validate);
    }
}
