package org.umm4j.cli;

import org.umm4j.backend.Umm4jBackend;
import org.umm4j.data.augment.Recipe;
import org.umm4j.train.TrainingLoop;
import org.umm4j.umm.UmmFineTuner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/**
 * {@code umm4j umm}: UMM fine-tuning (arXiv 2410.00772) of a pretraining run made by {@code umm4j pretrain} (or
 * {@link org.umm4j.train.Pretrainer} with the {@link DatasetOptions} / {@link BackboneOptions} manifest entries and
 * "method"). The dataset, backbone, method, objective hyper-parameters and recipe are rebuilt from the source run's
 * manifest; the result is a run directory whose checkpoints are full online graphs, like a pretraining run's.
 *
 * <pre>
 * umm4j umm --checkpoint RUN_DIR[/checkpoints/epoch-N] --out DIR [--early-tap stage2] [--beta 1] [--lambda 1]
 *           [--eps 0.5] [--tau 0.5] [--hypergradient unrolled|neumann] [--hvp forward|central] [--inner-lr 0.01] [--lr 1e-4]
 *           [--epochs 1] [--batch-size B] [--sketch-k 8] [--sketch-batch 32]
 *           [--membership-top-k 0] [--seed 42] [--joint] [--control]
 * </pre>
 * The UMM flags and the rebuild of the source run are {@link UmmOptions} (shared with the Spark module's
 * distributed {@code spark-umm}).
 * {@code --lambda 0} and {@code --beta 0} are the paper's ablations "*" and "**"; {@code --control} trains f_l with
 * plain SSL instead (the baseline of the same length); {@code --joint} alternates a full-network SSL step with each
 * UMM step ("SSL &amp; UMM").
 */
@Command(name = "umm", mixinStandardHelpOptions = true,
        description = "UMM fine-tuning of the last layers of a pretrained SSL run (arXiv 2410.00772).")
final class UmmCommand implements Callable<Integer> {
    @Mixin
    UmmOptions options = new UmmOptions();

    @Option(names = "--joint", description = "Joint mode \"SSL & UMM\": a full-network SSL step before each UMM step.")
    boolean joint;

    @Option(names = "--resume", description = "Resume the run in --out from its latest checkpoint.")
    boolean resume;

    @Override
    public Integer call() throws Exception {
        options.validate();
        Umm4jBackend.init();
        UmmOptions.Source src = options.loadSource();
        Recipe recipe = src.recipe();
        UmmFineTuner tuner = UmmFineTuner.builder().setSource(src.checkpoint()).setDataset(src.data()).setRecipe(recipe)
                .setMethod(src.method()).setOut(options.out()).setEpochs(options.epochs()).setBatchSize(src.batchSize())
                .optTap(options.tap()).optUmm(options.ummConfig()).optHypergradient(options.hypergradient())
                .optHvp(options.hvp())
                .optInnerLr(options.innerLr()).optLr(options.lr()).optSeed(options.seed()).optJoint(joint)
                .optMode(options.mode()).optManifest(src.manifestExtras()).build();
        TrainingLoop.Result r = tuner.run(resume);
        boolean control = options.mode() == UmmFineTuner.Mode.SSL_LAST;
        System.out.println("run          " + options.out().toAbsolutePath());
        System.out.println("source       " + src.checkpoint().path().toAbsolutePath());
        System.out.println("mode         " + (control ? "control (SSL of f_l)" : "umm " + options.hypergradient())
                + (joint ? " + joint SSL" : ""));
        System.out.println("steps        " + r.globalSteps());
        System.out.println("last loss    " + r.lastLoss());
        return 0;
    }

}
