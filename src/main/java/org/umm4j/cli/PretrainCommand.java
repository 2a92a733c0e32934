package org.umm4j.cli;

import org.nd4j.linalg.schedule.ISchedule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.Split;
import org.umm4j.data.augment.Normalize;
import org.umm4j.data.augment.Recipe;
import org.umm4j.data.augment.Recipes;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.ssl.MethodConfig;
import org.umm4j.ssl.Methods;
import org.umm4j.ssl.SslMethod;
import org.umm4j.train.ConstantSchedule;
import org.umm4j.train.ExponentialDecaySchedule;
import org.umm4j.train.OptimizerConfig;
import org.umm4j.eval.DrMonitor;
import org.umm4j.train.Pretrainer;
import org.umm4j.train.ProgressBar;
import org.umm4j.train.RunDirectory;
import org.umm4j.train.TrainingLoop;
import org.umm4j.train.WarmupCosineSchedule;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code umm4j pretrain}: self-supervised pretraining of a ResNet with one of the ten methods of
 * {@link Methods}, on the dataset of {@link DatasetOptions}, into a run directory ({@link RunDirectory}:
 * manifest.json, metrics.csv, checkpoints/).
 *
 * <p>The manifest's {@code config} records {@code data} ({@link DatasetOptions#toManifest()}), {@code backbone}
 * ({@link BackboneOptions#toManifest()}) and {@code pretrain} (this command's flags), so later commands rebuild the
 * data and the network from the run directory alone.
 *
 * <p>Augmentations: the method's paper recipe ({@link Recipes}) at the dataset's image size: CIFAR-style recipes
 * (no blur, CIFAR-10 normalisation) below 64 px, ImageNet-style ones (blur, ImageNet normalisation) otherwise.
 * simclr, mocov2, superinfo and wmse use the SimCLR pair; byol and simsiam the BYOL pair; barlow, vicreg and vicregl
 * the BYOL pair (as their papers); swav the multi-crop (2 global + {@code --local-crops} local views at half size
 * (CIFAR) or 96/224 of the size).
 */
@Command(name = "pretrain", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Self-supervised pretraining of a ResNet into a run directory (manifest.json, metrics.csv, "
                + "checkpoints/).",
                "Defaults follow the papers except where a 2-core CPU cannot: Adam (lr 1e-3) instead of LARS, batch 128 "
                        + "instead of 256-4096, 100 epochs instead of 800-1000, heads at 1/16 of the papers' widths and "
                        + "a ResNet-18 at width 0.25 (see the backbone flags); the warm-up is cut to a tenth of the "
                        + "epochs when --epochs is below 10 x --warmup-epochs."},
        footer = {"", "Example: umm4j pretrain --method simclr --dataset cifar10 --data-dir DIR --epochs 20 --out runs/simclr"})
public final class PretrainCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(PretrainCommand.class);
    static final List<String> OPTIMIZERS = List.of("adam", "sgd", "lars");
    static final List<String> SCHEDULES = List.of("warmup-cosine", "cosine", "exponential", "constant");

    @Mixin
    DatasetOptions data = new DatasetOptions();

    @Mixin
    BackboneOptions backbone = new BackboneOptions();

    @Option(names = "--method", defaultValue = "simclr",
            description = "SSL method: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).",
            completionCandidates = MethodNames.class)
    String method;

    @Option(names = "--epochs", defaultValue = "100", description = "Epochs (papers: 800-1000; default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "128",
            description = "Images per batch; the last incomplete batch of an epoch is dropped (papers: 256-4096; "
                    + "default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--optimizer", defaultValue = "adam",
            description = "adam, sgd (heavy-ball momentum) or lars (the papers' choice at large batch; default: ${DEFAULT-VALUE}).")
    String optimizer;

    @Option(names = "--lr", description = "Peak learning rate (default: adam 1e-3; sgd 0.03 x B/256; lars 0.3 x B/256 as SimCLR).")
    Double lr;

    @Option(names = "--momentum", defaultValue = "0.9", description = "Momentum of sgd and lars (default: ${DEFAULT-VALUE}).")
    double momentum;

    @Option(names = "--weight-decay", defaultValue = "1e-6",
            description = "Weight decay on weights only (SimCLR's 1e-6; default: ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--schedule", defaultValue = "warmup-cosine",
            description = "warmup-cosine, cosine, exponential (to lr/1000) or constant (default: ${DEFAULT-VALUE}).")
    String schedule;

    @Option(names = "--warmup-epochs", defaultValue = "10",
            description = "Linear warm-up of warmup-cosine (SimCLR: 10); cut to epochs/10 for short runs (default: ${DEFAULT-VALUE}).")
    int warmupEpochs;

    @Option(names = "--objective-param", paramLabel = "KEY=VALUE",
            description = "Objective hyper-parameter, repeatable, e.g. temperature=0.2 (keys: simclr {temperature}; "
                    + "barlow {lambda, scale, eps}; vicreg {invariance, variance, covariance}; vicregl {alpha, gamma, "
                    + "invariance, variance, covariance}; mocov2 {temperature}; wmse {subBatchSize, eps}; swav "
                    + "{temperature, epsilon, iterations, assignViews}; superinfo {temperature, la, lb}).")
    Map<String, Double> objectiveParams = new LinkedHashMap<>();

    @Option(names = "--queue-size", defaultValue = "4096", description = "mocov2: negatives in the queue (default: ${DEFAULT-VALUE}).")
    int queueSize;

    @Option(names = "--local-crops", defaultValue = "6",
            description = "swav: local (small) views per image besides the 2 global ones (paper: 6; default: ${DEFAULT-VALUE}).")
    int localCrops;

    @Option(names = "--jitter-strength", defaultValue = "0.5",
            description = "SimCLR colour-jitter strength s (brightness/contrast/saturation 0.8 s, hue 0.2 s; 0.5 is the "
                    + "CIFAR recipe, 1.0 the ImageNet paper's; data whose classes differ in shape but not in colour need "
                    + "1.0; simclr only; default: ${DEFAULT-VALUE}).")
    double jitterStrength = 0.5;

    @Option(names = "--crop-scale-min",
            description = "SimCLR random-resized-crop lower scale bound (default: 0.2 below 64 px, 0.08 above, as the papers; "
                    + "simclr only).")
    Double cropScaleMin;

    @Option(names = "--monitor-subset", defaultValue = "256",
            description = "Label-free overfitting monitor: dR (instance membership) of the last-layer features of this "
                    + "many fixed training images after every epoch, logged as dR_monitor (0 = off; default: ${DEFAULT-VALUE}).")
    int monitorSubset;

    @Option(names = "--monitor-patience", defaultValue = "0",
            description = "Stop when dR_monitor has not improved for this many epochs and keep the best-dR checkpoint "
                    + "as 'best' (0 = never stop; default: ${DEFAULT-VALUE}).")
    int monitorPatience;

    @Option(names = "--save-every", defaultValue = "1", description = "Checkpoint every N epochs; the last is always saved (default: ${DEFAULT-VALUE}).")
    int saveEvery;

    @Option(names = "--keep-last", defaultValue = "0", description = "Checkpoints to keep (0 = all; default: ${DEFAULT-VALUE}).")
    int keepLast;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the weights, the augmentations and the order (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, description = "Run directory (created; with --resume, the existing run).")
    Path out;

    @Option(names = "--resume", description = "Continue the run in --out from its latest checkpoint (pass the same flags).")
    boolean resume;

    @Option(names = "--workers", description = "Augmentation threads (default: available processors).")
    Integer workers;

    @Option(names = "--log-every", defaultValue = "10", description = "Progress line every N steps when not on a terminal (default: ${DEFAULT-VALUE}).")
    int logEvery;

    /** picocli completion candidates: the method names. */
    static final class MethodNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return Methods.NAMES.iterator();
        }
    }

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        try {
            validate();
            if (resume) {
                checkResumable();
            } else if (RunDirectory.exists(out)) {
                throw new IllegalArgumentException("--out " + out + " already holds a run: pass --resume to continue it"
                        + " or choose another directory");
            }
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        ImageDataset train = data.load(Split.TRAIN, seed);
        ResNetConfig rc = backbone.config(train, seed);
        int stepsPerEpoch = train.size() / batchSize;
        if (stepsPerEpoch == 0) {
            throw new IllegalArgumentException("--batch-size " + batchSize + " exceeds the " + train.size()
                    + " training images of " + train.name());
        }
        long totalSteps = (long) epochs * stepsPerEpoch;
        String m = method.toLowerCase(Locale.ROOT);
        MethodConfig mc = new MethodConfig(m, rc, backbone.headScale(), objectiveParams, totalSteps, queueSize, seed);
        SslMethod ssl = Methods.create(mc);
        Recipe recipe = recipeFor(m, train, localCrops, jitterStrength, cropScaleMin);
        OptimizerConfig opt = optimizer(stepsPerEpoch);
        Map<String, Object> manifest = new LinkedHashMap<>();
        // flat, as DatasetOptions/BackboneOptions.fromManifest and the eval, umm and report commands read them
        manifest.putAll(data.toManifest());
        manifest.putAll(backbone.toManifest());
        manifest.put("pretrain", toManifest());
        Pretrainer.Builder pb = Pretrainer.builder().setDataset(train).setRecipe(recipe).setMethod(ssl).setOptimizer(opt)
                .setEpochs(epochs).setBatchSize(batchSize).setOut(out).optSeed(seed).optSaveEvery(saveEvery)
                .optKeepLast(keepLast == 0 ? Integer.MAX_VALUE : keepLast)
                .optWorkers(workers == null ? Runtime.getRuntime().availableProcessors() : workers)
                .optProgress(ProgressBar.forConsole(System.out, logEvery)).optManifest(manifest);
        if (monitorSubset > 0) {
            DrMonitor monitor = DrMonitor.create(train, normalizeFor(train), Math.min(monitorSubset, train.size()), seed);
            if (monitorPatience > 0) {
                monitor = monitor.withPatience(monitorPatience, 0.0);
            }
            pb.optEpochListener(monitor, List.of(DrMonitor.COLUMN));
        }
        Pretrainer p = pb.build();
        LOG.info("pretrain {} on {} ({} images, {} steps/epoch), recipe {}, {}", m, train.name(), train.size(),
                stepsPerEpoch, recipe.name(), opt.toMap());
        TrainingLoop.Result r = p.run(resume);
        System.out.printf(Locale.ROOT, "done: %d epochs, %d steps, last loss %.4f, checkpoint %s%n",
                r.epochsCompleted(), r.globalSteps(), r.lastLoss(),
                r.lastCheckpoint() == null ? "none" : r.lastCheckpoint().path());
        return 0;
    }

    /** Checks the flags; errors name the flag and list valid values. */
    void validate() {
        data.validate();
        String m = method == null ? "" : method.toLowerCase(Locale.ROOT);
        if (!Methods.NAMES.contains(m)) {
            throw new IllegalArgumentException("--method '" + method + "' is not one of " + String.join(", ", Methods.NAMES));
        }
        requireOneOf("--optimizer", optimizer, OPTIMIZERS);
        requireOneOf("--schedule", schedule, SCHEDULES);
        positive("--epochs", epochs);
        positive("--batch-size", batchSize);
        positive("--save-every", saveEvery);
        positive("--queue-size", queueSize);
        positive("--log-every", logEvery);
        if (batchSize < 2) {
            throw new IllegalArgumentException("--batch-size must be at least 2, got " + batchSize);
        }
        if (keepLast < 0) {
            throw new IllegalArgumentException("--keep-last must be >= 0 (0 = keep all), got " + keepLast);
        }
        if (cropScaleMin != null && !(cropScaleMin > 0 && cropScaleMin <= 1)) {
            throw new IllegalArgumentException("--crop-scale-min must be in (0, 1], got " + cropScaleMin);
        }
        if (!(jitterStrength >= 0)) {
            throw new IllegalArgumentException("--jitter-strength must be >= 0, got " + jitterStrength);
        }
        if (monitorSubset < 0 || monitorSubset == 1 || monitorPatience < 0) {
            throw new IllegalArgumentException("--monitor-subset must be 0 (off) or at least 2 and --monitor-patience >= 0, got "
                    + monitorSubset + " and " + monitorPatience);
        }
        if (warmupEpochs < 0) {
            throw new IllegalArgumentException("--warmup-epochs must be >= 0, got " + warmupEpochs);
        }
        if (localCrops < 0) {
            throw new IllegalArgumentException("--local-crops must be >= 0, got " + localCrops);
        }
        if (lr != null && !(lr > 0)) {
            throw new IllegalArgumentException("--lr must be positive, got " + lr);
        }
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("--weight-decay must be >= 0, got " + weightDecay);
        }
        if (workers != null && workers < 1) {
            throw new IllegalArgumentException("--workers must be at least 1, got " + workers);
        }
    }

    private void checkResumable() {
        if (!RunDirectory.exists(out)) {
            throw new IllegalArgumentException("--resume: " + out + " holds no run (no manifest.json)");
        }
        Object cfg = RunDirectory.open(out).manifest().get("config");
        Object recorded = cfg instanceof Map<?, ?> c ? c.get("method") : null;
        if (recorded != null && !recorded.equals(method.toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException("--resume: the run in " + out + " was trained with --method " + recorded
                    + ", not " + method);
        }
    }

    private static void requireOneOf(String flag, String value, List<String> valid) {
        if (value == null || !valid.contains(value.toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException(flag + " '" + value + "' is not one of " + String.join(", ", valid));
        }
    }

    private static void positive(String flag, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(flag + " must be positive, got " + v);
        }
    }

    /** @return the peak learning rate: --lr, or the optimiser's default */
    double learningRate() {
        if (lr != null) {
            return lr;
        }
        return switch (optimizer.toLowerCase(Locale.ROOT)) {
            case "sgd" -> 0.03 * batchSize / 256.0;
            case "lars" -> 0.3 * batchSize / 256.0;
            default -> 1e-3;
        };
    }

    /** @return warm-up epochs actually used: the flag, cut to epochs / 10 when the run is short */
    int effectiveWarmupEpochs() {
        return Math.min(warmupEpochs, epochs / 10);
    }

    OptimizerConfig optimizer(int stepsPerEpoch) {
        double base = learningRate();
        OptimizerConfig o = switch (optimizer.toLowerCase(Locale.ROOT)) {
            case "sgd" -> OptimizerConfig.sgd(base, momentum).withWeightDecay(weightDecay);
            case "lars" -> OptimizerConfig.lars(base, momentum, weightDecay);
            default -> OptimizerConfig.adam(base).withWeightDecay(weightDecay);
        };
        int total = Math.toIntExact((long) epochs * stepsPerEpoch);
        ISchedule s = switch (schedule.toLowerCase(Locale.ROOT)) {
            case "warmup-cosine" -> new WarmupCosineSchedule(base, 0, Math.min(effectiveWarmupEpochs() * stepsPerEpoch,
                    total - 1), total);
            case "cosine" -> WarmupCosineSchedule.cosine(base, 0, total);
            case "exponential" -> new ExponentialDecaySchedule(base, base * 1e-3, total);
            default -> new ConstantSchedule(base);
        };
        return o.withSchedule(s);
    }

    /**
     * The method's augmentation recipe at the dataset's image size (see the class comment).
     *
     * @param method     registry name
     * @param data       the training images (size and channels decide CIFAR- or ImageNet-style)
     * @param localCrops swav's local views
     */
    static Recipe recipeFor(String method, ImageDataset data, int localCrops) {
        return recipeFor(method, data, localCrops, 0.5, null);
    }

    /**
     * As {@link #recipeFor(String, ImageDataset, int)} with SimCLR's colour-jitter strength and crop lower bound
     * ({@code null}: the paper's for the image size).
     */
    static Recipe recipeFor(String method, ImageDataset data, int localCrops, double jitterStrength, Double cropScaleMin) {
        return recipeFor(method, data.channels(), data.height(), data.width(), localCrops, jitterStrength, cropScaleMin);
    }

    /**
     * As {@link #recipeFor(String, ImageDataset, int, double, Double)} from the image shape alone, so that a process
     * without the dataset (a Spark worker) rebuilds the same recipe.
     */
    public static Recipe recipeFor(String method, int channels, int height, int width, int localCrops,
                                   double jitterStrength, Double cropScaleMin) {
        int size = Math.min(height, width);
        boolean small = size < 64;
        Normalize norm = org.umm4j.eval.FeatureExtractor.normalizeFor(small ? "cifar" : "imagenet", channels);
        String tag = method + "-" + size;
        return switch (method) {
            case "byol", "simsiam", "barlow", "vicreg", "vicregl" -> Recipes.asymmetric(tag, size, !small, norm);
            case "swav" -> Recipes.swav(tag, size, small ? Math.max(1, size / 2) : Math.max(1, size * 96 / 224),
                    localCrops, !small, norm);
            default -> Recipes.simclr(tag, size, cropScaleMin != null ? cropScaleMin : small ? 0.2 : 0.08, jitterStrength,
                    small ? 0 : 0.5, norm);
        };
    }

    /** @return CIFAR-10 normalisation for images below 64 px, ImageNet's otherwise */
    static Normalize normalizeFor(ImageDataset data) {
        return org.umm4j.eval.FeatureExtractor.normalizeFor(data);
    }

    /** @return this command's own flags for the manifest */
    Map<String, Object> toManifest() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", method.toLowerCase(Locale.ROOT));
        m.put("epochs", epochs);
        m.put("batchSize", batchSize);
        m.put("optimizer", optimizer.toLowerCase(Locale.ROOT));
        m.put("lr", learningRate());
        m.put("momentum", momentum);
        m.put("weightDecay", weightDecay);
        m.put("schedule", schedule.toLowerCase(Locale.ROOT));
        m.put("warmupEpochs", effectiveWarmupEpochs());
        m.put("objectiveParams", new LinkedHashMap<>(objectiveParams));
        m.put("queueSize", queueSize);
        m.put("localCrops", localCrops);
        m.put("jitterStrength", jitterStrength);
        m.put("cropScaleMin", cropScaleMin);
        m.put("seed", seed);
        return m;
    }
}
