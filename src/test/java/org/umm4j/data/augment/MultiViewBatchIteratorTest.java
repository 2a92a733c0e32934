package org.umm4j.data.augment;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.InMemoryImageDataset;

class MultiViewBatchIteratorTest {

    static InMemoryImageDataset dataset(int n, int size, long seed) {
        byte[] px = new byte[n * 3 * size * size];
        new SplittableRandom(seed).nextBytes(px);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 3;
        }
        return new InMemoryImageDataset("synthetic", 3, size, size, px, labels, List.of("a", "b", "c"));
    }

    private static List<MultiViewBatch> all(ImageDataset ds, Recipe r, int batch, long seed, long epoch, int workers,
                                            boolean shuffle, boolean dropLast) {
        List<MultiViewBatch> out = new ArrayList<>();
        try (MultiViewBatchIterator it = MultiViewBatchIterator.builder().setDataset(ds).setRecipe(r)
                .setBatchSize(batch).setSeed(seed).optEpoch(epoch).optWorkers(workers).optShuffle(shuffle)
                .optDropLast(dropLast).build()) {
            while (it.hasNext()) {
                out.add(it.next());
            }
        }
        return out;
    }

    @Test
    void shapesDtypesLabelsAndIndices() {
        InMemoryImageDataset ds = dataset(10, 12, 1);
        Recipe r = Recipes.swav("swav-test", 12, 6, 2, false, Normalize.cifar10());
        List<MultiViewBatch> batches = all(ds, r, 4, 7, 0, 2, false, false);
        assertEquals(3, batches.size());
        int[] sizes = {4, 4, 2};
        for (int b = 0; b < 3; b++) {
            MultiViewBatch mb = batches.get(b);
            assertEquals(b, mb.batchIndex());
            assertEquals(4, mb.numViews());
            for (int v = 0; v < 4; v++) {
                INDArray a = mb.view(v);
                assertEquals(DataType.FLOAT, a.dataType());
                int side = v < 2 ? 12 : 6;
                assertArrayEquals(new long[] {sizes[b], 3, side, side}, a.shape());
            }
            for (int i = 0; i < mb.size(); i++) {
                assertEquals(b * 4 + i, mb.indices()[i], "no shuffle keeps dataset order");
                assertEquals(ds.label(mb.indices()[i]), mb.labels()[i]);
            }
        }
        // The arrays hold exactly the recipe's views of the named samples.
        MultiViewBatch mb = batches.get(1);
        FloatImage src = FloatImage.fromUint8(ds.image(mb.indices()[2]), 0, 3, 12, 12);
        FloatImage ref = r.applyView(src, 7, 0, mb.indices()[2], 3);
        float[] row = mb.view(3).get(org.nd4j.linalg.indexing.NDArrayIndex.point(2)).dup().data().asFloat();
        assertArrayEquals(ref.data(), row);
    }

    @Test
    void dropLastAndShuffleCoverEverySampleOnce() {
        InMemoryImageDataset ds = dataset(11, 8, 2);
        Recipe r = Recipes.simclr("t", 8, 0.2, 0.5, 0, Normalize.cifar10());
        List<MultiViewBatch> dropped = all(ds, r, 4, 3, 0, 2, true, true);
        assertEquals(2, dropped.size());
        List<MultiViewBatch> kept = all(ds, r, 4, 3, 0, 2, true, false);
        assertEquals(3, kept.size());
        Set<Integer> seen = new HashSet<>();
        boolean inOrder = true;
        int pos = 0;
        for (MultiViewBatch b : kept) {
            for (int idx : b.indices()) {
                assertTrue(seen.add(idx), "index " + idx + " repeated");
                inOrder &= idx == pos++;
            }
        }
        assertEquals(11, seen.size());
        assertFalse(inOrder, "shuffled order differs from identity");
    }

    @Test
    void identicalBatchesForOneAndThreeWorkers() {
        InMemoryImageDataset ds = dataset(13, 16, 3);
        Recipe r = Recipes.byolCifar();
        List<MultiViewBatch> one = all(ds, r, 5, 11, 2, 1, true, false);
        List<MultiViewBatch> three = all(ds, r, 5, 11, 2, 3, true, false);
        assertEquals(one.size(), three.size());
        for (int b = 0; b < one.size(); b++) {
            assertArrayEquals(one.get(b).indices(), three.get(b).indices());
            assertArrayEquals(one.get(b).labels(), three.get(b).labels());
            for (int v = 0; v < 2; v++) {
                // exact equality (INDArray.equals would allow a tolerance)
                assertArrayEquals(one.get(b).view(v).data().asFloat(), three.get(b).view(v).data().asFloat(),
                        "batch " + b + " view " + v);
            }
        }
    }

    @Test
    void epochAndSeedChangeTheAugmentations() {
        InMemoryImageDataset ds = dataset(6, 16, 4);
        Recipe r = Recipes.simclrCifar();
        MultiViewBatch e0 = all(ds, r, 6, 5, 0, 2, false, false).get(0);
        MultiViewBatch e0again = all(ds, r, 6, 5, 0, 2, false, false).get(0);
        MultiViewBatch e1 = all(ds, r, 6, 5, 1, 2, false, false).get(0);
        MultiViewBatch s2 = all(ds, r, 6, 6, 0, 2, false, false).get(0);
        assertArrayEquals(e0.view(0).data().asFloat(), e0again.view(0).data().asFloat());
        assertArrayEquals(e0.indices(), e1.indices());
        assertNotEquals(e0.view(0), e1.view(0));
        assertNotEquals(e0.view(1), e1.view(1));
        assertNotEquals(e0.view(0), s2.view(0));
    }

    @Test
    void transformExceptionSurfacesInConsumerAndThreadsStop() throws Exception {
        InMemoryImageDataset ds = dataset(12, 8, 5);
        byte[] marker = ds.image(7);
        Transform failing = (img, rng) -> {
            if (Math.abs(img.get(0, 0, 0) - (marker[0] & 0xFF) / 255f) < 1e-7f
                    && Math.abs(img.get(2, 7, 7) - (marker[marker.length - 1] & 0xFF) / 255f) < 1e-7f) {
                throw new IllegalStateException("boom on the marked image");
            }
            return img;
        };
        Recipe r = new Recipe("failing", List.of(failing, failing));
        MultiViewBatchIterator it = MultiViewBatchIterator.builder().setDataset(ds).setRecipe(r).setBatchSize(4)
                .setSeed(1).optShuffle(false).optWorkers(3).build();
        String prefix = it.threadNamePrefix();
        MultiViewBatch first = it.next();
        assertEquals(0, first.indices()[0]);
        AugmentationException ex = assertThrows(AugmentationException.class, it::next);
        assertTrue(ex.getMessage().contains("sample 7"), ex.getMessage());
        assertTrue(ex.getMessage().contains("batch 1"), ex.getMessage());
        Throwable root = ex;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        assertInstanceOf(IllegalStateException.class, root);
        assertEquals("boom on the marked image", root.getMessage());
        assertFalse(it.hasNext(), "closed after a failure");
        assertThrows(java.util.NoSuchElementException.class, it::next);
        it.close(); // idempotent
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            assertFalse(t.getName().startsWith(prefix) && t.isAlive(), "worker " + t.getName() + " still alive");
        }
    }

    @Test
    void closeStopsWorkersEarly() {
        InMemoryImageDataset ds = dataset(40, 8, 6);
        MultiViewBatchIterator it = MultiViewBatchIterator.builder().setDataset(ds).setRecipe(Recipes.simclr("t", 8,
                0.2, 0.5, 0, Normalize.cifar10())).setBatchSize(4).setSeed(1).optWorkers(2).build();
        assertEquals(10, it.numBatches());
        it.next();
        it.close();
        assertFalse(it.hasNext());
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            assertFalse(t.getName().startsWith(it.threadNamePrefix()) && t.isAlive());
        }
    }

    @Test
    void builderRequiresSettings() {
        InMemoryImageDataset ds = dataset(2, 8, 1);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> MultiViewBatchIterator.builder().setDataset(ds).setBatchSize(2).setSeed(1).build());
        assertTrue(e.getMessage().contains("setRecipe"));
        assertThrows(IllegalStateException.class, () -> MultiViewBatchIterator.builder().setDataset(ds)
                .setRecipe(Recipes.simclrCifar()).setBatchSize(2).build());
        assertThrows(IllegalArgumentException.class, () -> MultiViewBatchIterator.builder().setBatchSize(0));
        // A recipe that cannot handle the dataset (3-channel constants on 1-channel images) fails at build time.
        InMemoryImageDataset mono = new InMemoryImageDataset("mono", 1, 8, 8, new byte[64], new int[] {0}, List.of("a"));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> MultiViewBatchIterator
                .builder().setDataset(mono).setRecipe(Recipes.simclrCifar()).setBatchSize(1).setSeed(1).build());
        assertTrue(bad.getMessage().contains("mono"), bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MultiViewBatchIterator.builder().optWorkers(0));
    }
}
