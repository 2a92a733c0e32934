package org.umm4j.export;

import org.deeplearning4j.nn.api.Layer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Sgd;
import org.umm4j.nn.Backbone;
import org.umm4j.nn.Heads;
import org.umm4j.nn.MlpHeadConfig;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.Stem;
import org.umm4j.nn.Taps;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class TorchStateDictTest {

    private static Map<String, long[]> shapes(Map<String, NpyArray> sd) {
        Map<String, long[]> out = new LinkedHashMap<>();
        sd.forEach((k, v) -> out.put(k, v.shape()));
        return out;
    }

    private static void assertSameKeysAndShapes(Map<String, long[]> expected, Map<String, long[]> actual) {
        assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(actual.keySet()), "keys in state-dict order");
        expected.forEach((k, s) -> assertArrayEquals(s, actual.get(k), k));
    }

    /** Fixture shapes at another width: every channel count (a multiple of 64 at width 1) scales, kernels and the 3 input channels do not. */
    private static Map<String, long[]> scaled(Map<String, long[]> fixture, double width, boolean cifarStem) {
        Map<String, long[]> out = new LinkedHashMap<>();
        fixture.forEach((k, s) -> {
            long[] t = Arrays.stream(s).map(d -> d % 64 == 0 ? Math.round(d * width) : d).toArray();
            if (cifarStem && k.equals("conv1.weight")) {
                t[2] = 3;
                t[3] = 3;
            }
            out.put(k, t);
        });
        return out;
    }

    @Test
    void fixturesHoldTorchvisionTotalsWithoutFc() throws IOException {
        for (var c : List.of(new Object[]{"resnet18-state-dict.txt", 11_176_512L, 120},
                new Object[]{"resnet50-state-dict.txt", 23_508_032L, 318})) {
            Map<String, long[]> f = ExportTestSupport.fixture((String) c[0]);
            long n = f.entrySet().stream().filter(e -> e.getKey().endsWith(".weight") || e.getKey().endsWith(".bias"))
                    .mapToLong(e -> Arrays.stream(e.getValue()).reduce(1, (a, b) -> a * b)).sum();
            assertEquals(c[1], n, (String) c[0]);
            assertEquals(c[2], f.size(), (String) c[0]);
            assertTrue(f.keySet().stream().noneMatch(k -> k.startsWith("fc.")));
        }
    }

    @Test
    void imagenetResNet18AtWidthOneHasExactlyTorchvisionsKeysAndShapes(@TempDir Path dir) throws IOException {
        Backbone b = Backbone.create(ExportTestSupport.config(18, Stem.IMAGENET, 1.0, 224, 1));
        Path file = dir.resolve("r18.npz");
        List<String> written = TorchStateDict.write(b, file, true);
        Map<String, NpyArray> sd = Npz.read(file);
        assertEquals(written, new ArrayList<>(sd.keySet()));
        assertSameKeysAndShapes(ExportTestSupport.fixture("resnet18-state-dict.txt"), shapes(sd));
        assertEquals(11_176_512L, TorchStateDict.trainableCount(sd));
        assertEquals(b.trainableParameterCount(), TorchStateDict.trainableCount(sd));
        sd.forEach((k, v) -> assertEquals(k.endsWith(TorchStateDict.NUM_BATCHES_TRACKED) ? NpyArray.DType.INT64
                : NpyArray.DType.FLOAT32, v.dtype(), k));
        assertEquals(0L, sd.get("bn1.num_batches_tracked").toLongs()[0]);
        // fresh BN: running_var = (10^0)^2 = 1
        for (float v : sd.get("layer4.1.bn2.running_var").toFloats()) {
            assertEquals(1f, v);
        }
    }

    @Test
    void imagenetResNet50AtWidthOneHasExactlyTorchvisionsKeysAndShapes() throws IOException {
        Backbone b = Backbone.create(ExportTestSupport.config(50, Stem.IMAGENET, 1.0, 224, 1));
        Map<String, NpyArray> sd = TorchStateDict.of(b, true);
        assertSameKeysAndShapes(ExportTestSupport.fixture("resnet50-state-dict.txt"), shapes(sd));
        assertEquals(23_508_032L, TorchStateDict.trainableCount(sd));
    }

    @Test
    void narrowCifarStemNetworksKeepTheKeysWithScaledShapes() throws IOException {
        for (int depth : new int[]{18, 50}) {
            Backbone b = Backbone.create(ExportTestSupport.config(depth, Stem.CIFAR, 0.0625, 8, 2));
            Map<String, long[]> expected = scaled(ExportTestSupport.fixture("resnet" + depth + "-state-dict.txt"), 0.0625, true);
            Map<String, long[]> actual = shapes(TorchStateDict.of(b, false));
            assertSameKeysAndShapes(expected, actual);
            assertArrayEquals(new long[]{4, 3, 3, 3}, actual.get("conv1.weight"));
        }
    }

    @Test
    void convolutionWeightsAreCopiedInOutInKhKwOrderAndLinearWeightsTransposed() {
        MlpHeadConfig head = MlpHeadConfig.builder().setName("projector").setInputSize(32).optHiddenSizes(6)
                .setOutputSize(5).build();
        Backbone b = Backbone.create(ExportTestSupport.config(18, Stem.IMAGENET, 0.0625, 16, 3), new Sgd(0.1), head);
        Map<String, NpyArray> sd = TorchStateDict.of(b, true);
        INDArray w = b.graph().getLayer("stem_conv").getParam("W");
        assertArrayEquals(new long[]{4, 3, 7, 7}, w.shape());
        float[] t = sd.get("conv1.weight").toFloats();
        // element [o, i, y, x] sits at ((o*3 + i)*7 + y)*7 + x
        assertEquals(w.getFloat(3, 2, 6, 1), t[((3 * 3 + 2) * 7 + 6) * 7 + 1]);
        assertEquals(w.getFloat(1, 0, 2, 5), t[((3 + 0) * 7 + 2) * 7 + 5]);
        INDArray d = b.graph().getLayer("projector_fc1").getParam("W");
        assertArrayEquals(new long[]{32, 6}, d.shape(), "DL4J dense weights are [in, out]");
        NpyArray fc1 = sd.get("projector.fc1.weight");
        assertArrayEquals(new long[]{6, 32}, fc1.shape());
        assertEquals(d.getFloat(17, 4), fc1.toFloats()[4 * 32 + 17]);
        assertNull(sd.get("projector.fc1.bias"), "a Linear followed by BN has no bias");
        assertArrayEquals(new long[]{5, 6}, sd.get("projector.fc2.weight").shape());
        assertArrayEquals(new long[]{5}, sd.get("projector.fc2.bias").shape());
        assertArrayEquals(new long[]{6}, sd.get("projector.bn1.running_var").shape());
        List<String> keys = new ArrayList<>(sd.keySet());
        assertEquals("projector.fc1.weight", keys.get(keys.size() - 8), "heads come after the backbone, in forward order");
        assertFalse(TorchStateDict.of(b, false).keySet().stream().anyMatch(k -> k.startsWith("projector")));
    }

    @Test
    void headsWithFinalBatchNormAndChainedHeadsGetConsistentNames() {
        ResNetConfig cfg = ExportTestSupport.config(18, Stem.CIFAR, 0.0625, 8, 4);
        MlpHeadConfig proj = Heads.simsiamProjector(cfg.featureSize()).scaled(1.0 / 256);
        MlpHeadConfig pred = Heads.simsiamPredictor().scaled(1.0 / 256).withInputSize(proj.outputSize());
        Backbone b = Backbone.create(cfg, new Sgd(0.1), proj, pred);
        Map<String, String> names = TorchStateDict.moduleNames(b.graph());
        assertEquals("projector.fc3", names.get("projector_fc3"));
        assertEquals("projector.bn3", names.get("projector"), "final non-affine BN follows fc3");
        assertEquals("predictor.fc2", names.get("predictor"));
        Map<String, NpyArray> sd = TorchStateDict.of(b, true);
        assertNull(sd.get("projector.bn3.weight"), "affine=False: no weight/bias");
        assertNotNull(sd.get("projector.bn3.running_var"));
        List<String> keys = new ArrayList<>(sd.keySet());
        assertTrue(keys.indexOf("projector.bn3.running_mean") < keys.indexOf("predictor.fc1.weight"));
        assertFalse(names.containsKey("s1b1_proj_conv"), "ResNet-18 stage 1 has no projection shortcut");
        assertEquals("layer2.0.downsample.1", names.get("s2b1_proj_bn"));
    }

    @Test
    void roundTripIsExactForBothDepthsAndStems(@TempDir Path dir) throws IOException {
        MlpHeadConfig head = MlpHeadConfig.builder().setName("projector").setInputSize(1).optHiddenSizes(8)
                .setOutputSize(4).build();
        int i = 0;
        for (Object[] c : new Object[][]{{18, Stem.CIFAR, 8}, {50, Stem.IMAGENET, 32}}) {
            ResNetConfig cfg = ExportTestSupport.config((int) c[0], (Stem) c[1], 0.0625, (int) c[2], 10 + i);
            MlpHeadConfig h = head.withInputSize(cfg.featureSize());
            Backbone src = Backbone.create(cfg, new Sgd(0.1), h);
            ExportTestSupport.perturbBatchNorm(src.graph(), 100 + i);
            Path file = dir.resolve("rt" + i + ".npz");
            TorchStateDict.write(src, file, true);

            ResNetConfig other = ExportTestSupport.config((int) c[0], (Stem) c[1], 0.0625, (int) c[2], 999);
            Backbone dst = Backbone.create(other, new Sgd(0.1), h);
            assertNotEquals(src.graph().params(), dst.graph().params());
            TorchStateDict.ImportReport r = TorchStateDict.load(dst, file);
            assertTrue(r.ignored().stream().allMatch(k -> k.endsWith(".num_batches_tracked")), r.ignored().toString());

            int logStd = 0;
            for (Layer l : src.graph().getLayers()) {
                for (Map.Entry<String, INDArray> e : l.paramTable().entrySet()) {
                    INDArray a = e.getValue();
                    INDArray b = dst.graph().getLayer(l.conf().getLayer().getLayerName()).getParam(e.getKey());
                    if (e.getKey().equals("log10stdev")) {
                        logStd++;
                        assertEquals(BnVariance.variance(a), BnVariance.variance(b), "effective variance bit for bit");
                        assertEquals(0, a.sub(b).amaxNumber().doubleValue(), 1e-6);
                    } else {
                        assertEquals(a, b, l.conf().getLayer().getLayerName() + "_" + e.getKey());
                    }
                }
            }
            assertTrue(logStd > 0);
            INDArray x = ExportTestSupport.random(7 + i, 2, 3, (int) c[2], (int) c[2]);
            assertEquals(src.output(x), dst.output(x), "identical outputs (bitwise equal INDArrays)");
            assertEquals(src.features(x, Taps.POOL).get(Taps.POOL), dst.features(x, Taps.POOL).get(Taps.POOL));
            // the file written back from the imported graph is byte-identical to the first export
            Path again = dir.resolve("again" + i + ".npz");
            TorchStateDict.write(dst, again, true);
            assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(again));
            i++;
        }
    }

    @Test
    void exportsWithoutHeadsLoadIntoAHeadlessBackboneAndIgnoreExtraKeys(@TempDir Path dir) throws IOException {
        ResNetConfig cfg = ExportTestSupport.config(18, Stem.CIFAR, 0.0625, 8, 5);
        MlpHeadConfig h = MlpHeadConfig.builder().setName("projector").setInputSize(cfg.featureSize()).setOutputSize(3).build();
        Backbone src = Backbone.create(cfg, new Sgd(0.1), h);
        Path file = dir.resolve("h.npz");
        TorchStateDict.write(src, file, true);
        Backbone bare = Backbone.create(ExportTestSupport.config(18, Stem.CIFAR, 0.0625, 8, 6));
        TorchStateDict.ImportReport r = TorchStateDict.load(bare, file);
        assertTrue(r.ignored().containsAll(List.of("projector.fc1.weight", "projector.fc1.bias")), r.ignored().toString());
        assertEquals(TorchStateDict.of(bare, false).size() - 20, r.loaded().size(),
                "every key but the 20 num_batches_tracked is loaded");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TorchStateDict.load(bare.graph(), Npz.read(file), true));
        assertTrue(e.getMessage().contains("unexpected key 'projector.fc1.weight'"), e.getMessage());
        // a head-less export cannot fill a graph that has a head
        Path noHeads = dir.resolve("nh.npz");
        TorchStateDict.write(src, noHeads, false);
        e = assertThrows(IllegalArgumentException.class, () -> TorchStateDict.load(src, noHeads));
        assertTrue(e.getMessage().contains("missing key 'projector.fc1.weight' (shape [3, 32])"), e.getMessage());
    }

    @Test
    void missingKeysAndShapeMismatchesAreNamedAndLeaveTheGraphUnchanged(@TempDir Path dir) throws IOException {
        Backbone src = Backbone.create(ExportTestSupport.config(18, Stem.CIFAR, 0.0625, 8, 7));
        Map<String, NpyArray> sd = new LinkedHashMap<>(TorchStateDict.of(src, true));
        Backbone dst = Backbone.create(ExportTestSupport.config(18, Stem.CIFAR, 0.0625, 8, 8));
        INDArray before = dst.graph().params().dup();

        Map<String, NpyArray> missing = new LinkedHashMap<>(sd);
        missing.remove("layer3.1.bn2.running_var");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TorchStateDict.load(dst.graph(), missing, false));
        assertEquals("missing key 'layer3.1.bn2.running_var' (shape [16]) in the state dict", e.getMessage());

        Map<String, NpyArray> wrong = new LinkedHashMap<>(sd);
        wrong.put("layer2.0.conv1.weight", NpyArray.ofFloats(new long[]{8, 4, 1, 3}, new float[96]));
        e = assertThrows(IllegalArgumentException.class, () -> TorchStateDict.load(dst.graph(), wrong, false));
        assertEquals("shape mismatch for 'layer2.0.conv1.weight': the file has [8, 4, 1, 3], the graph needs [8, 4, 3, 3]",
                e.getMessage());

        // a wider network's file does not fit
        Path wide = dir.resolve("wide.npz");
        TorchStateDict.write(Backbone.create(ExportTestSupport.config(18, Stem.CIFAR, 0.125, 8, 7)), wide, true);
        e = assertThrows(IllegalArgumentException.class, () -> TorchStateDict.load(dst, wide));
        assertEquals("shape mismatch for 'conv1.weight': the file has [8, 3, 3, 3], the graph needs [4, 3, 3, 3]",
                e.getMessage());

        Map<String, NpyArray> negative = new LinkedHashMap<>(sd);
        float[] v = negative.get("bn1.running_var").toFloats();
        v[2] = -1f;
        negative.put("bn1.running_var", NpyArray.ofFloats(new long[]{4}, v));
        e = assertThrows(IllegalArgumentException.class, () -> TorchStateDict.load(dst.graph(), negative, false));
        assertTrue(e.getMessage().contains("bn1.running_var[2] must be a finite variance >= 0, got -1.0"), e.getMessage());

        Map<String, NpyArray> ints = new LinkedHashMap<>(sd);
        ints.put("bn1.weight", NpyArray.ofLongs(new long[]{4}, new long[4]));
        e = assertThrows(IllegalArgumentException.class, () -> TorchStateDict.load(dst.graph(), ints, false));
        assertTrue(e.getMessage().contains("'bn1.weight' has element type <i8"), e.getMessage());

        assertEquals(before, dst.graph().params(), "failed imports write nothing");
    }

    @Test
    void truncatedAndNonNpzFilesGiveClearErrors(@TempDir Path dir) throws IOException {
        Backbone b = Backbone.create(ExportTestSupport.config(18, Stem.CIFAR, 0.0625, 8, 9));
        Path good = dir.resolve("good.npz");
        TorchStateDict.write(b, good, true);
        byte[] bytes = Files.readAllBytes(good);

        Path truncated = dir.resolve("truncated.npz");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length / 2));
        NpzFormatException e = assertThrows(NpzFormatException.class, () -> TorchStateDict.load(b, truncated));
        assertTrue(e.getMessage().contains(truncated.toString()) && e.getMessage().contains("not a readable .npz"),
                e.getMessage());

        Path text = dir.resolve("text.npz");
        Files.writeString(text, "not a zip file at all\n");
        e = assertThrows(NpzFormatException.class, () -> TorchStateDict.load(b, text));
        assertTrue(e.getMessage().contains(text.toString()), e.getMessage());

        Path model = dir.resolve("model.zip");
        b.save(model);
        e = assertThrows(NpzFormatException.class, () -> TorchStateDict.load(b, model));
        assertTrue(e.getMessage().contains("is not a .npz archive: entry"), e.getMessage());

        // a flipped byte inside a stored entry fails the CRC check
        byte[] corrupt = bytes.clone();
        corrupt[200] ^= 0x40;
        Path crc = dir.resolve("crc.npz");
        Files.write(crc, corrupt);
        e = assertThrows(NpzFormatException.class, () -> TorchStateDict.load(b, crc));
        assertTrue(e.getMessage().contains("CRC") || e.getMessage().contains("npy"), e.getMessage());

        assertThrows(java.nio.file.NoSuchFileException.class, () -> TorchStateDict.load(b, dir.resolve("absent.npz")));
    }

    @Test
    void writeIsAtomicAndLeavesNoTemporaryFiles(@TempDir Path dir) throws IOException {
        Backbone b = Backbone.create(ExportTestSupport.config(18, Stem.CIFAR, 0.0625, 8, 9));
        Path file = dir.resolve("out/w.npz");
        TorchStateDict.write(b, file, true);
        byte[] first = Files.readAllBytes(file);
        TorchStateDict.write(b, file, true);
        assertArrayEquals(first, Files.readAllBytes(file), "same weights, same bytes");
        try (Stream<Path> s = Files.list(file.getParent())) {
            assertEquals(List.of(file), s.toList());
        }
    }

    @Test
    void unknownParameterisedLayersAreRejectedByName() {
        org.deeplearning4j.nn.conf.ComputationGraphConfiguration conf = new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder()
                .graphBuilder().addInputs("in")
                .addLayer("classifier_w", new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nIn(3).nOut(2).build(), "in")
                .setOutputs("classifier_w").build();
        org.deeplearning4j.nn.graph.ComputationGraph g = new org.deeplearning4j.nn.graph.ComputationGraph(conf);
        g.init();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TorchStateDict.of(g, true));
        assertTrue(e.getMessage().startsWith("layer 'classifier_w' (DenseLayer, 8 parameters) follows no umm4j naming rule"),
                e.getMessage());
    }
}
