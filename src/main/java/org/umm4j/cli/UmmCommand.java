package org.umm4j.cli;

import org.umm4j.backend.Umm4jBackend;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.Split;
import org.umm4j.data.augment.Normalize;
import org.umm4j.data.augment.Recipe;
import org.umm4j.data.augment.Recipes;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.Taps;
import org.umm4j.ssl.MethodConfig;
import org.umm4j.ssl.Methods;
import org.umm4j.ssl.SslMethod;
import org.umm4j.train.Checkpoint;
import org.umm4j.train.RunDirectory;
import org.umm4j.train.TrainingLoop;
import org.umm4j.umm.CpaSketch;
import org.umm4j.umm.UmmConfig;
import org.umm4j.umm.UmmFineTuner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
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
 * {@code --lambda 0} and {@code --beta 0} are the paper's ablations "*" and "**"; {@code --control} trains f_l with
 * plain SSL instead (the baseline of the same length); {@code --joint} alternates a full-network SSL step with each
 * UMM step ("SSL &amp; UMM").
 */
@Command(name = "umm", mixinStandardHelpOptions = true,
        description = "UMM fine-tuning of the last layers of a pretrained SSL run (arXiv 2410.00772).")
final class UmmCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true,
            description = "Source pretraining run directory (its latest checkpoint) or one checkpoint directory.")
    Path checkpoint;

    @Option(names = "--out", required = true, description = "Run directory of the fine-tuning run.")
    Path out;

    @Option(names = "--early-tap", defaultValue = Taps.EARLY_DEFAULT,
            description = "Where to split f = f_l o f_e: stem, stage1..stage4 (default: ${DEFAULT-VALUE}).")
    String tap;

    @Option(names = "--beta", defaultValue = "1", description = "Weight of JS(p_e, p_l) in the inner loss; 0 = ablation ** (default: ${DEFAULT-VALUE}).")
    double beta;

    @Option(names = "--lambda", defaultValue = "1", description = "Weight of dR in the outer loss; 0 = ablation * (default: ${DEFAULT-VALUE}).")
    double lambda;

    @Option(names = "--eps", defaultValue = "0.5", description = "Coding-rate distortion (default: ${DEFAULT-VALUE}).")
    double eps;

    @Option(names = "--tau", defaultValue = "0.5", description = "Instance-membership temperature (default: ${DEFAULT-VALUE}).")
    double tau;

    @Option(names = "--hypergradient", defaultValue = "unrolled", description = "unrolled or neumann (default: ${DEFAULT-VALUE}).")
    String hypergradient;

    @Option(names = "--hvp", defaultValue = "forward", description = "Hessian-vector products by forward differences "
            + "(3 gradients per unrolled step, reuses the inner gradient) or central (4, second-order accurate) (default: ${DEFAULT-VALUE}).")
    String hvp;

    @Option(names = "--inner-lr", defaultValue = "0.01", description = "Inner step eta / Neumann alpha (default: ${DEFAULT-VALUE}).")
    double innerLr;

    @Option(names = "--lr", defaultValue = "1e-4", description = "Adam learning rate of the update (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--epochs", defaultValue = "1", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "0", description = "Batch size (default: the source run's).")
    int batchSize;

    @Option(names = "--sketch-k", defaultValue = "8", description = "CPA sketch directions k (default: ${DEFAULT-VALUE}).")
    int sketchK;

    @Option(names = "--sketch-batch", defaultValue = "32", description = "Samples the CPA sketch runs on (default: ${DEFAULT-VALUE}).")
    int sketchBatch;

    @Option(names = "--membership-top-k", defaultValue = "0",
            description = "0 = dense instance membership for dR; k > 0 = top-k sparsified, cheaper (default: ${DEFAULT-VALUE}).")
    int membershipTopK;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of batches and sketch directions (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--joint", description = "Joint mode \"SSL & UMM\": a full-network SSL step before each UMM step.")
    boolean joint;

    @Option(names = "--control", description = "Control run: plain SSL training of f_l instead of UMM, same steps.")
    boolean control;

    @Option(names = "--resume", description = "Resume the run in --out from its latest checkpoint.")
    boolean resume;

    @Override
    public Integer call() throws Exception {
        org.umm4j.umm.Hypergradient.Difference hvpScheme;
        try {
            hvpScheme = org.umm4j.umm.Hypergradient.Difference.parse(hvp);
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException("--hvp: " + ex.getMessage(), ex);
        }
        if (!org.umm4j.umm.Hypergradient.NAMES.contains(hypergradient)) {
            throw new IllegalArgumentException("--hypergradient '" + hypergradient + "' is not one of "
                    + org.umm4j.umm.Hypergradient.NAMES);
        }
        Umm4jBackend.init();
        Checkpoint source = UmmFineTuner.resolveSource(checkpoint);
        Path runDir = UmmFineTuner.runDirectoryOf(source);
        if (runDir == null || !RunDirectory.exists(runDir)) {
            throw new IllegalArgumentException("--checkpoint " + checkpoint + " does not belong to a run directory with a "
                    + RunDirectory.MANIFEST);
        }
        Map<String, Object> manifest = RunDirectory.open(runDir).manifest();
        @SuppressWarnings("unchecked")
        Map<String, Object> cfg = (Map<String, Object>) manifest.get("config");
        if (cfg == null || cfg.get("method") == null || cfg.get("dataset") == null || cfg.get("backbone") == null) {
            throw new IllegalArgumentException("the manifest of " + runDir + " lacks the method, dataset or backbone "
                    + "entries (make the source run with umm4j pretrain, or Pretrainer.optManifest(DatasetOptions/BackboneOptions))");
        }
        long runSeed = ((Number) manifest.getOrDefault("seed", 42L)).longValue();
        DatasetOptions dopts = DatasetOptions.fromManifest(cfg);
        BackboneOptions bopts = BackboneOptions.fromManifest(cfg);
        ImageDataset data = dopts.load(Split.TRAIN, runSeed);
        ResNetConfig rc = bopts.config(data, runSeed);
        Map<String, Double> objective = new HashMap<>();
        if (cfg.get("objective") instanceof Map<?, ?> m) {
            m.forEach((k, v) -> objective.put(String.valueOf(k), ((Number) v).doubleValue()));
        }
        long total = 1;
        if (cfg.get("training") instanceof Map<?, ?> t && t.get("epochs") instanceof Number e
                && t.get("stepsPerEpoch") instanceof Number s) {
            total = Math.max(1, e.longValue() * s.longValue());
        }
        SslMethod method = Methods.create(new MethodConfig(String.valueOf(cfg.get("method")), rc, bopts.headScale(),
                objective, total, 4096, runSeed));
        // the pretraining run's own recipe, rebuilt from its flags as pretrain built it
        Map<?, ?> pre = cfg.get("pretrain") instanceof Map<?, ?> pm ? pm : Map.of();
        int localCrops = pre.get("localCrops") instanceof Number n ? n.intValue() : 6;
        double jitter = pre.get("jitterStrength") instanceof Number j ? j.doubleValue() : 0.5;
        Double cropMin = pre.get("cropScaleMin") instanceof Number c ? c.doubleValue() : null;
        Recipe recipe = PretrainCommand.recipeFor(String.valueOf(cfg.get("method")), data, localCrops, jitter, cropMin);
        int b = batchSize > 0 ? batchSize : cfg.get("batchSize") instanceof Number n ? n.intValue() : 64;
        UmmConfig umm = new UmmConfig(beta, lambda, eps, tau, new CpaSketch(sketchK, 1e-2, 1e-6), sketchBatch,
                membershipTopK);
        Map<String, Object> extra = new LinkedHashMap<>(dopts.toManifest());
        extra.putAll(bopts.toManifest());
        UmmFineTuner tuner = UmmFineTuner.builder().setSource(source).setDataset(data).setRecipe(recipe).setMethod(method)
                .setOut(out).setEpochs(epochs).setBatchSize(b).optTap(tap).optUmm(umm).optHypergradient(hypergradient)
                .optHvp(hvpScheme)
                .optInnerLr(innerLr).optLr(lr).optSeed(seed).optJoint(joint)
                .optMode(control ? UmmFineTuner.Mode.SSL_LAST : UmmFineTuner.Mode.UMM).optManifest(extra).build();
        TrainingLoop.Result r = tuner.run(resume);
        System.out.println("run          " + out.toAbsolutePath());
        System.out.println("source       " + source.path().toAbsolutePath());
        System.out.println("mode         " + (control ? "control (SSL of f_l)" : "umm " + hypergradient) + (joint ? " + joint SSL" : ""));
        System.out.println("steps        " + r.globalSteps());
        System.out.println("last loss    " + r.lastLoss());
        return 0;
    }

}
