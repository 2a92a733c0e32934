package org.umm4j.data;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class SubsetsTest {
    /** A 1x1 dataset with the given per-class counts; pixel = index mod 256 so images are traceable. */
    private static InMemoryImageDataset withCounts(int... counts) {
        int n = Arrays.stream(counts).sum();
        int[] labels = new int[n];
        byte[] px = new byte[n];
        int i = 0;
        // interleave classes so class members are not contiguous
        int[] left = counts.clone();
        while (i < n) {
            for (int c = 0; c < counts.length; c++) {
                if (left[c] > 0) {
                    left[c]--;
                    labels[i] = c;
                    px[i] = (byte) i;
                    i++;
                }
            }
        }
        String[] names = new String[counts.length];
        for (int c = 0; c < names.length; c++) {
            names[c] = "c" + c;
        }
        return new InMemoryImageDataset("toy", 1, 1, 1, px, labels, List.of(names));
    }

    @Test
    void balancedFractionTakesFloorPerClassAndIsSeeded() {
        InMemoryImageDataset d = withCounts(100, 57, 250);
        Subset s = Subsets.classBalancedFraction(d, 0.1, 3);
        // floor(0.1 * n_c): 10, 5, 25
        assertArrayEquals(new int[]{10, 5, 25}, Subsets.classCounts(s));
        assertArrayEquals(s.indices(), Subsets.classBalancedFraction(d, 0.1, 3).indices());
        assertFalse(Arrays.equals(s.indices(), Subsets.classBalancedFraction(d, 0.1, 4).indices()));
        int[] idx = s.indices();
        for (int i = 1; i < idx.length; i++) {
            assertTrue(idx[i] > idx[i - 1], "indices sorted and distinct");
        }
        for (int i = 0; i < s.size(); i++) {
            assertEquals(d.label(s.baseIndex(i)), s.label(i));
            assertEquals(s.baseIndex(i) & 0xFF, s.image(i)[0] & 0xFF);
        }
    }

    @Test
    void onePercentOfCifarSizedClasses() {
        InMemoryImageDataset d = withCounts(5000, 5000, 5000);
        assertArrayEquals(new int[]{50, 50, 50}, Subsets.classCounts(Subsets.classBalancedFraction(d, 0.01, 0)));
        assertArrayEquals(new int[]{500, 500, 500}, Subsets.classCounts(Subsets.classBalancedFraction(d, 0.1, 0)));
    }

    @Test
    void fractionLeavingAClassEmptyIsAnError() {
        InMemoryImageDataset d = withCounts(100, 57, 250);
        var e = assertThrows(IllegalArgumentException.class, () -> Subsets.classBalancedFraction(d, 0.01, 0));
        assertTrue(e.getMessage().contains("class 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Subsets.classBalancedFraction(d, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> Subsets.classBalancedFraction(d, 1.5, 0));
    }

    @Test
    void longTailCountsMatchCifar10LtFormula() {
        // python3: [int(5000*(1/100)**(c/9)) for c in range(10)]
        assertArrayEquals(new int[]{5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50},
                Subsets.longTailCounts(10, 5000, 100));
        // python3: [int(500*(1/10)**(c/4)) for c in range(5)]
        assertArrayEquals(new int[]{500, 281, 158, 88, 50}, Subsets.longTailCounts(5, 500, 10));
    }

    @Test
    void longTailedSubsetUsesSmallestClassAsHead() {
        InMemoryImageDataset d = withCounts(600, 520, 500, 700, 800);
        Subset s = Subsets.longTailed(d, 10, 9);
        assertArrayEquals(new int[]{500, 281, 158, 88, 50}, Subsets.classCounts(s));
        assertArrayEquals(s.indices(), Subsets.longTailed(d, 10, 9).indices());
        var e = assertThrows(IllegalArgumentException.class, () -> Subsets.longTailed(d, 700, 10, 9));
        assertTrue(e.getMessage().contains("class 0") && e.getMessage().contains("quota 700"), e.getMessage());
    }

    @Test
    void stratifiedSplitIsDisjointAndCovering() {
        InMemoryImageDataset d = withCounts(40, 30, 20);
        Subsets.TrainTest tt = Subsets.stratifiedSplit(d, 0.25, 5);
        assertArrayEquals(new int[]{10, 7, 5}, Subsets.classCounts(tt.test()));
        assertArrayEquals(new int[]{30, 23, 15}, Subsets.classCounts(tt.train()));
        Set<Integer> all = new HashSet<>();
        for (int i : tt.train().indices()) {
            assertTrue(all.add(i));
        }
        for (int i : tt.test().indices()) {
            assertTrue(all.add(i), "index " + i + " in both parts");
        }
        assertEquals(d.size(), all.size());
    }

    @Test
    void perClassAndSubsetValidation() {
        InMemoryImageDataset d = withCounts(5, 3);
        assertArrayEquals(new int[]{3, 3}, Subsets.classCounts(Subsets.perClass(d, 3, 0)));
        assertThrows(IllegalArgumentException.class, () -> Subsets.perClass(d, 4, 0));
        var e = assertThrows(IllegalArgumentException.class, () -> new Subset("s", d, new int[]{0, 8}));
        assertTrue(e.getMessage().contains("indices[1] = 8"), e.getMessage());
        InMemoryImageDataset unl = new InMemoryImageDataset("u", 1, 1, 1, new byte[2], new int[]{-1, -1}, List.of("a"));
        assertThrows(IllegalArgumentException.class, () -> Subsets.perClass(unl, 1, 0));
    }
}
