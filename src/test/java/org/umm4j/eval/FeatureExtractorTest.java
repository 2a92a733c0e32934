package org.umm4j.eval;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.umm4j.backend.Umm4jBackend;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.SyntheticDataset;
import org.umm4j.data.augment.Normalize;
import org.umm4j.nn.Backbone;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.Taps;

import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class FeatureExtractorTest {
    private static final ImageDataset DATA = SyntheticDataset.generate(new SyntheticDataset.Config(3, 3, 16, 3, 4));
    private static Backbone net;

    @BeforeAll
    static void build() {
        Umm4jBackend.init();
        net = Backbone.create(ResNetConfig.builder().setDepth(18).setStem(org.umm4j.nn.Stem.CIFAR).setInput(3, 16, 16)
                .optWidthMultiplier(0.125).optSeed(2).build());
    }

    /** The input built by hand: v / 255, then (v - mean) / std per channel. */
    private static INDArray manualInput(int[] idx, Normalize nz) {
        int per = DATA.imageBytes();
        float[] x = new float[idx.length * per];
        for (int r = 0; r < idx.length; r++) {
            byte[] img = DATA.image(idx[r]);
            for (int p = 0; p < per; p++) {
                int c = p / (16 * 16);
                x[r * per + p] = ((img[p] & 0xFF) / 255f - nz.mean()[c]) / nz.std()[c];
            }
        }
        return Nd4j.create(x, new long[]{idx.length, 3, 16, 16}, 'c');
    }

    @Test
    void poolsFeatureMapsAndMatchesTheBackboneOnTheNormalisedInputForAnyBatchSize() {
        int[] idx = {7, 0, 4, 2, 8};
        Normalize nz = Normalize.cifar10();
        Map<String, INDArray> ref = net.features(manualInput(idx, nz), Taps.STAGE2, Taps.POOL);
        INDArray early = ref.get(Taps.STAGE2).mean(2, 3);
        for (int batch : new int[]{2, 128}) {
            Map<String, INDArray> f = new FeatureExtractor(net.graph(), nz, batch).extract(DATA, idx, Taps.STAGE2, Taps.POOL);
            assertArrayEquals(new long[]{5, net.tapShape(Taps.STAGE2)[0]}, f.get(Taps.STAGE2).shape());
            assertArrayEquals(new long[]{5, net.config().featureSize()}, f.get(Taps.POOL).shape());
            assertTrue(f.get(Taps.STAGE2).equalsWithEps(early, 1e-4), "batch " + batch);
            assertTrue(f.get(Taps.POOL).equalsWithEps(ref.get(Taps.POOL), 1e-4), "batch " + batch);
        }
        Map<String, INDArray> all = new FeatureExtractor(net.graph(), nz, 4).extract(DATA, Taps.POOL);
        assertEquals(DATA.size(), all.get(Taps.POOL).rows());
        assertTrue(all.get(Taps.POOL).getRow(7).equalsWithEps(ref.get(Taps.POOL).getRow(0), 1e-4));
    }

    @Test
    void foldedFeaturesEqualTheGraphsOwnWithTrainedBatchNormStatistics() {
        Backbone b = Backbone.create(ResNetConfig.builder().setDepth(18).setStem(org.umm4j.nn.Stem.CIFAR)
                .setInput(3, 16, 16).optWidthMultiplier(0.125).optSeed(3).build());
        int[] all = {0, 1, 2, 3, 4, 5, 6, 7, 8};
        FeatureExtractor fx = new FeatureExtractor(b.graph(), Normalize.cifar10(), 4);
        // running statistics away from (0, 1) and non-trivial gamma/beta, so that folding changes every weight
        INDArray x = fx.batch(DATA, all, 0, all.length);
        for (int i = 0; i < 4; i++) {
            b.output(x.mul(1 + 0.3 * i), true);
        }
        for (org.deeplearning4j.nn.api.Layer l : b.graph().getLayers()) {
            if (l.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.BatchNormalization) {
                l.getParam("gamma").muli(1.3);
                l.getParam("beta").addi(0.05);
            }
        }
        Map<String, INDArray> folded = fx.extract(DATA, all, Taps.STEM, Taps.STAGE3, Taps.POOL);
        Map<String, INDArray> plain;
        System.setProperty(org.umm4j.nn.InferenceGraph.FOLD_PROPERTY, "false");
        try {
            plain = fx.extract(DATA, all, Taps.STEM, Taps.STAGE3, Taps.POOL);
        } finally {
            System.clearProperty(org.umm4j.nn.InferenceGraph.FOLD_PROPERTY);
        }
        for (String t : new String[]{Taps.STEM, Taps.STAGE3, Taps.POOL}) {
            double scale = plain.get(t).amaxNumber().doubleValue();
            double diff = folded.get(t).sub(plain.get(t)).amaxNumber().doubleValue();
            assertTrue(diff <= 1e-5 * scale, t + ": max difference " + diff + " at scale " + scale);
        }
        assertTrue(folded.get(Taps.POOL).sub(plain.get(Taps.POOL)).amaxNumber().doubleValue() > 0
                || folded.get(Taps.POOL).equals(plain.get(Taps.POOL)));
    }

    @Test
    void normalisationFollowsTheRecipe() {
        assertArrayEquals(Normalize.cifar10().mean(), FeatureExtractor.normalizeFor("simclr-cifar", 3).mean());
        assertArrayEquals(Normalize.cifar10().std(), FeatureExtractor.normalizeFor(null, 3).std());
        assertArrayEquals(Normalize.imageNet().mean(), FeatureExtractor.normalizeFor("byol-imagenet", 3).mean());
        float[] half = new float[1];
        Arrays.fill(half, 0.5f);
        assertArrayEquals(half, FeatureExtractor.normalizeFor("simclr-cifar", 1).std());
        // the shared training/evaluation rule goes by the images: 32 px CIFAR, 96 px (STL-10) ImageNet, grey 0.5
        var cifar = org.umm4j.data.SyntheticDataset.generate(new org.umm4j.data.SyntheticDataset.Config(2, 1, 32, 3, 1));
        var stl = org.umm4j.data.SyntheticDataset.generate(new org.umm4j.data.SyntheticDataset.Config(2, 1, 96, 3, 1));
        var grey = org.umm4j.data.SyntheticDataset.generate(new org.umm4j.data.SyntheticDataset.Config(2, 1, 28, 1, 1));
        assertArrayEquals(Normalize.cifar10().mean(), FeatureExtractor.normalizeFor(cifar).mean());
        assertArrayEquals(Normalize.imageNet().mean(), FeatureExtractor.normalizeFor(stl).mean());
        assertArrayEquals(half, FeatureExtractor.normalizeFor(grey).std());
    }

    @Test
    void badInputIsRejectedWithTheReason() {
        FeatureExtractor fx = new FeatureExtractor(net.graph(), Normalize.cifar10(), 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> fx.extract(DATA, "stage9"));
        assertTrue(e.getMessage().contains("stage9"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> fx.extract(DATA, new int[]{99}, Taps.POOL));
        assertTrue(e.getMessage().contains("index 99"), e.getMessage());
        ImageDataset grey = SyntheticDataset.generate(new SyntheticDataset.Config(2, 2, 16, 1, 4));
        e = assertThrows(IllegalArgumentException.class, () -> fx.extract(grey, Taps.POOL));
        assertTrue(e.getMessage().contains("channels"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new FeatureExtractor(net.graph(), Normalize.cifar10(), 0));
    }
}
