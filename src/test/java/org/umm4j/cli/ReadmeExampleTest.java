package org.umm4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.umm4j.crr.CodingRate;
import org.umm4j.crr.Memberships;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.SyntheticDataset;
import org.umm4j.data.augment.Normalize;
import org.umm4j.data.augment.Recipes;
import org.umm4j.eval.FeatureExtractor;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.Stem;
import org.umm4j.nn.Taps;
import org.umm4j.ssl.MethodConfig;
import org.umm4j.ssl.Methods;
import org.umm4j.ssl.SslMethod;
import org.umm4j.train.OptimizerConfig;
import org.umm4j.train.Pretrainer;
import org.umm4j.train.TrainingLoop;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** The README's API example, line for line, at test scale (synthetic data instead of CIFAR-10 files). */
class ReadmeExampleTest {
    @TempDir
    Path dir;

    @Test
    void theReadmeApiExampleRuns() {
        ImageDataset train = SyntheticDataset.generate(new SyntheticDataset.Config(4, 8, 32, 3, 1));
        ImageDataset test = SyntheticDataset.generate(new SyntheticDataset.Config(4, 4, 32, 3, 2));
        ResNetConfig resnet = ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR)
                .setInput(3, 32, 32).optWidthMultiplier(0.0625).build();
        SslMethod simclr = Methods.create(MethodConfig.of("simclr", resnet, 1 * (train.size() / 16), 42)
                .withHeadScale(1.0 / 64));
        TrainingLoop.Result run = Pretrainer.builder().setDataset(train).setRecipe(Recipes.simclrCifar())
                .setMethod(simclr).setOptimizer(OptimizerConfig.adam(1e-3)).setEpochs(1).setBatchSize(16)
                .setOut(dir.resolve("runs/simclr")).build().run(false);

        CodingRate crr = new CodingRate(0.5);
        INDArray z = new FeatureExtractor(run.graph(), Normalize.cifar10(), 128).extract(test, Taps.POOL).get(Taps.POOL);
        double dR = crr.rateReduction(z, Memberships.instance(z, 0.5));
        assertEquals(test.size(), z.rows());
        assertTrue(Double.isFinite(dR) && dR > 0, "dR = " + dR);
    }
}
