package org.umm4j.spark;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.umm4j.data.augment.FloatImage;
import org.umm4j.data.augment.Recipe;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PairBatchFunctionTest {
    private static final int C = 3;
    private static final int S = 8;

    private static List<ImageRecord> records(int n) {
        List<ImageRecord> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] px = new byte[C * S * S];
            for (int j = 0; j < px.length; j++) {
                px[j] = (byte) ((31 * i + 7 * j) & 0xFF);
            }
            out.add(new ImageRecord(100 + i, px, i % 2));
        }
        return out;
    }

    @Test
    void stacksViewOneThenViewTwoAndDropsTheIncompleteGroup() throws Exception {
        RecipeFactory factory = RecipeFactory.simclr(S, C);
        Recipe recipe = factory.get();
        PairBatchFunction f = new PairBatchFunction(factory, C, S, S, 3, 9, 4);
        List<ImageRecord> in = records(7);   // 2 groups of 3, 1 left over
        Iterator<DataSet> it = f.call(in.iterator());
        List<DataSet> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        assertEquals(2, out.size());
        DataSet second = out.get(1);
        assertArrayEquals(new long[]{6, C, S, S}, second.getFeatures().shape());
        assertArrayEquals(new long[]{6, 1}, second.getLabels().shape());
        assertEquals(0.0, second.getLabels().sumNumber().doubleValue());
        for (int v = 0; v < 2; v++) {
            for (int i = 0; i < 3; i++) {
                ImageRecord r = in.get(3 + i);
                FloatImage expected = recipe.applyView(FloatImage.fromUint8(r.pixels(), 0, C, S, S), 9, 4, r.index(), v);
                float[] row = second.getFeatures().slice(v * 3L + i).dup().data().asFloat();
                assertArrayEquals(expected.data(), row, 0f, "row " + (v * 3 + i) + " is view " + v + " of image " + i);
            }
        }
        // the two views of an image differ (random crops/jitter), so the stacking is not a duplication
        assertTrue(second.getFeatures().slice(0).neq(second.getFeatures().slice(3)).any());
    }

    @Test
    void badInputIsNamed() {
        RecipeFactory factory = RecipeFactory.simclr(S, C);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PairBatchFunction(factory, C, S, S, 1, 0, 0));
        assertTrue(e.getMessage().contains("pairs"));
        PairBatchFunction f = new PairBatchFunction(factory, C, S, S, 2, 0, 0);
        List<ImageRecord> wrong = List.of(new ImageRecord(0, new byte[5], 0), new ImageRecord(1, new byte[5], 0));
        e = assertThrows(IllegalArgumentException.class, () -> f.call(wrong.iterator()));
        assertTrue(e.getMessage().contains("image 0 has 5 bytes"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ImageRecord(-1, new byte[1], 0));
        assertTrue(e.getMessage().contains("index"));
    }
}
