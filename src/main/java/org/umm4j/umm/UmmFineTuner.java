package org.umm4j.umm;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.umm4j.backend.Umm4jBackend;
import org.umm4j.data.DatasetChecksum;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.augment.MultiViewBatch;
import org.umm4j.data.augment.MultiViewBatchIterator;
import org.umm4j.data.augment.Recipe;
import org.umm4j.nn.Backbone;
import org.umm4j.nn.SplitBackbone;
import org.umm4j.nn.Taps;
import org.umm4j.ssl.SslMethod;
import org.umm4j.train.Checkpoint;
import org.umm4j.train.CheckpointData;
import org.umm4j.train.ExtraState;
import org.umm4j.train.OptimizerConfig;
import org.umm4j.train.ProgressBar;
import org.umm4j.train.RunDirectory;
import org.umm4j.train.StepContext;
import org.umm4j.train.StepResult;
import org.umm4j.train.TrainingConfig;
import org.umm4j.train.TrainingLoop;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * UMM fine-tuning ("Undoing Memorization Mechanism", Qiang, Song et al., arXiv 2410.00772; DESIGN.md section 4)
 * of a pretrained SSL run, on the {@link TrainingLoop} (run directory, metrics, atomic checkpoints, resume).
 *
 * <p>The source is a checkpoint of a {@code Pretrainer} run (its online graph: backbone + the method's heads, and
 * the method's auxiliary graphs such as BYOL's EMA target). The backbone is split at {@code tap} (default
 * {@link Taps#EARLY_DEFAULT}); f_e is frozen. Each step on a batch of two augmented views:
 * <ol>
 *   <li>(joint mode "SSL &amp; UMM" only) one full-network SSL step of the method, with the method's own optimiser
 *       ({@code jointOptimizer}, applied to the loop's graph) and auxiliary updates (EMA);</li>
 *   <li>early features {@code e_v = f_e(x_v)} (inference mode), computed once and reused by every oracle call;</li>
 *   <li>the {@link UmmProblem} is fixed on the batch (sketch directions, instance membership, targets);</li>
 *   <li>mode UMM: the {@link Hypergradient} ({@code unrolled} default, {@code neumann}) gives the update
 *       direction for theta (and phi, the projector, for neumann); mode SSL_LAST (the control): the plain
 *       gradient of L_SSL with respect to f_l;</li>
 *   <li>the direction is applied by Adam over the flat vector ({@link FlatAdam}, learning rate {@code lr}): the
 *       hypergradient is not the result of a graph's own backward pass, so a graph updater cannot consume it
 *       without faking a gradient; a flat Adam keeps the step explicit and its state (m, v) travels in the
 *       checkpoints as arrays {@code umm-adam-m}, {@code umm-adam-v} (and {@code -phi} for phi);</li>
 *   <li>f_l's new parameters are committed (BatchNorm running statistics take one step towards the batch
 *       statistics of the step's start, as in a PyTorch training step) and written back into the loop's graph, which is the FULL online network (backbone + heads): every
 *       checkpoint of a UMM run is therefore a complete online graph that restores and evaluates exactly like a
 *       pretraining checkpoint.</li>
 * </ol>
 * Stop-gradient targets (BYOL): the EMA target network restored from the source checkpoint gives the targets of
 * both views once per step, held fixed during the bi-level step; outside joint mode the target is not updated
 * (the UMM objective fine-tunes the online network against a frozen teacher). SimSiam and MoCo v2 are not
 * supported (self-targets and a queue would change within a step).
 *
 * <p>Logged per step: {@code loss} = L_SSL on the step's batch before the update (as training loops usually log it),
 * {@code dR} (instance membership of the configured kind, the pooled features of both views) before the update. Built with {@link #builder()}.
 */
public final class UmmFineTuner {
    private static final Logger LOG = LoggerFactory.getLogger(UmmFineTuner.class);
    private static final List<String> SUPPORTED = List.of("simclr", "barlow", "vicreg", "wmse", "byol");

    /** What the step trains. */
    public enum Mode {
        /** the UMM bi-level step */
        UMM,
        /** the control: plain SSL training of f_l (same split, same optimiser, same steps) */
        SSL_LAST
    }

    private final Checkpoint source;
    private final ImageDataset dataset;
    private final Recipe recipe;
    private final SslMethod method;
    private final Path out;
    private final int batchSize;
    private final String tap;
    private final UmmConfig umm;
    private final String hypergradientName;
    private final Hypergradient.Difference hvp;
    private final double innerLr;
    private final double lr;
    private final Mode mode;
    private final boolean joint;
    private final OptimizerConfig jointOptimizer;
    private final TrainingConfig training;
    private final Map<String, Object> extraManifest;
    private final ProgressBar progress;

    // per-run state, built lazily on the first step (after a resume the loop's graph is a restored copy)
    private Backbone backbone;
    private SplitBackbone split;
    private UmmProblem problem;
    private Hypergradient hypergradient;
    private final FlatAdam adamTheta;
    private final FlatAdam adamPhi;
    private ComputationGraph target;
    private MultiViewBatchIterator iterator;
    private int iteratorEpoch = -1;

    private UmmFineTuner(Builder b) {
        this.source = b.source;
        this.dataset = b.dataset;
        this.recipe = b.recipe;
        this.method = b.method;
        this.out = b.out;
        this.batchSize = b.batchSize;
        this.tap = b.tap;
        this.umm = b.umm;
        this.hypergradientName = b.hypergradient;
        this.hvp = b.hvp;
        this.innerLr = b.innerLr;
        this.lr = b.lr;
        this.mode = b.mode;
        this.joint = b.joint;
        this.jointOptimizer = b.jointOptimizer == null ? OptimizerConfig.adam(b.lr) : b.jointOptimizer;
        this.extraManifest = b.extraManifest;
        this.progress = b.progress;
        this.adamTheta = new FlatAdam(lr);
        this.adamPhi = new FlatAdam(lr);
        int steps = dataset.size() / batchSize;
        if (steps == 0) {
            throw new IllegalArgumentException("batch size " + batchSize + " exceeds the dataset size " + dataset.size());
        }
        this.training = new TrainingConfig(b.epochs, steps, b.seed, b.saveEvery, 1000, List.of("dR"));
        this.hypergradient = mode == Mode.UMM ? Hypergradient.byName(hypergradientName, innerLr, hvp) : null;
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /** @return steps per epoch (floor(dataset size / batch size)) */
    public int stepsPerEpoch() {
        return training.stepsPerEpoch();
    }

    /**
     * Resolves a source path: a run directory (its latest checkpoint) or one checkpoint directory.
     *
     * @throws IllegalArgumentException naming the path when it holds neither
     */
    public static Checkpoint resolveSource(Path path) {
        Objects.requireNonNull(path, "checkpoint path");
        if (Files.exists(path.resolve(RunDirectory.MANIFEST))) {
            return Checkpoint.latest(path).orElseThrow(() ->
                    new IllegalArgumentException("run directory " + path + " has no checkpoint yet"));
        }
        if (Files.isDirectory(path)) {
            return Checkpoint.open(path);
        }
        throw new IllegalArgumentException("--checkpoint " + path + " is neither a run directory nor a checkpoint directory");
    }

    /** @return the run directory a checkpoint belongs to ({@code RUN/checkpoints/epoch-N -> RUN}) */
    public static Path runDirectoryOf(Checkpoint c) {
        Path p = c.path().toAbsolutePath().getParent();
        return p == null ? null : p.getParent();
    }

    /** Runs from scratch, or resumes from the latest checkpoint of {@code out} when {@code resume}. */
    public TrainingLoop.Result run(boolean resume) {
        Umm4jBackend.init();
        RunDirectory run;
        if (resume) {
            run = RunDirectory.open(out);
        } else {
            Map<String, Object> cfg = new LinkedHashMap<>(extraManifest);
            cfg.put("method", method.name());
            cfg.put("objective", method.objective().hyperParameters());
            cfg.put("recipe", recipe.name());
            cfg.put("batchSize", batchSize);
            Map<String, Object> u = new LinkedHashMap<>(umm.toMap());
            u.put("source", source.path().toAbsolutePath().toString());
            u.put("tap", tap);
            u.put("mode", mode.name().toLowerCase(Locale.ROOT));
            u.put("hypergradient", hypergradientName);
            u.put("hvp", hvp.name().toLowerCase(Locale.ROOT));
            u.put("innerLr", innerLr);
            u.put("lr", lr);
            u.put("joint", joint);
            cfg.put("umm", u);
            cfg.put("training", training.toMap());
            run = RunDirectory.create(out, cfg, training.seed(), dataset.name(), DatasetChecksum.sha256(dataset));
        }
        try {
            TrainingLoop.Builder lb = TrainingLoop.builder().setRun(run).setConfig(training)
                    .setGraphFactory(this::freshGraph).setStepFunction(this::step).optExtraState(new State());
            if (progress != null) {
                lb.optProgress(progress);
            }
            TrainingLoop loop = lb.build();
            return resume ? loop.resume() : loop.run();
        } finally {
            if (iterator != null) {
                iterator.close();
                iterator = null;
            }
        }
    }

    private ComputationGraph freshGraph() {
        ComputationGraph g = jointOptimizer.applyTo(source.restoreGraph(false));
        restoreAuxiliary(source);
        return g;
    }

    private void restoreAuxiliary(Checkpoint c) {
        Map<String, ComputationGraph> graphs = new HashMap<>();
        for (String name : c.graphNames()) {
            graphs.put(name, c.restoreGraph(name, false));
        }
        Map<String, INDArray> arrays = new HashMap<>();
        for (String name : c.arrayNames()) {
            if (!name.startsWith("umm-")) {
                arrays.put(name, c.readArray(name));
            }
        }
        method.restoreAuxiliary(graphs, arrays);
        target = method.auxiliaryGraphs().get("target");
    }

    /** Builds the split and the problem from the loop's graph (first step of this JVM). */
    private void init(ComputationGraph graph) {
        backbone = method.createOnline();
        copyByName(graph, backbone.graph());
        split = backbone.split(tap);
        String projector = backbone.heads().isEmpty() ? null : backbone.heads().get(0).name();
        boolean phi = mode == Mode.UMM && hypergradient instanceof NeumannHypergradient;
        problem = new UmmProblem(split.last(), method.objective(), umm, projector, phi);
        LOG.info("UMM on {} split at {}: theta {} parameters, phi {}", method.name(), tap, problem.theta().length(),
                problem.phi().length());
    }

    private StepResult step(ComputationGraph graph, StepContext ctx) {
        if (iteratorEpoch != ctx.epoch()) {
            if (iterator != null) {
                iterator.close();
            }
            iterator = MultiViewBatchIterator.builder().setDataset(dataset).setRecipe(recipe).setBatchSize(batchSize)
                    .setSeed(training.seed()).optEpoch(ctx.epoch()).optShuffle(true).optDropLast(true).build();
            iteratorEpoch = ctx.epoch();
        }
        MultiViewBatch batch = iterator.next();
        List<INDArray> views = batch.views();
        if (problem == null) {
            init(graph);
        }
        if (joint) {
            method.step(graph, views, ctx.globalStep(), ctx.epoch());
            copyByName(graph, backbone.graph());
            split.refresh();
            problem.copyParametersFrom(split.last());
        }
        INDArray e1 = split.earlyFeatures(views.get(0));
        INDArray e2 = split.earlyFeatures(views.get(1));
        List<INDArray> targets = List.of();
        if (target != null) {
            INDArray x = Nd4j.concat(0, views.get(0), views.get(1));
            target.getConfiguration().setTrainingWorkspaceMode(org.deeplearning4j.nn.conf.WorkspaceMode.NONE);
            INDArray t = target.feedForward(new INDArray[]{x}, true, true)
                    .get(target.getConfiguration().getNetworkOutputs().get(0)).detach();
            int n = (int) views.get(0).size(0);
            targets = List.of(t.get(NDArrayIndex.interval(0, n), NDArrayIndex.all()),
                    t.get(NDArrayIndex.interval(n, 2 * n), NDArrayIndex.all()));
        }
        problem.setBatch(e1, e2, targets, ctx.rng().nextLong());
        INDArray theta = problem.theta();
        INDArray phi = problem.phi();
        INDArray dirTheta;
        INDArray dirPhi = null;
        if (mode == Mode.SSL_LAST) {
            dirTheta = problem.ssl(theta, phi, true).gradTheta();
        } else {
            Hypergradient.Directions d = hypergradient.compute(problem, theta, phi);
            dirTheta = d.theta();
            dirPhi = d.phi();
        }
        long t = ctx.globalStep() + 1;
        INDArray newTheta = adamTheta.step(theta, dirTheta, t);
        INDArray newPhi = dirPhi == null ? null : adamPhi.step(phi, dirPhi, t);
        Map<String, Double> parts = problem.commit(newTheta, newPhi);
        problem.copyParametersTo(split.last());
        split.writeBack();
        copyByName(backbone.graph(), graph);
        return new StepResult(parts.get("ssl"), batch.size(), Map.of()).withExtra("dR", parts.get("dR"));
    }

    private static void copyByName(ComputationGraph from, ComputationGraph to) {
        Map<String, INDArray> src = from.paramTable();
        for (Map.Entry<String, INDArray> e : to.paramTable().entrySet()) {
            INDArray s = src.get(e.getKey());
            if (s != null) {
                e.getValue().assign(s);
            }
        }
    }

    /** Adam state and the method's auxiliary state in the checkpoints. */
    private final class State implements ExtraState {
        @Override
        public void save(CheckpointData.Builder checkpoint) {
            method.auxiliaryGraphs().forEach(checkpoint::optGraph);
            method.auxiliaryArrays().forEach(checkpoint::optArray);
            List<String> saved = new ArrayList<>();
            if (adamTheta.m() != null) {
                checkpoint.optArray("umm-adam-m", adamTheta.m());
                checkpoint.optArray("umm-adam-v", adamTheta.v());
                saved.add("theta");
            }
            if (adamPhi.m() != null) {
                checkpoint.optArray("umm-adam-m-phi", adamPhi.m());
                checkpoint.optArray("umm-adam-v-phi", adamPhi.v());
                saved.add("phi");
            }
            checkpoint.optState("ummAdam", saved);
        }

        @Override
        public void restore(Checkpoint checkpoint) {
            restoreAuxiliary(checkpoint);
            if (checkpoint.arrayNames().contains("umm-adam-m")) {
                adamTheta.restore(checkpoint.readArray("umm-adam-m"), checkpoint.readArray("umm-adam-v"));
            }
            if (checkpoint.arrayNames().contains("umm-adam-m-phi")) {
                adamPhi.restore(checkpoint.readArray("umm-adam-m-phi"), checkpoint.readArray("umm-adam-v-phi"));
            }
        }
    }

    /** Builder: {@code setX} required, {@code optX} optional. */
    public static final class Builder {
        private Checkpoint source;
        private ImageDataset dataset;
        private Recipe recipe;
        private SslMethod method;
        private Path out;
        private Integer epochs;
        private Integer batchSize;
        private String tap = Taps.EARLY_DEFAULT;
        private UmmConfig umm = UmmConfig.defaults();
        private String hypergradient = "unrolled";
        private Hypergradient.Difference hvp = Hypergradient.Difference.FORWARD;
        private double innerLr = 0.01;
        private double lr = 1e-4;
        private Mode mode = Mode.UMM;
        private boolean joint;
        private OptimizerConfig jointOptimizer;
        private long seed = 42;
        private int saveEvery = 1;
        private Map<String, Object> extraManifest = Map.of();
        private ProgressBar progress;

        private Builder() {
        }

        /** The pretraining checkpoint to start from (see {@link #resolveSource}). */
        public Builder setSource(Checkpoint c) {
            this.source = c;
            return this;
        }

        /** The unlabelled training set (the one the source was pretrained on). */
        public Builder setDataset(ImageDataset d) {
            this.dataset = d;
            return this;
        }

        /** The method's augmentation recipe (two views). */
        public Builder setRecipe(Recipe r) {
            this.recipe = r;
            return this;
        }

        /** The source run's method (its objective, heads and auxiliary state). */
        public Builder setMethod(SslMethod m) {
            this.method = m;
            return this;
        }

        /** The run directory of the fine-tuning run. */
        public Builder setOut(Path p) {
            this.out = p;
            return this;
        }

        public Builder setEpochs(int e) {
            this.epochs = e;
            return this;
        }

        public Builder setBatchSize(int b) {
            this.batchSize = b;
            return this;
        }

        /** Early tap (default stage2). */
        public Builder optTap(String t) {
            this.tap = t;
            return this;
        }

        /** Loss weights and sketch settings (default {@link UmmConfig#defaults()}). */
        public Builder optUmm(UmmConfig c) {
            this.umm = c;
            return this;
        }

        /** {@code unrolled} (default) or {@code neumann}. */
        public Builder optHypergradient(String name) {
            this.hypergradient = name;
            return this;
        }

        /** Finite-difference scheme of the Hessian-vector products (default forward: one gradient less per step). */
        public Builder optHvp(Hypergradient.Difference d) {
            this.hvp = Objects.requireNonNull(d, "hvp");
            return this;
        }

        /** Inner learning rate eta of the unrolled step / Neumann alpha (default 0.01). */
        public Builder optInnerLr(double v) {
            this.innerLr = v;
            return this;
        }

        /** Adam learning rate of the outer update (default 1e-4). */
        public Builder optLr(double v) {
            this.lr = v;
            return this;
        }

        /** UMM (default) or the SSL_LAST control. */
        public Builder optMode(Mode m) {
            this.mode = m;
            return this;
        }

        /** Joint "SSL &amp; UMM": a full-network SSL step before each UMM step. */
        public Builder optJoint(boolean j) {
            this.joint = j;
            return this;
        }

        /** Optimiser of the joint mode's full-network SSL steps (default Adam at {@code lr}). */
        public Builder optJointOptimizer(OptimizerConfig o) {
            this.jointOptimizer = o;
            return this;
        }

        public Builder optSeed(long s) {
            this.seed = s;
            return this;
        }

        /** Checkpoint every this many epochs (default 1; the last is always saved). */
        public Builder optSaveEvery(int n) {
            this.saveEvery = n;
            return this;
        }

        /** Extra manifest config entries (e.g. the source run's dataset and backbone options). */
        public Builder optManifest(Map<String, Object> m) {
            this.extraManifest = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(m));
            return this;
        }

        public Builder optProgress(ProgressBar p) {
            this.progress = p;
            return this;
        }

        /** @return the fine-tuner; errors name the missing or invalid field */
        public UmmFineTuner build() {
            Objects.requireNonNull(source, "source is required (setSource)");
            Objects.requireNonNull(dataset, "dataset is required (setDataset)");
            Objects.requireNonNull(recipe, "recipe is required (setRecipe)");
            Objects.requireNonNull(method, "method is required (setMethod)");
            Objects.requireNonNull(out, "out is required (setOut)");
            Objects.requireNonNull(epochs, "epochs is required (setEpochs)");
            Objects.requireNonNull(batchSize, "batchSize is required (setBatchSize)");
            Objects.requireNonNull(umm, "umm");
            Objects.requireNonNull(mode, "mode");
            if (batchSize < 2) {
                throw new IllegalArgumentException("batchSize must be at least 2, got " + batchSize);
            }
            if (epochs < 1) {
                throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
            }
            if (!SUPPORTED.contains(method.name())) {
                throw new IllegalArgumentException("method '" + method.name() + "' is not supported by UMM fine-tuning; "
                        + "supported: " + String.join(", ", SUPPORTED));
            }
            if (recipe.numViews() != 2) {
                throw new IllegalArgumentException("recipe " + recipe.name() + " has " + recipe.numViews() + " views, expected 2");
            }
            if (!Taps.SPLITTABLE.contains(tap)) {
                throw new IllegalArgumentException("tap '" + tap + "' is not one of " + Taps.SPLITTABLE);
            }
            if (!(innerLr > 0) || !(lr > 0)) {
                throw new IllegalArgumentException("innerLr and lr must be positive, got " + innerLr + " and " + lr);
            }
            if (!Hypergradient.NAMES.contains(hypergradient)) {
                throw new IllegalArgumentException("hypergradient '" + hypergradient + "' is not one of " + Hypergradient.NAMES);
            }
            return new UmmFineTuner(this);
        }
    }
}
