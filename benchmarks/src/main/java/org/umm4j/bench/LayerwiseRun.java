package org.umm4j.bench;

import org.umm4j.cli.BackboneOptions;
import org.umm4j.cli.DatasetOptions;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.Split;
import org.umm4j.data.augment.Recipes;
import org.umm4j.eval.DrMonitor;
import org.umm4j.eval.FeatureExtractor;
import org.umm4j.eval.LayerwiseEvaluator;
import org.umm4j.eval.LayerwiseResult;
import org.umm4j.eval.LinearProbe;
import org.umm4j.report.LayerwiseReport;
import org.umm4j.report.RunReport;
import org.umm4j.ssl.MethodConfig;
import org.umm4j.ssl.Methods;
import org.umm4j.train.OptimizerConfig;
import org.umm4j.train.Pretrainer;
import org.umm4j.train.ProgressBar;
import org.umm4j.train.WarmupCosineSchedule;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Whole-run demonstration of the layer-wise evaluation: SimCLR pretraining of a narrow CIFAR ResNet-18 on a
 * class-balanced subset of the CIFAR-10 images in {@code ../shared/datasets/cifar10-subset} with the dR monitor and a
 * checkpoint every {@code saveEvery} epochs, then {@code umm4j eval}'s layer-wise evaluation and report.
 *
 * <p>Usage: {@code LayerwiseRun OUT DATA_DIR [trainImages epochs saveEvery width batch]}
 * (defaults 1000 16 2 0.125 64).
 */
public final class LayerwiseRun {
    private LayerwiseRun() {
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        Path data = Path.of(args[1]);
        int n = args.length > 2 ? Integer.parseInt(args[2]) : 1000;
        int epochs = args.length > 3 ? Integer.parseInt(args[3]) : 16;
        int saveEvery = args.length > 4 ? Integer.parseInt(args[4]) : 2;
        double width = args.length > 5 ? Double.parseDouble(args[5]) : 0.125;
        int batch = args.length > 6 ? Integer.parseInt(args[6]) : 64;
        long seed = 7;
        DatasetOptions dopts = DatasetOptions.of("cifar10", data, n, 0);
        BackboneOptions bopts = BackboneOptions.of("resnet18", width, "cifar", 1.0 / 16);
        ImageDataset train = dopts.load(Split.TRAIN, seed);
        ImageDataset test = dopts.load(Split.TEST, seed);
        Map<String, Object> manifest = new LinkedHashMap<>(dopts.toManifest());
        manifest.putAll(bopts.toManifest());
        long steps = (long) epochs * (train.size() / batch);
        DrMonitor monitor = DrMonitor.create(train, FeatureExtractor.normalizeFor("simclr-cifar", 3), 256, seed);
        long t0 = System.nanoTime();
        Pretrainer.builder().setDataset(train).setRecipe(Recipes.simclrCifar())
                .setMethod(Methods.create(MethodConfig.of("simclr", bopts.config(train, seed), steps, seed)
                        .withHeadScale(bopts.headScale())))
                .setOptimizer(OptimizerConfig.adam(1e-3).withSchedule(new WarmupCosineSchedule(1e-3, 1e-5,
                        (int) (train.size() / batch), (int) steps)))
                .setEpochs(epochs).setBatchSize(batch).setOut(out).optSeed(seed).optSaveEvery(saveEvery)
                .optManifest(manifest).optProgress(new ProgressBar(System.err, false, 15))
                .optEpochListener(monitor, List.of(DrMonitor.COLUMN)).build().run(false);
        double trainS = (System.nanoTime() - t0) / 1e9;
        long t1 = System.nanoTime();
        LayerwiseResult r = LayerwiseEvaluator.builder().setTrain(train).setTest(test)
                .setNormalize(FeatureExtractor.normalizeFor("simclr-cifar", 3)).optSeed(0)
                .optProbe(LinearProbe.defaults(0)).build().evaluate(LayerwiseEvaluator.checkpointsOf(out));
        LayerwiseReport.write(r, out.resolve("eval"), out.getFileName().toString());
        RunReport.write(out);
        System.out.printf("train %d images, test %d, %d epochs: pretraining %.0f s, evaluation %.0f s%n",
                train.size(), test.size(), epochs, trainS, (System.nanoTime() - t1) / 1e9);
        System.out.print(r.toTable().toCsv());
        System.out.print(r.pearsonTable().toCsv());
    }
}
