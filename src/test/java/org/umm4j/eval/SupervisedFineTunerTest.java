package org.umm4j.eval;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.umm4j.backend.Umm4jBackend;
import org.umm4j.data.InMemoryImageDataset;
import org.umm4j.nn.Backbone;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.Stem;
import org.umm4j.train.Checkpoint;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** Semi-supervised fine-tuning on a tiny network and an easy two-class task (dark vs bright noise images). */
class SupervisedFineTunerTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void backend() {
        Umm4jBackend.init();
    }

    private static ResNetConfig cfg(double width) {
        return ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, 8, 8).optWidthMultiplier(width)
                .optSeed(5).build();
    }

    /** Class 0: pixels uniform in [0, 100); class 1: in [155, 255). Labels alternate. */
    private static InMemoryImageDataset darkBright(String name, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] px = new byte[n * 3 * 64];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 2;
            for (int j = 0; j < 192; j++) {
                px[i * 192 + j] = (byte) (labels[i] * 155 + r.nextInt(100));
            }
        }
        return new InMemoryImageDataset(name, 3, 8, 8, px, labels, List.of("dark", "bright"));
    }

    @Test
    void startsFromThePretrainedWeightsAndLearnsAnEasyTask() throws Exception {
        ComputationGraph pretrained = Backbone.create(cfg(0.0625)).graph();
        ComputationGraph clf = SupervisedFineTuner.classifier(pretrained, cfg(0.0625), 2, 1e-3, false, 1);
        for (Map.Entry<String, INDArray> e : pretrained.paramTable().entrySet()) {
            assertEquals(e.getValue(), clf.paramTable().get(e.getKey()), e.getKey());
        }
        assertEquals(List.of(SupervisedFineTuner.CLASSIFIER), clf.getConfiguration().getNetworkOutputs());

        Path out = dir.resolve("ft");
        SupervisedFineTuner ft = SupervisedFineTuner.builder().setPretrained(pretrained).setConfig(cfg(0.0625))
                .setTrain(darkBright("train", 64, 1)).setTest(darkBright("test", 40, 2)).setOut(out).setEpochs(3)
                .setBatchSize(16).optLr(3e-3).optSeed(3).build();
        assertEquals(4, ft.stepsPerEpoch());
        SupervisedFineTuner.Result r = ft.run(false);
        assertTrue(r.top1() >= 0.9, "test top-1 " + r.top1());
        assertEquals(1.0, r.top5(), 1e-12, "two classes: top-5 is always right");
        assertEquals(64, r.labelled());
        String json = Files.readString(out.resolve(SupervisedFineTuner.RESULT));
        assertTrue(json.contains("\"top1\""), json);
        List<String> metrics = Files.readAllLines(out.resolve("metrics.csv"));
        assertTrue(metrics.get(0).contains("test_top1"), metrics.get(0));
        long rowsWithAccuracy = metrics.stream().skip(1).filter(l -> !l.endsWith(",")).count();
        assertEquals(3, rowsWithAccuracy, "one test accuracy per epoch: " + metrics);
        // every layer trained
        ComputationGraph after = Checkpoint.latest(out).orElseThrow().restoreGraph(false);
        assertNotEquals(pretrained.getVertex("stem_conv").params(), after.getVertex("stem_conv").params());
    }

    @Test
    void frozenBackboneTrainsOnlyTheClassifier() {
        ComputationGraph pretrained = Backbone.create(cfg(0.0625)).graph();
        Path out = dir.resolve("frozen");
        SupervisedFineTuner.builder().setPretrained(pretrained).setConfig(cfg(0.0625))
                .setTrain(darkBright("train", 32, 1)).setTest(darkBright("test", 8, 2)).setOut(out).setEpochs(1)
                .setBatchSize(16).optFreezeBackbone(true).build().run(false);
        ComputationGraph after = Checkpoint.latest(out).orElseThrow().restoreGraph(false);
        for (Map.Entry<String, INDArray> e : pretrained.paramTable().entrySet()) {
            assertEquals(e.getValue(), after.paramTable().get(e.getKey()), e.getKey() + " changed in a frozen backbone");
        }
        ComputationGraph fresh = SupervisedFineTuner.classifier(pretrained, cfg(0.0625), 2, 1e-3, true, 1);
        assertNotEquals(fresh.getLayer(SupervisedFineTuner.CLASSIFIER).params(),
                after.getLayer(SupervisedFineTuner.CLASSIFIER).params(), "the classifier trained");
    }

    @Test
    void clearErrors() {
        ComputationGraph pretrained = Backbone.create(cfg(0.0625)).graph();
        IllegalArgumentException wrongShape = assertThrows(IllegalArgumentException.class,
                () -> SupervisedFineTuner.classifier(pretrained, cfg(0.125), 2, 1e-3, false, 1));
        assertTrue(wrongShape.getMessage().contains("backbone configuration"), wrongShape.getMessage());
        IllegalArgumentException tooFew = assertThrows(IllegalArgumentException.class,
                () -> SupervisedFineTuner.builder().setPretrained(pretrained).setConfig(cfg(0.0625))
                        .setTrain(darkBright("train", 8, 1)).setTest(darkBright("test", 8, 2)).setOut(dir.resolve("x"))
                        .setEpochs(1).setBatchSize(16).build());
        assertTrue(tooFew.getMessage().contains("8 labelled images"), tooFew.getMessage());
        IllegalStateException missing = assertThrows(IllegalStateException.class,
                () -> SupervisedFineTuner.builder().setPretrained(pretrained).build());
        assertTrue(missing.getMessage().contains("setConfig"), missing.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SupervisedFineTuner.builder().optLr(0));
        assertThrows(IllegalArgumentException.class, () -> SupervisedFineTuner.builder().setEpochs(0));
    }
}
