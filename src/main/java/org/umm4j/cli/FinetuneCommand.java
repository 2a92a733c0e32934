package org.umm4j.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.umm4j.backend.Umm4jBackend;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.Subsets;
import org.umm4j.eval.SupervisedFineTuner;
import org.umm4j.train.Checkpoint;
import org.umm4j.train.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code umm4j finetune}: the semi-supervised evaluation (the UMM paper's Table 4): fine-tune the backbone of a
 * pretraining or UMM run's checkpoint, with a linear classifier on its pooled features, on a class-balanced
 * fraction of the training labels ({@code --label-fraction 0.01} or {@code 0.1}), and report test top-1/top-5
 * ({@link SupervisedFineTuner}). The dataset, subset sizes and backbone come from the run's manifest, as in
 * {@code eval}. Writes a run directory (default {@code RUN/finetune-<fraction>}) with metrics.csv (test accuracy per
 * epoch), checkpoints and finetune.json; {@code --resume} continues it.
 */
@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = "Semi-supervised evaluation: fine-tune a run's backbone + a linear classifier on a fraction of "
                + "the labels, report test accuracy (UMM paper Table 4).")
public final class FinetuneCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, description = "Run directory written by umm4j pretrain or umm4j umm.")
    Path run;

    @Option(names = "--checkpoint", description = "Checkpoint directory to start from (default: the run's latest).")
    Path checkpoint;

    @Option(names = "--label-fraction", required = true,
            description = "Fraction of each class's training labels used, in (0, 1], e.g. 0.01 or 0.1.")
    double labelFraction;

    @Option(names = "--epochs", defaultValue = "20", description = "Epochs over the labelled images (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "64", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--lr", defaultValue = "1e-3", description = "Adam learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--freeze-backbone", description = "Train only the classifier (a linear probe on augmented images).")
    boolean freezeBackbone;

    @Option(names = "--seed", description = "Seed of the label subset, augmentation and classifier (default: the run's).")
    Long seed;

    @Option(names = "--out", description = "Output run directory (default: RUN/finetune-<fraction>).")
    Path out;

    @Option(names = "--resume", description = "Continue the output run from its latest checkpoint.")
    boolean resume;

    @Override
    public Integer call() throws Exception {
        if (!(labelFraction > 0 && labelFraction <= 1)) {
            throw new IllegalArgumentException("--label-fraction must be in (0, 1], got " + labelFraction);
        }
        Umm4jBackend.init();
        RunInputs in = RunInputs.open(run);
        @SuppressWarnings("unchecked")
        Map<String, Object> config = (Map<String, Object>) in.run.manifest().get("config");
        BackboneOptions bb = BackboneOptions.fromManifest(config);
        long s = seed != null ? seed : in.run.seed();
        ImageDataset train = in.train();
        ImageDataset test = in.test();
        ImageDataset labelled = Subsets.classBalancedFraction(train, labelFraction, s);
        Checkpoint c = checkpoint != null ? Checkpoint.open(checkpoint)
                : Checkpoint.latest(run).orElseThrow(() -> new IllegalArgumentException("--run " + run + " holds no checkpoint"));
        ComputationGraph pretrained = c.restoreGraph(false);
        Path dir = out != null ? out : run.resolve("finetune-" + labelFraction);
        Map<String, Object> extra = new LinkedHashMap<>(in.dataset.toManifest());
        extra.putAll(bb.toManifest());
        extra.values().removeIf(java.util.Objects::isNull);
        extra.put("source", c.path().toAbsolutePath().toString());
        extra.put("labelFraction", labelFraction);
        SupervisedFineTuner ft = SupervisedFineTuner.builder().setPretrained(pretrained)
                .setConfig(bb.config(train, in.run.seed())).setTrain(labelled).setTest(test).setOut(dir)
                .setEpochs(epochs).setBatchSize(batchSize).optLr(lr).optFreezeBackbone(freezeBackbone).optSeed(s)
                .optManifest(extra).optProgress(ProgressBar.forConsole(System.out, 10)).build();
        SupervisedFineTuner.Result r = ft.run(resume);
        System.out.printf(Locale.ROOT, "finetune %s (%s), %d labelled images (%.3g of each class), %d epochs: "
                + "test top1 %.4f top5 %.4f%n", c.path(), freezeBackbone ? "frozen backbone" : "all layers",
                r.labelled(), labelFraction, r.epochs(), r.top1(), r.top5());
        System.out.println("run          " + dir.toAbsolutePath());
        return 0;
    }
}
