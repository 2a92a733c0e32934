package org.umm4j.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.SyntheticDataset;
import org.umm4j.data.augment.Normalize;
import org.umm4j.data.augment.Recipes;
import org.umm4j.export.NpyArray;
import org.umm4j.export.Npz;
import org.umm4j.export.TorchStateDict;
import org.umm4j.nn.Backbone;
import org.umm4j.nn.MlpHeadConfig;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.Stem;
import org.umm4j.ssl.MethodConfig;
import org.umm4j.ssl.Methods;
import org.umm4j.ssl.SslMethod;
import org.umm4j.train.Checkpoint;
import org.umm4j.train.CheckpointData;
import org.umm4j.train.OptimizerConfig;
import org.umm4j.train.Pretrainer;
import org.umm4j.train.RunDirectory;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class ExportCommandTest {

    /** Runs the CLI in this JVM; returns exit code, stdout and stderr. */
    private record Result(int code, String out, String err) {
    }

    private static Result cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        picocli.CommandLine cl = Umm4j.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    private static void assertSameValues(Map<String, NpyArray> expected, Map<String, NpyArray> actual) {
        assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(actual.keySet()));
        expected.forEach((k, v) -> {
            assertArrayEquals(v.shape(), actual.get(k).shape(), k);
            assertArrayEquals(v.toDoubles(), actual.get(k).toDoubles(), 0.0, k);
        });
    }

    @Test
    void exportsTheOnlineGraphOrAnAuxiliaryGraphOfASavedCheckpoint(@TempDir Path dir) throws Exception {
        ResNetConfig cfg = ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, 8, 8)
                .optWidthMultiplier(0.0625).optSeed(4).build();
        MlpHeadConfig head = MlpHeadConfig.builder().setName("projector").setInputSize(cfg.featureSize())
                .optHiddenSizes(8).setOutputSize(4).build();
        Backbone online = Backbone.create(cfg, new Sgd(0.1), head);
        online.output(Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 4, 3, 8, 8), true); // move BN statistics
        Backbone target = Backbone.create(ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, 8, 8)
                .optWidthMultiplier(0.0625).optSeed(5).build(), new Sgd(0.1), head);
        Path run = dir.resolve("run");
        RunDirectory rd = RunDirectory.create(run,
                Map.of("backbone", BackboneOptions.of("resnet18", 0.0625, "cifar", 1).toManifest()), 1, "synthetic", "none");
        Checkpoint c = Checkpoint.save(rd, CheckpointData.builder().setGraph(online.graph()).setEpoch(0).setStep(3)
                .setSeed(1).optGraph("target", target.graph()).build(), 2);

        Path out = dir.resolve("exports/online.npz");
        Result r = cli("export", "--checkpoint", run.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("torchvision resnet18 keys") && r.out().contains("head arrays"), r.out());
        assertSameValues(TorchStateDict.of(online, true), Npz.read(out));

        Path bare = dir.resolve("bare.npz");
        r = cli("export", "--checkpoint", c.path().toString(), "--out", bare.toString(), "--no-heads");
        assertEquals(0, r.code(), r.err());
        assertSameValues(TorchStateDict.of(online, false), Npz.read(bare));
        assertTrue(Npz.read(bare).keySet().stream().noneMatch(k -> k.startsWith("projector")));

        Path t = dir.resolve("target.npz");
        r = cli("export", "--checkpoint", run.toString(), "--out", t.toString(), "--graph", "target");
        assertEquals(0, r.code(), r.err());
        assertSameValues(TorchStateDict.of(target, true), Npz.read(t));

        // a model file written by Backbone.save works too
        Path model = dir.resolve("backbone.zip");
        online.save(model);
        Path m = dir.resolve("model.npz");
        assertEquals(0, cli("export", "--checkpoint", model.toString(), "--out", m.toString()).code());
        assertSameValues(TorchStateDict.of(online, true), Npz.read(m));
    }

    @Test
    void badArgumentsGiveClearMessagesAndExitCodeTwo(@TempDir Path dir) {
        Result r = cli("export", "--checkpoint", dir.resolve("nowhere").toString(), "--out", dir.resolve("x.npz").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("is neither a run directory, a checkpoint directory"), r.err());

        RunDirectory.create(dir.resolve("empty"), Map.of(), 1, "synthetic", "none");
        r = cli("export", "--checkpoint", dir.resolve("empty").toString(), "--out", dir.resolve("x.npz").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("has no checkpoint yet"), r.err());

        r = cli("export", "--out", dir.resolve("x.npz").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--checkpoint"), r.err());
    }

    /** The end-to-end path: a real (tiny) SimCLR pretraining run, exported and imported into a fresh backbone. */
    @Test
    void exportOfAPretrainerRunLoadsIntoAFreshBackboneWithIdenticalOutputs(@TempDir Path dir) throws Exception {
        ImageDataset data = SyntheticDataset.generate(new SyntheticDataset.Config(4, 4, 16, 3, 9));
        ResNetConfig rc = ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, 16, 16)
                .optWidthMultiplier(0.0625).optSeed(3).build();
        SslMethod method = Methods.create(MethodConfig.of("simclr", rc, 2, 5).withHeadScale(1.0 / 64));
        Path run = dir.resolve("run");
        ComputationGraph trained = Pretrainer.builder().setDataset(data)
                .setRecipe(Recipes.simclr("simclr-16", 16, 0.2, 0.5, 0.0, Normalize.cifar10())).setMethod(method)
                .setOptimizer(OptimizerConfig.adam(1e-3)).setEpochs(1).setBatchSize(8).setOut(run).optSeed(11)
                .build().run(false).graph();

        Path out = dir.resolve("simclr.npz");
        Result r = cli("export", "--checkpoint", run.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());

        Backbone fresh = method.createOnline();
        List<MlpHeadConfig> heads = fresh.heads();
        assertFalse(heads.isEmpty());
        TorchStateDict.ImportReport rep = TorchStateDict.load(fresh, out);
        assertTrue(rep.loaded().contains("projector.fc1.weight"), rep.loaded().toString());
        INDArray x = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 2, 3, 16, 16);
        INDArray expected = trained.outputSingle(false, x);
        assertEquals(expected, fresh.output(x), "the imported network computes what the trained one computes");
    }
}
