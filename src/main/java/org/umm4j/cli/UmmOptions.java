package org.umm4j.cli;

import org.umm4j.data.ImageDataset;
import org.umm4j.data.Split;
import org.umm4j.data.augment.Recipe;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.Taps;
import org.umm4j.ssl.MethodConfig;
import org.umm4j.ssl.Methods;
import org.umm4j.ssl.SslMethod;
import org.umm4j.train.Checkpoint;
import org.umm4j.train.RunDirectory;
import org.umm4j.umm.CpaSketch;
import org.umm4j.umm.Hypergradient;
import org.umm4j.umm.UmmConfig;
import org.umm4j.umm.UmmFineTuner;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The flags of UMM fine-tuning shared by {@code umm4j umm} ({@link UmmCommand}) and the distributed
 * {@code spark-umm} of the umm4j-spark module ({@code @Mixin}), and the rebuild of the source pretraining run from its
 * manifest ({@link #loadSource()}): dataset, backbone, method with its objective hyper-parameters, and the run's own
 * augmentation recipe.
 */
public final class UmmOptions {
    @Option(names = "--checkpoint", required = true,
            description = "Source pretraining run directory (its latest checkpoint) or one checkpoint directory.")
    Path checkpoint;

    @Option(names = "--out", required = true, description = "Run directory of the fine-tuning run.")
    Path out;

    @Option(names = "--early-tap", defaultValue = Taps.EARLY_DEFAULT,
            description = "Where to split f = f_l o f_e: stem, stage1..stage4 (default: ${DEFAULT-VALUE}).")
    String tap = Taps.EARLY_DEFAULT;

    @Option(names = "--beta", defaultValue = "1", description = "Weight of JS(p_e, p_l) in the inner loss; 0 = ablation ** (default: ${DEFAULT-VALUE}).")
    double beta = 1;

    @Option(names = "--lambda", defaultValue = "1", description = "Weight of dR in the outer loss; 0 = ablation * (default: ${DEFAULT-VALUE}).")
    double lambda = 1;

    @Option(names = "--eps", defaultValue = "0.5", description = "Coding-rate distortion (default: ${DEFAULT-VALUE}).")
    double eps = 0.5;

    @Option(names = "--tau", defaultValue = "0.5", description = "Instance-membership temperature (default: ${DEFAULT-VALUE}).")
    double tau = 0.5;

    @Option(names = "--hypergradient", defaultValue = "unrolled", description = "unrolled or neumann (default: ${DEFAULT-VALUE}).")
    String hypergradient = "unrolled";

    @Option(names = "--hvp", defaultValue = "forward", description = "Hessian-vector products by forward differences "
            + "(3 gradients per unrolled step, reuses the inner gradient) or central (4, second-order accurate) (default: ${DEFAULT-VALUE}).")
    String hvp = "forward";

    @Option(names = "--inner-lr", defaultValue = "0.01", description = "Inner step eta / Neumann alpha (default: ${DEFAULT-VALUE}).")
    double innerLr = 0.01;

    @Option(names = "--lr", defaultValue = "1e-4", description = "Adam learning rate of the update (default: ${DEFAULT-VALUE}).")
    double lr = 1e-4;

    @Option(names = "--epochs", defaultValue = "1", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs = 1;

    @Option(names = "--batch-size", defaultValue = "0", description = "Batch size (default: the source run's).")
    int batchSize;

    @Option(names = "--sketch-k", defaultValue = "8", description = "CPA sketch directions k (default: ${DEFAULT-VALUE}).")
    int sketchK = 8;

    @Option(names = "--sketch-batch", defaultValue = "32", description = "Samples the CPA sketch runs on (default: ${DEFAULT-VALUE}).")
    int sketchBatch = 32;

    @Option(names = "--membership-top-k", defaultValue = "0",
            description = "0 = dense instance membership for dR; k > 0 = top-k sparsified, cheaper (default: ${DEFAULT-VALUE}).")
    int membershipTopK;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of batches and sketch directions (default: ${DEFAULT-VALUE}).")
    long seed = 42;

    @Option(names = "--control", description = "Control run: plain SSL training of f_l instead of UMM, same steps.")
    boolean control;

    /** @throws IllegalArgumentException naming the flag when {@code --hypergradient} or {@code --hvp} is unknown */
    public void validate() {
        hvp();
        if (!Hypergradient.NAMES.contains(hypergradient)) {
            throw new IllegalArgumentException("--hypergradient '" + hypergradient + "' is not one of " + Hypergradient.NAMES);
        }
    }

    public Path checkpoint() {
        return checkpoint;
    }

    public Path out() {
        return out;
    }

    public String tap() {
        return tap;
    }

    public String hypergradient() {
        return hypergradient;
    }

    /** @return the Hessian-vector difference scheme of {@code --hvp} */
    public Hypergradient.Difference hvp() {
        try {
            return Hypergradient.Difference.parse(hvp);
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException("--hvp: " + ex.getMessage(), ex);
        }
    }

    public double innerLr() {
        return innerLr;
    }

    public double lr() {
        return lr;
    }

    public int epochs() {
        return epochs;
    }

    public long seed() {
        return seed;
    }

    /** @return UMM (default) or the SSL_LAST control ({@code --control}) */
    public UmmFineTuner.Mode mode() {
        return control ? UmmFineTuner.Mode.SSL_LAST : UmmFineTuner.Mode.UMM;
    }

    /** @return the loss weights and sketch settings of the flags */
    public UmmConfig ummConfig() {
        return new UmmConfig(beta, lambda, eps, tau, new CpaSketch(sketchK, 1e-2, 1e-6), sketchBatch, membershipTopK);
    }

    /**
     * The source pretraining run as rebuilt from its manifest.
     *
     * @param checkpoint   the source checkpoint
     * @param runDir       the run directory it belongs to
     * @param dataset      the source run's dataset flags
     * @param backbone     the source run's backbone flags
     * @param data         its training split
     * @param net          its ResNet
     * @param method       its method (objective hyper-parameters included)
     * @param recipeMethod the method name its recipe was built for
     * @param localCrops   SwAV's local crops of its recipe
     * @param jitter       SimCLR's jitter strength of its recipe
     * @param cropScaleMin its crop lower bound (null: the default for the image size)
     * @param batchSize    {@code --batch-size}, or the source run's batch size when 0
     * @param runSeed      the source run's seed
     */
    public record Source(Checkpoint checkpoint, Path runDir, DatasetOptions dataset, BackboneOptions backbone,
                         ImageDataset data, ResNetConfig net, SslMethod method, String recipeMethod, int localCrops,
                         double jitter, Double cropScaleMin, int batchSize, long runSeed) {
        /** @return the source run's two-view recipe, rebuilt as {@code umm4j pretrain} built it */
        public Recipe recipe() {
            return PretrainCommand.recipeFor(recipeMethod, data.channels(), data.height(), data.width(), localCrops,
                    jitter, cropScaleMin);
        }

        /** @return the dataset and backbone flags as manifest entries (for {@code umm4j eval --run}) */
        public Map<String, Object> manifestExtras() {
            Map<String, Object> m = new LinkedHashMap<>(dataset.toManifest());
            m.putAll(backbone.toManifest());
            return m;
        }
    }

    /**
     * Resolves {@code --checkpoint} and rebuilds its run from the run's manifest.
     *
     * @throws IllegalArgumentException when the checkpoint has no run directory or the manifest lacks the method,
     *                                  dataset or backbone entries
     */
    public Source loadSource() throws IOException {
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
        String methodName = String.valueOf(cfg.get("method"));
        SslMethod method = Methods.create(new MethodConfig(methodName, rc, bopts.headScale(), objective, total, 4096,
                runSeed));
        // the pretraining run's own recipe, rebuilt from its flags as pretrain built it
        Map<?, ?> pre = cfg.get("pretrain") instanceof Map<?, ?> pm ? pm : Map.of();
        int localCrops = pre.get("localCrops") instanceof Number n ? n.intValue() : 6;
        double jitter = pre.get("jitterStrength") instanceof Number j ? j.doubleValue() : 0.5;
        Double cropMin = pre.get("cropScaleMin") instanceof Number c ? c.doubleValue() : null;
        int b = batchSize > 0 ? batchSize : cfg.get("batchSize") instanceof Number n ? n.intValue() : 64;
        return new Source(source, runDir, dopts, bopts, data, rc, method, methodName, localCrops, jitter, cropMin, b,
                runSeed);
    }
}
