package org.umm4j.ssl;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.umm4j.backend.Umm4jBackend;
import org.umm4j.nn.Backbone;
import org.umm4j.nn.ExternalGradients;
import org.umm4j.nn.WorkspaceBackprop;
import org.umm4j.nn.Heads;
import org.umm4j.nn.MlpHeadConfig;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.ResNets;
import org.umm4j.nn.Taps;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * The one implementation of {@link SslMethod} behind {@link Methods}: online network = backbone + heads, the
 * objective, and the target kind of the registry line. See {@link SslMethod} for the step.
 *
 * <p>EMA targets (BYOL, MoCo v2's key encoder) are a backbone with the first head only (the projector),
 * updated after each step by {@code t <- tau t + (1 - tau) o} over every parameter of the same name, BatchNorm
 * running statistics included; they run in training mode (batch statistics) as in the BYOL paper. BYOL's tau
 * follows {@link MomentumSchedule#cosine}; MoCo v2 keeps m = 0.99 ({@value #MOCO_MOMENTUM}).
 *
 * <p><b>SwAV</b> (Caron et al. 2020). The prototypes C [D, K] (K = 3000 scaled by the head scale, at least 2,
 * {@link #prototypeCount}) are an array outside the graph: initialised with unit-norm Gaussian
 * columns from the method seed, L2-normalised column-wise at the start of every step (as SwAV normalises its
 * prototype layer before each forward pass), and stepped with {@link LossAndGradients#parameterGradient} by a
 * one-array updater of the same family, learning rate and schedule as the network's biases (Adam for adam; heavy-ball
 * SGD for sgd and lars: no trust ratio and no weight decay on the prototypes), whose state is checkpointed. As in
 * the paper they stay frozen during the first {@value #SWAV_FREEZE_EPOCHS} epoch(s). Multi-crop: the V views are
 * grouped by spatial size (2 global + local views of {@code Recipes.swavCifar}), each group is stacked into one batch
 * and run through the graph once; after the loss, each group is back-propagated in turn (the last one directly, the
 * others after a second forward pass, because DL4J keeps only the activations of the last pass) and the parameter
 * gradients are summed before one optimiser step. BatchNorm thus normalises each size group with its own batch
 * statistics (as SwAV's per-size forward passes do); the re-run groups update the BN running averages twice. No
 * queue of past scores (SwAV adds one only for batches below 256 on ImageNet).
 *
 * <p><b>VICRegL</b> (Bardes et al. 2022). The graph has two outputs: the expander on the pooled features (global
 * z) and a local projector on the stage-4 feature map (per-location MLP as 1x1 convolutions, widths 512-512-512
 * scaled by the head scale, BN + ReLU between; our choice, far cheaper than the global expander). Both epsilons go
 * back with {@code backpropGradient(epsGlobal, epsLocal)}. Coordinates: {@code MultiViewBatch} carries no crop
 * boxes, so every view uses the same grid convention: location (i, j) of an H x W map sits at
 * ((j + 0.5) / W, (i + 0.5) / H) in the view's own unit frame. The location-based matching therefore pairs equal
 * grid cells (exact when both crops cover the same region, an approximation otherwise), while the feature-based
 * matching is unaffected. gamma (matches kept per image) defaults to 20/49 of the L locations (the paper keeps 20 of
 * a 7x7 map), at most 20 and at least 1 ({@link #defaultGamma}).
 *
 * <p><b>SuperInfo</b> (arXiv 2408.10292, reconstructed, see {@link SuperInfo}). Two parallel heads on the pooled
 * features, {@code mu} and {@code logvar} (each 2048-128 scaled), are the two graph outputs. Each step draws the
 * standard-normal noise of the reparameterised samples from a generator seeded by (method seed, iteration), so a
 * resumed run draws the same noise; the gradient reaches the log-variance head through the samples and the KL terms.
 */
final class ComposedMethod implements SslMethod {
    static final double MOCO_MOMENTUM = 0.99;
    static final String TARGET = "target";
    static final String QUEUE = "queue";
    /** name of the prototypes in the checkpoint (and of the objective extra) */
    static final String PROTOTYPES = SwAV.PROTOTYPES;
    /** name of the prototypes' updater state in the checkpoint */
    static final String PROTOTYPES_UPDATER = "prototypesUpdater";
    /** epochs during which SwAV's prototypes stay fixed */
    static final int SWAV_FREEZE_EPOCHS = 1;
    /** name of VICRegL's local projector output vertex */
    static final String LOCAL = "local";
    /** VICRegL's local projector widths before scaling */
    static final int[] LOCAL_WIDTHS = {512, 512, 512};

    private final String name;
    private final Objective objective;
    private final MethodConfig config;
    private final List<MlpHeadConfig> heads;
    private final Methods.Targets targets;
    private final MomentumSchedule tauSchedule;
    private ComputationGraph target;
    private NegativeQueue queue;
    private INDArray prototypes;
    private INDArray protoState;
    private GradientUpdater<?> protoUpdater;

    ComposedMethod(String name, Objective objective, MethodConfig config, List<MlpHeadConfig> heads,
                   Methods.Targets targets) {
        this.name = name;
        this.objective = objective;
        this.config = config;
        this.heads = heads;
        this.targets = targets;
        this.tauSchedule = MomentumSchedule.cosine(config.totalSteps());
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Objective objective() {
        return objective;
    }

    @Override
    public Backbone createOnline() {
        return Backbone.create(config.backbone(), new org.nd4j.linalg.learning.config.Sgd(0.01),
                heads.toArray(MlpHeadConfig[]::new));
    }

    /**
     * The graph a trainer steps: the single-output backbone of {@link #createOnline()}, or for VICRegL and SuperInfo
     * a graph with two outputs (see the class comment). Backbone vertices have the same names either way.
     */
    @Override
    public ComputationGraph createOnlineGraph() {
        if (targets != Methods.Targets.LOCAL_MAPS && targets != Methods.Targets.GAUSSIAN) {
            return createOnline().graph();
        }
        ResNetConfig rc = config.backbone();
        ComputationGraphConfiguration.GraphBuilder gb = ResNets.graphBuilder(rc,
                new org.nd4j.linalg.learning.config.Sgd(0.01));
        String[] outs;
        if (targets == Methods.Targets.LOCAL_MAPS) {
            String global = Heads.addTo(gb, heads.get(0), Taps.POOL);
            String local = addLocalProjector(gb, rc, config.headScale());
            outs = new String[]{global, local};
        } else {
            outs = new String[]{Heads.addTo(gb, heads.get(0), Taps.POOL), Heads.addTo(gb, heads.get(1), Taps.POOL)};
        }
        ComputationGraph g = new ComputationGraph(gb.setOutputs(outs).build());
        g.init();
        return g;
    }

    /** VICRegL's per-location projector on {@link Taps#STAGE4}: 1x1 conv (no bias) + BN + ReLU per hidden width, then a 1x1 conv with bias. */
    private static String addLocalProjector(ComputationGraphConfiguration.GraphBuilder gb, ResNetConfig rc, double scale) {
        int in = rc.featureSize();
        String prev = Taps.STAGE4;
        int n = LOCAL_WIDTHS.length;
        for (int i = 0; i < n; i++) {
            int out = Math.max(1, (int) Math.round(LOCAL_WIDTHS[i] * scale));
            boolean last = i == n - 1;
            String conv = last ? LOCAL : LOCAL + "_conv" + (i + 1);
            gb.addLayer(conv, new ConvolutionLayer.Builder(1, 1).nIn(in).nOut(out).hasBias(last)
                    .convolutionMode(ConvolutionMode.Truncate).activation(Activation.IDENTITY)
                    .weightInit(WeightInit.RELU).build(), prev);
            prev = conv;
            if (!last) {
                gb.addLayer(LOCAL + "_bn" + (i + 1), new BatchNormalization.Builder().nIn(out).nOut(out).eps(1e-5)
                        .decay(0.9).build(), prev);
                gb.addLayer(LOCAL + "_relu" + (i + 1), new ActivationLayer.Builder().activation(Activation.RELU).build(),
                        LOCAL + "_bn" + (i + 1));
                prev = LOCAL + "_relu" + (i + 1);
            }
            in = out;
        }
        return LOCAL;
    }

    /** VICRegL's gamma for this backbone: round(20/49 L) clamped to [1, 20], L = locations of the stage-4 map. */
    static int defaultGamma(ResNetConfig rc) {
        Map<String, InputType> types = ResNets.configuration(rc).getLayerActivationTypes(
                InputType.convolutional(rc.height(), rc.width(), rc.inputChannels()));
        InputType.InputTypeConvolutional t = (InputType.InputTypeConvolutional) types.get(Taps.STAGE4);
        long l = t.getHeight() * t.getWidth();
        return (int) Math.max(1, Math.min(VicRegL.DEFAULT_GAMMA, Math.round(l * VicRegL.DEFAULT_GAMMA / 49.0)));
    }

    /** SwAV's prototype count: 3000 scaled by the head scale, at least 2. */
    static int prototypeCount(double headScale) {
        return Math.max(2, (int) Math.round(3000 * headScale));
    }

    @Override
    public boolean acceptsViews(int numViews) {
        if (targets == Methods.Targets.PROTOTYPES) {
            int a = (int) Math.round(objective.hyperParameters().get("assignViews"));
            return numViews >= Math.max(2, a);
        }
        return numViews == 2;
    }

    @Override
    public void attach(ComputationGraph online) {
        if (targets == Methods.Targets.EMA || targets == Methods.Targets.QUEUE) {
            target = Backbone.create(config.backbone(), new org.nd4j.linalg.learning.config.Sgd(0.01), heads.get(0))
                    .graph();
            copyMatching(online, target);
        }
        if (targets == Methods.Targets.QUEUE) {
            queue = NegativeQueue.random(config.queueSize(), heads.get(0).outputSize(),
                    online.params().dataType(), config.seed());
        }
        if (targets == Methods.Targets.PROTOTYPES) {
            int d = heads.get(0).outputSize();
            int k = prototypeCount(config.headScale());
            SplittableRandom rnd = new SplittableRandom(config.seed() ^ 0x5A5A_5A5AL);
            double[] c = new double[d * k];
            for (int i = 0; i < c.length; i++) {
                c[i] = rnd.nextGaussian();
            }
            prototypes = normalizeColumns(Nd4j.create(c, new long[]{d, k}, DataType.DOUBLE)
                    .castTo(online.params().dataType()));
            protoState = null;
            protoUpdater = null;
        }
    }

    /** @return {@code c} with unit-norm columns, in place */
    private static INDArray normalizeColumns(INDArray c) {
        INDArray norms = c.norm2(0).reshape(1, c.columns());
        return c.diviRowVector(norms.addi(1e-12));
    }

    /** Copies every parameter of {@code from} whose name exists in {@code to}. */
    static void copyMatching(ComputationGraph from, ComputationGraph to) {
        Map<String, INDArray> src = from.paramTable();
        for (Map.Entry<String, INDArray> e : to.paramTable().entrySet()) {
            INDArray s = src.get(e.getKey());
            if (s == null) {
                throw new IllegalStateException("online network has no parameter '" + e.getKey() + "' for the target");
            }
            e.getValue().assign(s);
        }
    }

    @Override
    public StepOutput step(ComputationGraph online, List<INDArray> views, long iteration, int epoch) {
        Objects.requireNonNull(online, "online");
        if (views == null || !acceptsViews(views.size())) {
            throw new IllegalArgumentException(name + " takes " + (targets == Methods.Targets.PROTOTYPES
                    ? "2 or more" : "2") + " views per batch, got " + (views == null ? "null" : views.size()));
        }
        if ((targets == Methods.Targets.EMA || targets == Methods.Targets.QUEUE) && target == null
                || targets == Methods.Targets.PROTOTYPES && prototypes == null) {
            throw new IllegalStateException(name + ": call attach(online) or restoreAuxiliary(...) before step");
        }
        int n = (int) views.get(0).size(0);
        for (int v = 1; v < views.size(); v++) {
            if (views.get(v).size(0) != n) {
                throw new IllegalArgumentException("views have " + n + " and " + views.get(v).size(0) + " samples");
            }
        }
        int outputs = targets == Methods.Targets.LOCAL_MAPS || targets == Methods.Targets.GAUSSIAN ? 2 : 1;
        if (online.getNumOutputArrays() != outputs) {
            throw new IllegalArgumentException(name + " needs an online graph with " + outputs + " output(s) (use "
                    + "createOnlineGraph()), got " + online.getNumOutputArrays());
        }
        online.getConfiguration().setTrainingWorkspaceMode(WorkspaceMode.NONE);
        if (targets == Methods.Targets.PROTOTYPES) {
            return swavStep(online, views, iteration, epoch, n);
        }
        LossAndGradients lg = workspacePath() ? workspaceLossAndBackprop(online, views, iteration, n)
                : lossAndBackprop(online, views, iteration, n);
        ExternalGradients.applyUpdater(online, lastGradient, (int) iteration, epoch);
        if (targets == Methods.Targets.EMA) {
            ema(online, target, tauSchedule.tau(iteration));
        } else if (targets == Methods.Targets.QUEUE) {
            ema(online, target, MOCO_MOMENTUM);
            queue.enqueue(targetOutput(views.get(0)));
        }
        return new StepOutput(lg.loss(), new LinkedHashMap<>(lg.parts()));
    }

    /** the Gradient of the last backward pass (entries are views of the graph's flattened gradient) */
    private Gradient lastGradient;

    Gradient lastGradientForTest() {
        return lastGradient;
    }

    /** Twin of the online graph for {@link WorkspaceBackprop} (rebuilt when the online graph's arrays change). */
    private WorkspaceBackprop workspaceTwin;

    /** Tests force either path; null follows {@link WorkspaceBackprop#enabled()}. */
    private Boolean workspaceOverride;

    void workspacePathForTest(boolean on) {
        workspaceOverride = on;
    }

    WorkspaceBackprop workspaceTwinForTest() {
        return workspaceTwin;
    }

    /** Every method takes the fast path unless it is switched off. */
    private boolean workspacePath() {
        return workspaceOverride != null ? workspaceOverride : WorkspaceBackprop.enabled();
    }

    /**
     * {@link #lossAndBackprop} through DL4J's training path with workspaces on ({@link WorkspaceBackprop}): the same
     * forward pass, objective and backward pass, with the activations in reused buffers.
     */
    LossAndGradients workspaceLossAndBackprop(ComputationGraph online, List<INDArray> views, long iteration, int n) {
        if (workspaceTwin == null || !workspaceTwin.isFor(online)) {
            workspaceTwin = new WorkspaceBackprop(online);
        }
        Umm4jBackend.useFastBatchNorm(online); // the online graph shows the configured helpers (its twin uses its own)
        INDArray x = Nd4j.concat(0, views.get(0), views.get(1));
        // before the twin's pass: the target network must not run inside the twin's workspaces
        INDArray t = targetOutputIfAny(x);
        List<String> read = targets == Methods.Targets.SELF ? List.of(heads.get(0).name()) : List.of();
        LossAndGradients[] result = new LossAndGradients[1];
        lastGradient = workspaceTwin.backprop(x, read, f -> {
            LossAndGradients lg = objective.compute(objectiveInput(f.outputs(), f.activations(), t, iteration, n));
            result[0] = lg;
            return outputGradients(lg, f.outputs().size());
        });
        return result[0];
    }

    /**
     * Forward pass of the two stacked views, the objective, and the backward pass: the graph's flattened gradient
     * then holds dL/dtheta (no optimiser step, no auxiliary update). Used by {@link #step} and by the gradient tests.
     */
    LossAndGradients lossAndBackprop(ComputationGraph online, List<INDArray> views, long iteration, int n) {
        online.getConfiguration().setTrainingWorkspaceMode(WorkspaceMode.NONE);
        Umm4jBackend.useFastBatchNorm(online);
        INDArray x = Nd4j.concat(0, views.get(0), views.get(1));
        Map<String, INDArray> acts = online.feedForward(new INDArray[]{x}, true, false);
        List<INDArray> outs = new ArrayList<>();
        for (String o : online.getConfiguration().getNetworkOutputs()) {
            outs.add(acts.get(o));
        }
        Map<String, INDArray> read = targets == Methods.Targets.SELF
                ? Map.of(heads.get(0).name(), acts.get(heads.get(0).name()).dup()) : Map.of();
        LossAndGradients lg = objective.compute(objectiveInput(outs, read, targetOutputIfAny(x), iteration, n));
        List<INDArray> grads = outputGradients(lg, outs.size());
        INDArray[] eps = new INDArray[grads.size()];
        for (int k = 0; k < eps.length; k++) {
            eps[k] = grads.get(k).castTo(outs.get(k).dataType());
        }
        lastGradient = online.backpropGradient(eps);
        return lg;
    }

    /** The target network's output for EMA and queue targets, else null. */
    private INDArray targetOutputIfAny(INDArray x) {
        return targets == Methods.Targets.EMA || targets == Methods.Targets.QUEUE ? targetOutput(x) : null;
    }

    /**
     * The objective's input from the online outputs of the stacked views (rows 0..n-1 view 1, n..2n-1 view 2).
     *
     * @param outs the graph's outputs: projections [2n, D] (and VICRegL's maps [2n, C, H, W] or SuperInfo's
     *             log-variances [2n, D])
     * @param read SimSiam: the projector output (the stop-gradient target) under the projector head's name
     * @param t    the target network's output [2n, D] for EMA and queue targets, else null
     */
    private ObjectiveInput objectiveInput(List<INDArray> outs, Map<String, INDArray> read, INDArray t, long iteration,
                                          int n) {
        INDArray out = outs.get(0);
        INDArray o1 = rows(out, 0, n);
        INDArray o2 = rows(out, n, 2 * n);
        return switch (targets) {
            case NONE -> ObjectiveInput.of(o1, o2);
            case SELF -> {
                INDArray z = read.get(heads.get(0).name());
                yield ObjectiveInput.withTargets(o1, o2, rows(z, 0, n), rows(z, n, 2 * n));
            }
            case EMA -> ObjectiveInput.withTargets(o1, o2, rows(t, 0, n), rows(t, n, 2 * n));
            // symmetric MoCo: q1 against k2 and q2 against k1
            case QUEUE -> new ObjectiveInput(List.of(o1, o2), List.of(rows(t, n, 2 * n), rows(t, 0, n)),
                    Map.of(QUEUE, queue.negatives()));
            case LOCAL_MAPS -> {
                INDArray y = outs.get(1);
                INDArray coords = gridCoords(n, (int) y.size(2), (int) y.size(3), y.dataType());
                yield new ObjectiveInput(List.of(o1, o2, maps(y, 0, n), maps(y, n, 2 * n)), List.of(),
                        Map.of("coords1", coords, "coords2", coords));
            }
            case GAUSSIAN -> {
                INDArray lv = outs.get(1);
                yield new ObjectiveInput(List.of(o1, o2, rows(lv, 0, n), rows(lv, n, 2 * n)), List.of(),
                        Map.of(SuperInfo.NOISE1, noise(iteration, 1, o1), SuperInfo.NOISE2, noise(iteration, 2, o2)));
            }
            case PROTOTYPES -> throw new IllegalStateException("swav steps through swavStep");
        };
    }

    /** dL/d(output) per graph output: the two views' gradients stacked back into [2n, ...] for each output. */
    private static List<INDArray> outputGradients(LossAndGradients lg, int outputs) {
        List<INDArray> g = new ArrayList<>();
        for (int k = 0; k < outputs; k++) {
            g.add(Nd4j.concat(0, lg.gradient(2 * k), lg.gradient(2 * k + 1)));
        }
        return g;
    }

    /** The VICRegL grid convention: [N, H W, 2] with (x, y) = ((j + 0.5) / W, (i + 0.5) / H) in row-major (i, j). */
    static INDArray gridCoords(int n, int h, int w, DataType type) {
        double[] c = new double[n * h * w * 2];
        int k = 0;
        for (int s = 0; s < n; s++) {
            for (int i = 0; i < h; i++) {
                for (int j = 0; j < w; j++) {
                    c[k++] = (j + 0.5) / w;
                    c[k++] = (i + 0.5) / h;
                }
            }
        }
        return Nd4j.create(c, new long[]{n, (long) h * w, 2}, DataType.DOUBLE).castTo(type);
    }

    /** Standard-normal noise shaped like {@code like}, seeded by (method seed, iteration, view). */
    private INDArray noise(long iteration, int view, INDArray like) {
        SplittableRandom rnd = new SplittableRandom(config.seed() * 0x9E3779B97F4A7C15L + iteration * 31 + view);
        double[] e = new double[(int) like.length()];
        for (int i = 0; i < e.length; i++) {
            e[i] = rnd.nextGaussian();
        }
        return Nd4j.create(e, like.shape(), DataType.DOUBLE).castTo(like.dataType());
    }

    /**
     * SwAV with multi-crop: forward per size group, the objective over all views with the prototypes, then the
     * backward pass per group with summed parameter gradients, one optimiser step, and the prototype step.
     */
    private StepOutput swavStep(ComputationGraph online, List<INDArray> views, long iteration, int epoch, int n) {
        normalizeColumns(prototypes);
        LossAndGradients lg = swavLossAndBackprop(online, views, n);
        ExternalGradients.applyUpdater(online, lastGradient, (int) iteration, epoch);
        if (epoch >= SWAV_FREEZE_EPOCHS) {
            stepPrototypes(online, lg.parameterGradient(PROTOTYPES), iteration, epoch);
        }
        return new StepOutput(lg.loss(), new LinkedHashMap<>(lg.parts()));
    }

    /** The SwAV loss; leaves the parameter gradient summed over the size groups in the graph's flattened gradient. */
    LossAndGradients swavLossAndBackprop(ComputationGraph online, List<INDArray> views, int n) {
        online.getConfiguration().setTrainingWorkspaceMode(WorkspaceMode.NONE);
        Umm4jBackend.useFastBatchNorm(online);
        // views of equal spatial size form one group, in order of first appearance
        Map<String, List<Integer>> groups = new LinkedHashMap<>();
        for (int v = 0; v < views.size(); v++) {
            long[] s = views.get(v).shape();
            groups.computeIfAbsent(s[1] + "x" + s[2] + "x" + s[3], key -> new ArrayList<>()).add(v);
        }
        List<List<Integer>> order = new ArrayList<>(groups.values());
        String outName = online.getConfiguration().getNetworkOutputs().get(0);
        INDArray[] outs = new INDArray[views.size()];
        INDArray[] inputs = new INDArray[order.size()];
        for (int gi = 0; gi < order.size(); gi++) {
            inputs[gi] = Nd4j.concat(0, order.get(gi).stream().map(views::get).toArray(INDArray[]::new));
        }
        if (workspacePath()) {
            return swavWorkspaceLossAndBackprop(online, order, inputs, outs, n);
        }
        for (int gi = 0; gi < order.size(); gi++) {
            List<Integer> idx = order.get(gi);
            INDArray out = online.feedForward(new INDArray[]{inputs[gi]}, true, false).get(outName);
            for (int j = 0; j < idx.size(); j++) {
                outs[idx.get(j)] = rows(out, j * n, (j + 1) * n).dup();
            }
        }
        ObjectiveInput input = ObjectiveInput.ofViews(outs).withExtra(PROTOTYPES,
                prototypes.castTo(outs[0].dataType()));
        LossAndGradients lg = objective.compute(input);
        INDArray sum = null;
        for (int gi = order.size() - 1; gi >= 0; gi--) {
            List<Integer> idx = order.get(gi);
            if (gi != order.size() - 1) {
                // DL4J keeps the activations of the last forward pass only: run this group again
                online.feedForward(new INDArray[]{inputs[gi]}, true, false);
            }
            INDArray eps = Nd4j.concat(0, idx.stream().map(lg::gradient).toArray(INDArray[]::new))
                    .castTo(outs[0].dataType());
            lastGradient = online.backpropGradient(eps);
            INDArray flat = online.getFlattenedGradients();
            if (sum == null) {
                sum = flat.dup();
            } else {
                sum.addi(flat);
            }
        }
        online.getFlattenedGradients().assign(sum);
        return lg;
    }

    /**
     * {@link #swavLossAndBackprop} through {@link WorkspaceBackprop}: the groups but the last run forward in training
     * mode through DL4J's output path (batch statistics, nothing kept); the last group's twin call runs its forward,
     * the loss over all views and its backward; the other groups follow with a forward and backward each. The same
     * 2G - 1 forward passes as the external path, in DL4J's workspaces and with its forward cache.
     */
    private LossAndGradients swavWorkspaceLossAndBackprop(ComputationGraph online, List<List<Integer>> order,
                                                          INDArray[] inputs, INDArray[] outs, int n) {
        if (workspaceTwin == null || !workspaceTwin.isFor(online)) {
            workspaceTwin = new WorkspaceBackprop(online);
        }
        Umm4jBackend.useFastBatchNorm(online);
        int last = order.size() - 1;
        for (int gi = 0; gi < last; gi++) {
            INDArray out = online.output(true, inputs[gi])[0];
            scatterRows(out, order.get(gi), outs, n);
        }
        LossAndGradients[] result = new LossAndGradients[1];
        lastGradient = workspaceTwin.backprop(inputs[last], out -> {
            scatterRows(out, order.get(last), outs, n);
            LossAndGradients lg = objective.compute(ObjectiveInput.ofViews(outs).withExtra(PROTOTYPES,
                    prototypes.castTo(outs[0].dataType())));
            result[0] = lg;
            return groupGradient(lg, order.get(last));
        });
        if (last > 0) {
            INDArray sum = online.getFlattenedGradients().dup();
            for (int gi = last - 1; gi >= 0; gi--) {
                List<Integer> idx = order.get(gi);
                lastGradient = workspaceTwin.backprop(inputs[gi], out -> groupGradient(result[0], idx));
                sum.addi(online.getFlattenedGradients());
            }
            online.getFlattenedGradients().assign(sum);
        }
        return result[0];
    }

    /** Rows j n .. (j + 1) n of a group's output are view {@code idx[j]}'s output (copied). */
    private static void scatterRows(INDArray out, List<Integer> idx, INDArray[] outs, int n) {
        for (int j = 0; j < idx.size(); j++) {
            outs[idx.get(j)] = rows(out, j * n, (j + 1) * n).dup();
        }
    }

    /** The group's views' gradients stacked like its input. */
    private static INDArray groupGradient(LossAndGradients lg, List<Integer> idx) {
        return Nd4j.concat(0, idx.stream().map(lg::gradient).toArray(INDArray[]::new));
    }

    /** One step of the prototypes' own updater on dL/dC (see the class comment). */
    private void stepPrototypes(ComputationGraph online, INDArray grad, long iteration, int epoch) {
        long len = prototypes.length();
        if (protoUpdater == null) {
            IUpdater u = prototypeUpdater(online, heads.get(0).name());
            long size = u.stateSize(len);
            boolean fresh = protoState == null || protoState.length() != size;
            if (fresh) {
                protoState = Nd4j.zeros(prototypes.dataType(), 1, Math.max(1, size));
            }
            protoUpdater = size == 0 ? u.instantiate((INDArray) null, false) : u.instantiate(protoState, fresh);
        }
        INDArray g = grad.castTo(prototypes.dataType()).dup('c').reshape(1, len);
        protoUpdater.applyUpdater(g, (int) iteration, epoch);
        prototypes.subi(g.reshape(prototypes.shape()));
    }

    /** The updater of the projector's biases (no weight decay, no LARS adaptation), or of its weights when unset. */
    static IUpdater prototypeUpdater(ComputationGraph online, String layer) {
        org.deeplearning4j.nn.api.Layer l = online.getLayer(layer);
        if (l == null || !(l.conf().getLayer() instanceof BaseLayer bl)) {
            throw new IllegalStateException("online graph has no trainable layer '" + layer + "'");
        }
        IUpdater u = bl.getBiasUpdater() != null ? bl.getBiasUpdater() : bl.getIUpdater();
        if (u instanceof org.umm4j.train.Lars lars) {
            return new org.umm4j.train.SgdMomentum(lars.getLearningRate(), lars.getLearningRateSchedule(),
                    lars.getMomentum());
        }
        return u.clone();
    }

    /** The target's output in training mode (batch statistics); feedForward, since outputSingle(train) breaks on fixed-affine BN. */
    private INDArray targetOutput(INDArray x) {
        Umm4jBackend.useFastBatchNorm(target);
        Umm4jBackend.useFastConvolution(target, java.util.Set.of());
        if (workspacePath()) {
            // the same training-mode forward (batch statistics; nothing of the target is trained) through DL4J's
            // output path, in its workspaces, instead of keeping every activation of the target network
            return target.output(true, x)[0];
        }
        target.getConfiguration().setTrainingWorkspaceMode(WorkspaceMode.NONE);
        return target.feedForward(new INDArray[]{x}, true, true)
                .get(target.getConfiguration().getNetworkOutputs().get(0)).detach();
    }

    private static INDArray rows(INDArray a, int from, int to) {
        return a.get(NDArrayIndex.interval(from, to), NDArrayIndex.all());
    }

    private static INDArray maps(INDArray a, int from, int to) {
        return a.get(NDArrayIndex.interval(from, to), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all()).dup();
    }

    /** {@code t <- tau t + (1 - tau) o} for every target parameter. */
    static void ema(ComputationGraph online, ComputationGraph target, double tau) {
        Map<String, INDArray> src = online.paramTable();
        for (Map.Entry<String, INDArray> e : target.paramTable().entrySet()) {
            MomentumSchedule.update(e.getValue(), src.get(e.getKey()), tau);
        }
    }

    @Override
    public Map<String, ComputationGraph> auxiliaryGraphs() {
        return target == null ? Map.of() : Map.of(TARGET, target);
    }

    @Override
    public Map<String, INDArray> auxiliaryArrays() {
        Map<String, INDArray> m = new TreeMap<>();
        if (queue != null) {
            m.put(QUEUE, queue.negatives());
        }
        if (prototypes != null) {
            m.put(PROTOTYPES, prototypes);
            if (protoState != null) {
                m.put(PROTOTYPES_UPDATER, protoState);
            }
        }
        return m;
    }

    @Override
    public void restoreAuxiliary(Map<String, ComputationGraph> graphs, Map<String, INDArray> arrays) {
        if (targets == Methods.Targets.EMA || targets == Methods.Targets.QUEUE) {
            target = Objects.requireNonNull(graphs.get(TARGET), name + " checkpoint has no '" + TARGET + "' graph");
        }
        if (targets == Methods.Targets.QUEUE) {
            INDArray saved = Objects.requireNonNull(arrays.get(QUEUE), name + " checkpoint has no '" + QUEUE + "' array");
            queue = new NegativeQueue(config.queueSize(), (int) saved.columns(), saved.dataType());
            queue.enqueue(saved);
        }
        if (targets == Methods.Targets.PROTOTYPES) {
            prototypes = Objects.requireNonNull(arrays.get(PROTOTYPES), name + " checkpoint has no '" + PROTOTYPES
                    + "' array").dup('c');
            INDArray st = arrays.get(PROTOTYPES_UPDATER);
            protoState = st == null ? null : st.dup('c');
            protoUpdater = null;
        }
    }

    @Override
    public String toString() {
        return name + " " + new ArrayList<>(heads.stream().map(MlpHeadConfig::name).toList());
    }
}
