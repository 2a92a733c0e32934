package org.umm4j.nn;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class BackboneTest {

    @Test
    void featuresAtSeveralTapsComeFromOnePassAndMatchTheOutput() {
        Backbone b = Backbone.create(NnTestSupport.tiny(18, Stem.CIFAR, 0.125, 16, DataType.FLOAT));
        INDArray x = NnTestSupport.random(11, DataType.FLOAT, 3, 3, 16, 16);
        NnTestSupport.perturbBatchNorm(b.graph(), x, 5);
        Map<String, INDArray> f = b.features(x, Taps.POOL, Taps.EARLY_DEFAULT, Taps.INPUT);
        assertEquals(List.of(Taps.POOL, Taps.STAGE2, Taps.INPUT), List.copyOf(f.keySet()));
        assertEquals(b.output(x), f.get(Taps.POOL));
        assertSame(x, f.get(Taps.INPUT));
        // stopping at a tap gives the same value as a pass that runs on past it (no later layer overwrites a tap)
        Map<String, INDArray> all = b.features(x, Taps.ALL.toArray(String[]::new));
        for (String tap : Taps.SPLITTABLE) {
            assertEquals(all.get(tap), b.features(x, tap).get(tap), tap);
        }
        assertEquals(f.get(Taps.STAGE2), all.get(Taps.STAGE2));
        assertEquals(Taps.POOL, b.outputName());
        assertEquals(64, b.outputSize());
    }

    @Test
    void multiCropViewsOfAnotherSizeRunThroughTheSameGraph() {
        Backbone b = Backbone.create(NnTestSupport.tiny(18, Stem.CIFAR, 0.125, 16, DataType.FLOAT));
        assertArrayEquals(new long[]{2, 64}, b.output(NnTestSupport.random(1, DataType.FLOAT, 2, 3, 8, 8)).shape());
    }

    @Test
    void unknownTapAndWrongInputShapeGiveClearErrors() {
        Backbone b = Backbone.create(NnTestSupport.tiny(18, Stem.CIFAR, 0.125, 8, DataType.FLOAT));
        INDArray x = NnTestSupport.random(1, DataType.FLOAT, 2, 3, 8, 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.features(x, "stage5"));
        assertTrue(e.getMessage().contains("unknown tap 'stage5'") && e.getMessage().contains(Taps.STAGE4), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> b.features(x));
        assertThrows(IllegalArgumentException.class, () -> b.tapShape("nope"));
        e = assertThrows(IllegalArgumentException.class, () -> b.output(NnTestSupport.random(1, DataType.FLOAT, 2, 1, 8, 8)));
        assertTrue(e.getMessage().contains("[N, 3, H, W]") && e.getMessage().contains("[2, 1, 8, 8]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> b.output(NnTestSupport.random(1, DataType.FLOAT, 2, 192)));
        assertTrue(e.getMessage().contains("[2, 192]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> b.features(x, "s1b1_add"));
        assertTrue(e.getMessage().contains("in-place"), e.getMessage());
    }

    @Test
    void saveAndLoadRoundTripGivesIdenticalOutputs(@TempDir Path dir) throws IOException {
        ResNetConfig cfg = NnTestSupport.tiny(18, Stem.IMAGENET, 0.125, 32, DataType.FLOAT);
        MlpHeadConfig head = Heads.simclrProjector(cfg.featureSize()).scaled(1.0 / 64);
        Backbone b = Backbone.create(cfg).withHeads(head);
        INDArray x = NnTestSupport.random(2, DataType.FLOAT, 2, 3, 32, 32);
        NnTestSupport.perturbBatchNorm(b.graph(), x, 3);
        Path file = dir.resolve("sub/backbone.zip");
        b.save(file);
        b.save(file); // overwriting works too
        try (Stream<Path> s = Files.list(file.getParent())) {
            assertEquals(List.of(file), s.toList(), "no temporary file may be left behind");
        }
        Backbone r = Backbone.load(file);
        assertEquals(cfg, r.config());
        assertEquals(List.of(head), r.heads());
        assertEquals(b.graph().params(), r.graph().params());
        assertEquals(b.output(x), r.output(x));
        assertEquals(b.features(x, Taps.STAGE3).get(Taps.STAGE3), r.features(x, Taps.STAGE3).get(Taps.STAGE3));
        assertThrows(IOException.class, () -> Backbone.load(dir.resolve("missing.zip")));
        Path plain = dir.resolve("plain.zip");
        org.deeplearning4j.util.ModelSerializer.writeModel(b.graph(), plain.toFile(), false);
        IOException e = assertThrows(IOException.class, () -> Backbone.load(plain));
        assertTrue(e.getMessage().contains("not a umm4j backbone"), e.getMessage());
    }

    @Test
    void copyIsIndependent() {
        Backbone b = Backbone.create(NnTestSupport.tiny(18, Stem.CIFAR, 0.125, 8, DataType.FLOAT));
        INDArray x = NnTestSupport.random(3, DataType.FLOAT, 2, 3, 8, 8);
        Backbone c = b.copy();
        assertEquals(b.output(x), c.output(x));
        c.graph().params().muli(1.1);
        assertNotEquals(b.graph().params(), c.graph().params());
        assertEquals(b.config(), c.config());
    }
}
