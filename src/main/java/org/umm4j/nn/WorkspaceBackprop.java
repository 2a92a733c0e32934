package org.umm4j.nn;

import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.umm4j.backend.Umm4jBackend;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Forward and backward pass of a loss-free graph for a batch-level objective through DL4J's own training path, with
 * its workspaces on: the alternative to {@link ExternalGradients} (forward, external {@code dL/dz}, backward with
 * workspaces off) for graphs with one output.
 *
 * <p>How. A twin of the graph with a {@link LossLayer} (identity activation) on its output, whose loss function is
 * the objective bound for one call ({@link Bound}): DL4J's {@code computeGradientAndScore} runs the forward pass, asks
 * the loss layer for {@code dL/dz} (the objective's gradient of its batch-mean loss, returned as is), and back-propagates,
 * all inside its workspaces. Graphs with several outputs get one such loss layer per output; the objective runs once,
 * when DL4J asks the first of them, on all outputs at once (read from the loss layers' inputs, which the forward pass
 * has set by then), so objectives that couple the outputs (VICRegL's global and local terms, SuperInfo's mean and
 * log-variance) work unchanged. A 4-D output {@code [N, C, H, W]} reaches its loss layer flattened to
 * {@code [N, C H W]} (row-major; DL4J's {@code CnnToFeedForwardPreProcessor}); the objective sees and returns it in
 * its own shape. The objective may also read named activations inside the graph (SimSiam's projector output as the
 * stop-gradient target), copied out of the workspaces before it runs. The twin shares the original graph's parameter array and flattened gradient array
 * ({@code init(params, false)}, {@code setBackpropGradientsViewArray}): the returned {@link Gradient} is a set of views
 * of the original graph's gradient, so the original graph's updater ({@link ExternalGradients#applyUpdater}), its
 * BatchNorm running statistics and its checkpoints are unchanged in layout and meaning.
 *
 * <p>Why. Without workspaces every activation and gradient of a step is a fresh off-heap allocation (page faults,
 * zeroing, memory held until the garbage collector frees it); with them DL4J reuses its buffers. Measured on
 * ResNet-18 at width 0.25, batch 256 (benchmarks/README.md): 118.6 vs 95.3 images/s and 1.6 vs 4.7 GB peak RSS.
 *
 * <p>The twin also runs with DL4J's forward cache on ({@code CacheMode.DEVICE}): DL4J's convolution and dense layers
 * otherwise recompute their forward pass inside the backward pass to get the pre-activation {@code z}, even for an
 * identity activation, so every convolution ran forward twice per step (counted with oneDNN's verbose log: 40 instead
 * of 20 convolution forwards per ResNet-18 step). The cache keeps one copy of each {@code z} in the step's workspace
 * (width-64 SimCLR step: 21 % less CPU time, +25 % images/s, +0.7 GB resident memory). Convolutions on umm4j's oneDNN
 * helper with an identity activation skip that copy: the helper hands DL4J its output array itself as the cached
 * {@code z} ({@code Umm4jBackend.keepConvolutionOutputs}; the identity's derivative reads only its shape), which took
 * the width-16 SimCLR step from 175-195 to 205-221 images/s and its peak RSS from 1.0 to 0.8 GB.
 * {@code -Dumm4j.cachemode=false} turns the cache off.
 *
 * <p>ReLUs fused in the twin. In FLOAT graphs, each BatchNorm layer whose 4-D output feeds nothing but a plain ReLU
 * layer applies that ReLU itself (umm4j's BatchNorm helper: {@code max(BN(x), 0)} in its affine pass, the gradient
 * masked where the output was off inside its backward passes); in any graph, each residual sum feeding only a ReLU
 * becomes one {@link AddReluVertex}. The ReLU layers after them pass activations and gradients through
 * ({@link PassThroughRelu}). Activations an objective asks for are never fused (the twin is rebuilt if a later call
 * asks for one); {@code -Dumm4j.fuserelu=false} keeps the layers separate.
 *
 * <p>Numerics are those of {@link ExternalGradients} (same forward, same {@code dL/dz}, same backward): tested to
 * float rounding on SimCLR, Barlow Twins, BYOL, MoCo v2, SimSiam, VICRegL, SuperInfo and SwAV steps. {@code -Dumm4j.workspaces=false} turns the path off.
 */
public final class WorkspaceBackprop {
    private static final Logger LOG = LoggerFactory.getLogger(WorkspaceBackprop.class);
    /** Name of the loss layer vertex on the (first) output of the twin graph; output i > 0 gets this + "_" + i. */
    public static final String LOSS_VERTEX = "umm4j_objective";

    /** {@code -Dumm4j.cachemode=false} keeps DL4J's recomputation of each layer's forward pass in the backward pass. */
    private static final boolean CACHE = !"false".equalsIgnoreCase(System.getProperty("umm4j.cachemode", "true"));
    /** {@code -Dumm4j.fastrelu=false} keeps DL4J's ReLU backward pass in the twin's activation layers. */
    private static final boolean FAST_RELU = !"false".equalsIgnoreCase(System.getProperty("umm4j.fastrelu", "true"));
    /** {@code -Dumm4j.fuserelu=false} keeps the twin's BatchNorm layers, residual sums and ReLU layers separate. */
    private static final boolean FUSE_RELU = !"false".equalsIgnoreCase(System.getProperty("umm4j.fuserelu", "true"));

    private final ComputationGraph source;
    private final boolean cacheForward;
    private final boolean fastRelu;
    private final boolean fuseRelu;
    /** BatchNorm layers of the twin that apply the ReLU after them (their ReLU layers pass through) */
    private Set<String> fusedBatchNorms = Set.of();
    /** Layers of the twin reading the network input: their input gradient is never returned, so never computed */
    private Set<String> firstLayers = Set.of();
    /** Residual sums of the twin computed with the ReLU after them ({@link AddReluVertex}) */
    private Set<String> fusedAdds = Set.of();
    /** Convolutions of the twin whose output only a BatchNorm reads, kept in oneDNN's blocked layout for it */
    private Map<String, String> convBatchNorms = Map.of();
    /** BatchNorm (+ fused ReLU) layers of the twin whose output only a convolution reads, kept blocked for it */
    private Map<String, String> batchNormConvs = Map.of();
    /** The twin's residual-stream tensors kept blocked (empty before the first call or without any). */
    private ResidualStream stream = new ResidualStream(Map.of(), Map.of(), Map.of());
    /** How many of {@link #stream}'s tensors the twin's helpers keep blocked (0 until paired, or switched off). */
    private int streamTensors;
    /** Activations never to fuse away (requested by an objective so far) */
    private final Set<String> keep = new HashSet<>();
    /** ReLU activation layers of the twin running {@link StepReLU}'s backward pass */
    private int fastReLUs;
    private final INDArray params;
    private final INDArray gradients;
    private final List<String> outputs;
    /** Built at the first call, when the output shapes are known (4-D outputs need a flattening preprocessor). */
    private ComputationGraph twin;
    private List<Bound> losses;
    /** per output: the shape of one sample's output ([d] or [c, h, w]) */
    private List<long[]> sampleShapes;
    private INDArray[] labels;

    /** What an objective sees in one call: the outputs and the requested activations, copied out of the workspaces. */
    public record Forward(List<INDArray> outputs, Map<String, INDArray> activations) {
        /** Lists and map are copied (unmodifiable); the arrays are the call's own copies. */
        public Forward {
            outputs = List.copyOf(outputs);
            activations = Map.copyOf(activations);
        }

        /** @return the named activation requested by {@link #backprop(INDArray, Collection, Function)} */
        public INDArray activation(String name) {
            INDArray a = activations.get(name);
            if (a == null) {
                throw new IllegalArgumentException("activation '" + name + "' was not requested; requested: "
                        + activations.keySet());
            }
            return a;
        }
    }

    /**
     * @param graph a graph with one input, one or more outputs (2-D or 4-D) and no loss layer
     */
    public WorkspaceBackprop(ComputationGraph graph) {
        this(graph, CACHE, FAST_RELU, FUSE_RELU);
    }

    /**
     * @param graph        a graph with one input, one or more outputs and no loss layer
     * @param cacheForward whether layers cache their pre-activations in the forward pass for the backward pass
     * @param fastRelu     whether the twin's plain ReLU activation layers back-propagate with {@link StepReLU}
     * @param fuseRelu     whether BatchNorm layers (FLOAT graphs) and two-input sums whose only consumer is a plain
     *                     ReLU layer compute that ReLU themselves in the twin (see {@link PassThroughRelu},
     *                     {@link AddReluVertex})
     */
    WorkspaceBackprop(ComputationGraph graph, boolean cacheForward, boolean fastRelu, boolean fuseRelu) {
        Objects.requireNonNull(graph, "graph");
        if (graph.getNumInputArrays() != 1 || graph.getNumOutputArrays() < 1) {
            throw new IllegalArgumentException("graph must have one input and at least one output, has "
                    + graph.getNumInputArrays() + " and " + graph.getNumOutputArrays());
        }
        if (graph.getFlattenedGradients() == null) {
            graph.initGradientsView();
        }
        this.source = graph;
        this.cacheForward = cacheForward;
        this.fastRelu = fastRelu;
        this.fuseRelu = fuseRelu;
        this.params = graph.params();
        this.gradients = graph.getFlattenedGradients();
        this.outputs = List.copyOf(graph.getConfiguration().getNetworkOutputs());
    }

    /** @return the twin's loss vertex on output {@code i} */
    static String lossVertex(int i) {
        return i == 0 ? LOSS_VERTEX : LOSS_VERTEX + "_" + i;
    }

    /** Builds the twin: one loss layer per output (4-D outputs through a flattening preprocessor). */
    private void build(INDArray input, boolean fuse) {
        INDArray[] probe;
        Map<String, INDArray> probeActivations;
        try (MemoryWorkspace ws = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
            INDArray one = input.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 1)).dup();
            probe = source.output(false, one);
            probeActivations = fuse ? source.feedForward(one, false) : Map.of();
        }
        List<long[]> shapes = new ArrayList<>();
        TransferLearning.GraphBuilder tb = new TransferLearning.GraphBuilder(source);
        for (int i = 0; i < outputs.size(); i++) {
            long[] s = probe[i].shape();
            LossLayer layer = new LossLayer.Builder(new Bound()).activation(Activation.IDENTITY).build();
            if (s.length == 2) {
                tb.addLayer(lossVertex(i), layer, outputs.get(i));
            } else if (s.length == 4) {
                tb.addLayer(lossVertex(i), layer, new CnnToFeedForwardPreProcessor(s[2], s[3], s[1]), outputs.get(i));
            } else {
                throw new IllegalArgumentException("output '" + outputs.get(i) + "' has rank " + s.length
                        + " (shape " + Arrays.toString(s) + "); expected 2 ([N, D]) or 4 ([N, C, H, W])");
            }
            shapes.add(Arrays.copyOfRange(s, 1, s.length));
        }
        String[] losses = new String[outputs.size()];
        for (int i = 0; i < losses.length; i++) {
            losses[i] = lossVertex(i);
        }
        ComputationGraph built = tb.setOutputs(losses).build();
        ComputationGraphConfiguration conf = built.getConfiguration().clone();
        conf.setTrainingWorkspaceMode(WorkspaceMode.ENABLED);
        conf.setDataType(source.getConfiguration().getDataType()); // TransferLearning falls back to FLOAT
        int relus = 0;
        if (fastRelu) {
            // only the twin's own configuration changes: saved graphs keep DL4J's activation class
            for (GraphVertex v : conf.getVertices().values()) {
                if (v instanceof LayerVertex lv
                        && lv.getLayerConf().getLayer() instanceof ActivationLayer al
                        && al.getActivationFn().getClass() == ActivationReLU.class
                        && InferenceGraph.isPlainRelu(al.getActivationFn())) {
                    al.setActivationFn(new StepReLU());
                    relus++;
                }
            }
        }
        Map<String, String> fusedPairs = fuse ? fuseBatchNormRelu(conf, probeActivations) : Map.of();
        Map<String, String> addPairs = fuse ? fuseAddRelu(conf, probeActivations) : Map.of();
        if (cacheForward) {
            // DL4J's convolution and dense layers recompute their forward pass in the backward pass (to get the
            // pre-activation z for the activation's derivative, even for the identity) unless the forward pass caches
            // z; with the cache each convolution runs forward once per step instead of twice. The twin gets it
            // whatever the source graph says (TransferLearning drops the graph-level setting anyway).
            conf.setCacheMode(CacheMode.DEVICE);
        }
        ComputationGraph t = new ComputationGraph(conf);
        t.init(row(params), false);
        // the twin's own gradient view first (DL4J would otherwise create one at the first backward pass and point its
        // layers at it), then every layer's gradient views re-pointed into the original graph's flattened gradient
        t.initGradientsView();
        t.setBackpropGradientsViewArray(row(gradients));
        if (cacheForward) {
            t.setCacheMode(CacheMode.DEVICE); // the layers keep their own copy of the setting
        }
        if (!fusedPairs.isEmpty()) {
            Map<String, BooleanSupplier> checks =
                    Umm4jBackend.fuseBatchNormRelu(t, fusedPairs.keySet());
            if (!checks.keySet().equals(fusedPairs.keySet())) { // a helper could not fuse: build without fusion
                LOG.debug("BatchNorm helpers could not fuse ReLUs ({} of {}); twin built without fusion",
                        checks.size(), fusedPairs.size());
                build(input, false);
                return;
            }
            for (Map.Entry<String, String> e : fusedPairs.entrySet()) {
                ((PassThroughRelu) t.getLayer(e.getValue()).conf().getLayer()).bind(checks.get(e.getKey()));
            }
        }
        for (String relu : addPairs.values()) { // the add+relu vertex always applies the ReLU
            ((PassThroughRelu) t.getLayer(relu).conf().getLayer()).bind(() -> true);
        }
        // each layer holds its own copy of the configured loss function: bind those
        List<Bound> bounds = new ArrayList<>();
        for (String l : losses) {
            bounds.add((Bound) ((LossLayer) t.getLayer(l).conf().getLayer()).getLossFn());
        }
        this.twin = t;
        this.fusedBatchNorms = Set.copyOf(fusedPairs.keySet());
        Set<String> first = new HashSet<>();
        for (Map.Entry<String, List<String>> e : conf.getVertexInputs().entrySet()) {
            if (!Collections.disjoint(e.getValue(), conf.getNetworkInputs())) {
                first.add(e.getKey());
            }
        }
        this.firstLayers = Set.copyOf(first);
        this.fusedAdds = Set.copyOf(addPairs.keySet());
        this.convBatchNorms = Map.copyOf(convBatchNormPairs(conf));
        this.batchNormConvs = Map.copyOf(batchNormConvPairs(conf, convBatchNorms, fusedPairs));
        this.stream = residualStream(conf, convBatchNorms, fusedPairs, addPairs, batchNormConvs);
        this.streamTensors = 0;
        Set<String> relayedBatchNorms = new HashSet<>(batchNormConvs.keySet());
        for (Map.Entry<String, String> e : stream.producers().entrySet()) {
            if (addPairs.containsKey(e.getKey())) {
                String sum = e.getKey();
                ((PassThroughRelu) t.getLayer(e.getValue()).conf().getLayer()).bindBlockedRelay((eps, mgr) ->
                        Umm4jBackend.relaySumGradient(t, sum, eps, () -> mgr.leverageTo(
                                org.deeplearning4j.nn.workspace.ArrayType.ACTIVATION_GRAD, eps)));
            } else if (!e.getValue().equals(e.getKey())) {
                relayedBatchNorms.add(e.getKey());
            }
        }
        for (String bn : relayedBatchNorms) {
            ((PassThroughRelu) t.getLayer(fusedPairs.get(bn)).conf().getLayer()).bindBlockedRelay((eps, mgr) ->
                    Umm4jBackend.relayBlockedGradient(t, bn, eps, () -> mgr.leverageTo(
                            org.deeplearning4j.nn.workspace.ArrayType.ACTIVATION_GRAD, eps)));
        }
        this.fastReLUs = relus;
        this.losses = bounds;
        this.sampleShapes = shapes;
        LOG.debug("workspace twin built for graph {} ({} parameters, outputs {})", System.identityHashCode(source),
                params.length(), outputs);
    }

    /** {@code a} as a [1, n] view (DL4J's init wants that shape; some graphs hand out their arrays as [n]). */
    private static INDArray row(INDArray a) {
        return a.rank() == 2 ? a : a.reshape('c', 1, a.length());
    }

    /**
     * Turns each BatchNorm layer vertex of {@code conf} whose output is 4-D, is read by nothing but one plain ReLU
     * layer, is no network output and was never requested by an objective into a BatchNorm + ReLU pair: the ReLU
     * layer becomes a {@link PassThroughRelu}, the BatchNorm layer must not fall back from its helper silently.
     * Only for FLOAT graphs (the fused passes are FLOAT-only).
     *
     * @return BatchNorm vertex name to ReLU vertex name, for each pair
     */
    private Map<String, String> fuseBatchNormRelu(ComputationGraphConfiguration conf, Map<String, INDArray> probe) {
        Map<String, String> pairs = new LinkedHashMap<>();
        if (conf.getDataType() != DataType.FLOAT) {
            return pairs;
        }
        Map<String, Integer> consumers = consumerCounts(conf);
        for (Map.Entry<String, GraphVertex> e : conf.getVertices().entrySet()) {
            ActivationLayer al = plainRelu(conf, e.getKey(), e.getValue());
            if (al == null) {
                continue;
            }
            LayerVertex relu = (LayerVertex) e.getValue();
            List<String> ins = conf.getVertexInputs().get(e.getKey());
            String bn = ins.get(0);
            if (!(conf.getVertices().get(bn) instanceof LayerVertex bv)
                    || !(bv.getLayerConf().getLayer() instanceof BatchNormalization b)
                    || consumers.getOrDefault(bn, 0) != 1 || conf.getNetworkOutputs().contains(bn)
                    || keep.contains(bn) || probe.get(bn) == null || probe.get(bn).rank() != 4) {
                continue;
            }
            b.setCudnnAllowFallback(false); // a helper failure must surface, not run DL4J's BatchNorm without the ReLU
            relu.getLayerConf().setLayer(new PassThroughRelu(al.getActivationFn(), al.getLayerName()));
            pairs.put(bn, e.getKey());
        }
        return pairs;
    }

    /**
     * Turns each two-input sum ({@code ElementWiseVertex} Add) of {@code conf} whose output is read by nothing but one
     * plain ReLU layer, is no network output and was never requested by an objective into an {@link AddReluVertex}
     * followed by a {@link PassThroughRelu}.
     *
     * @return sum vertex name to ReLU vertex name, for each pair
     */
    private Map<String, String> fuseAddRelu(ComputationGraphConfiguration conf, Map<String, INDArray> probe) {
        Map<String, String> pairs = new LinkedHashMap<>();
        Map<String, Integer> consumers = consumerCounts(conf);
        for (Map.Entry<String, GraphVertex> e : conf.getVertices().entrySet()) {
            ActivationLayer al = plainRelu(conf, e.getKey(), e.getValue());
            if (al == null) {
                continue;
            }
            String sum = conf.getVertexInputs().get(e.getKey()).get(0);
            List<String> sumInputs = conf.getVertexInputs().get(sum);
            if (!(conf.getVertices().get(sum) instanceof ElementWiseVertex ew)
                    || ew.getOp() != ElementWiseVertex.Op.Add
                    || sumInputs == null || sumInputs.size() != 2 || consumers.getOrDefault(sum, 0) != 1
                    || conf.getNetworkOutputs().contains(sum) || keep.contains(sum) || probe.get(sum) == null
                    || probe.get(sumInputs.get(0)) == null || probe.get(sumInputs.get(1)) == null
                    || !Arrays.equals(probe.get(sumInputs.get(0)).shape(), probe.get(sumInputs.get(1)).shape())) {
                continue;
            }
            ((LayerVertex) e.getValue()).getLayerConf()
                    .setLayer(new PassThroughRelu(al.getActivationFn(), al.getLayerName()));
            pairs.put(sum, e.getKey());
        }
        for (String sum : pairs.keySet()) { // after the walk over the vertex map
            conf.getVertices().put(sum, new AddReluVertex());
        }
        return pairs;
    }

    /**
     * Convolution -> BatchNorm pairs whose edge can stay in oneDNN's blocked layout
     * ({@link Umm4jBackend#pairConvolutionBatchNorm}): a FLOAT graph, a plain NCHW convolution layer with identity
     * activation and no dropout, read by nothing but one BatchNorm layer (no preprocessor), not a network output and
     * never requested by an objective (its DL4J output array holds blocked data).
     */
    private Map<String, String> convBatchNormPairs(ComputationGraphConfiguration conf) {
        Map<String, String> pairs = new LinkedHashMap<>();
        if (conf.getDataType() != DataType.FLOAT) {
            return pairs;
        }
        Map<String, Integer> consumers = consumerCounts(conf);
        for (Map.Entry<String, List<String>> e : conf.getVertexInputs().entrySet()) {
            if (e.getValue().size() != 1) {
                continue;
            }
            String conv = e.getValue().get(0);
            if (conf.getVertices().get(e.getKey()) instanceof LayerVertex bv && bv.getPreProcessor() == null
                    && bv.getLayerConf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.BatchNormalization
                    && conf.getVertices().get(conv) instanceof LayerVertex cv
                    && cv.getLayerConf().getLayer().getClass() == ConvolutionLayer.class
                    && cv.getLayerConf().getLayer() instanceof ConvolutionLayer cl
                    && cl.getActivationFn() instanceof org.nd4j.linalg.activations.impl.ActivationIdentity
                    && cl.getCnn2dDataFormat() == org.deeplearning4j.nn.conf.CNN2DFormat.NCHW
                    && cl.getIDropout() == null
                    && consumers.getOrDefault(conv, 0) == 1 && !keep.contains(conv)
                    && !conf.getNetworkOutputs().contains(conv)) {
                pairs.put(conv, e.getKey());
            }
        }
        return pairs;
    }

    /**
     * BatchNorm -> convolution edges whose values can stay in oneDNN's blocked layout
     * ({@link Umm4jBackend#pairBatchNormConvolution}): a BatchNorm paired with its input convolution, its ReLU fused
     * ({@code bnRelu}: the ReLU layer passes arrays through), the ReLU's output read by nothing but one plain NCHW
     * convolution (identity activation, no dropout, no preprocessor), neither output requested nor a network output.
     */
    private Map<String, String> batchNormConvPairs(ComputationGraphConfiguration conf, Map<String, String> convBn,
                                                   Map<String, String> bnRelu) {
        Map<String, String> pairs = new LinkedHashMap<>();
        Map<String, Integer> consumers = consumerCounts(conf);
        Set<String> pairedBn = new HashSet<>(convBn.values());
        for (Map.Entry<String, String> e : bnRelu.entrySet()) {
            String bn = e.getKey();
            String relu = e.getValue();
            if (!pairedBn.contains(bn) || consumers.getOrDefault(relu, 0) != 1 || keep.contains(relu)
                    || keep.contains(bn) || conf.getNetworkOutputs().contains(relu)) {
                continue;
            }
            for (Map.Entry<String, List<String>> c : conf.getVertexInputs().entrySet()) {
                if (c.getValue().equals(List.of(relu))
                        && conf.getVertices().get(c.getKey()) instanceof LayerVertex cv && cv.getPreProcessor() == null
                        && cv.getLayerConf().getLayer().getClass() == ConvolutionLayer.class
                        && cv.getLayerConf().getLayer() instanceof ConvolutionLayer cl
                        && cl.getCnn2dDataFormat() == org.deeplearning4j.nn.conf.CNN2DFormat.NCHW
                        && cl.getIDropout() == null) {
                    pairs.put(bn, c.getKey());
                }
            }
        }
        return pairs;
    }

    /** How many vertices read each vertex's output. */
    /**
     * The residual-stream tensors that can stay in oneDNN's blocked layout ({@link Umm4jBackend#pairResidualStreams}),
     * as their producers: residual sums fused with their ReLU ({@code sumRelu}), BatchNorms paired with their
     * convolution whose output only such a sum reads, and BatchNorms paired with their convolution whose fused ReLU
     * is read by several vertices (a ResNet's stem). A tensor qualifies when it has a multiple of 16 channels, nobody
     * asked for it, it is no network output, and everything reading it (through the pass-through ReLU where there is
     * one) is a plain NCHW convolution or a qualifying sum whose other input qualifies too; the conditions are applied
     * until nothing changes (a stage whose last sum feeds the pooling layer stays NCHW as a whole).
     */
    private ResidualStream residualStream(ComputationGraphConfiguration conf, Map<String, String> convBn,
                                  Map<String, String> bnRelu, Map<String, String> sumRelu,
                                  Map<String, String> bnConv) {
        ResidualStream none = new ResidualStream(Map.of(), Map.of(), Map.of());
        if (conf.getDataType() != DataType.FLOAT) {
            return none;
        }
        Map<String, List<String>> readers = new HashMap<>();
        conf.getVertexInputs().forEach((v, ins) -> ins.forEach(in -> readers.computeIfAbsent(in, k -> new ArrayList<>())
                .add(v)));
        // producer -> the vertex whose output its readers read (itself, or its pass-through ReLU)
        Map<String, String> readAs = new LinkedHashMap<>();
        sumRelu.forEach(readAs::put);
        for (String bn : convBn.values()) {
            if (!(conf.getVertices().get(bn) instanceof LayerVertex lv)
                    || !(lv.getLayerConf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.BatchNormalization b)
                    || b.getNOut() % 16 != 0 || bnConv.containsKey(bn)) {
                continue;
            }
            String as = bnRelu.getOrDefault(bn, bn);
            List<String> r = readers.getOrDefault(as, List.of());
            if (bnRelu.containsKey(bn) ? r.size() > 1 : r.size() == 1 && sumRelu.containsKey(r.get(0))) {
                readAs.put(bn, as);
            }
        }
        Map<String, String> producerOf = new HashMap<>();
        readAs.forEach((p, as) -> producerOf.put(as, p));
        Set<String> alive = new HashSet<>(readAs.keySet());
        boolean changed = true;
        while (changed) {
            changed = false;
            for (String p : List.copyOf(alive)) {
                String as = readAs.get(p);
                boolean ok = !keep.contains(p) && !keep.contains(as) && !conf.getNetworkOutputs().contains(as);
                for (String r : readers.getOrDefault(as, List.of())) {
                    ok &= alive.contains(r) && sumRelu.containsKey(r) ? bothAlive(conf, r, producerOf, alive)
                            : plainConv(conf, r, as);
                }
                if (sumRelu.containsKey(p)) {
                    ok &= bothAlive(conf, p, producerOf, alive);
                    // a sum's output channels: those of its inputs' BatchNorms or sums, checked through them
                }
                if (!ok) {
                    alive.remove(p);
                    changed = true;
                }
            }
        }
        Map<String, String> producers = new LinkedHashMap<>();
        Map<String, String> convInputs = new LinkedHashMap<>();
        Map<String, List<String>> sumInputs = new LinkedHashMap<>();
        for (String p : readAs.keySet()) {
            if (!alive.contains(p)) {
                continue;
            }
            producers.put(p, readAs.get(p));
            for (String r : readers.getOrDefault(readAs.get(p), List.of())) {
                if (!sumRelu.containsKey(r)) {
                    convInputs.put(r, p);
                }
            }
            if (sumRelu.containsKey(p)) {
                List<String> ins = conf.getVertexInputs().get(p);
                sumInputs.put(p, List.of(producerOf.get(ins.get(0)), producerOf.get(ins.get(1))));
            }
        }
        return convInputs.isEmpty() ? none : new ResidualStream(producers, convInputs, sumInputs);
    }

    /** Whether both inputs of sum {@code sum} are stream tensors still alive. */
    private static boolean bothAlive(ComputationGraphConfiguration conf, String sum, Map<String, String> producerOf,
                                     Set<String> alive) {
        List<String> ins = conf.getVertexInputs().get(sum);
        return ins != null && ins.size() == 2 && alive.contains(producerOf.get(ins.get(0)))
                && alive.contains(producerOf.get(ins.get(1)));
    }

    /** Whether vertex {@code v} is a plain NCHW convolution layer reading nothing but {@code input}. */
    private static boolean plainConv(ComputationGraphConfiguration conf, String v, String input) {
        return conf.getVertexInputs().get(v).equals(List.of(input))
                && conf.getVertices().get(v) instanceof LayerVertex cv && cv.getPreProcessor() == null
                && cv.getLayerConf().getLayer().getClass() == ConvolutionLayer.class
                && cv.getLayerConf().getLayer() instanceof ConvolutionLayer cl
                && cl.getCnn2dDataFormat() == org.deeplearning4j.nn.conf.CNN2DFormat.NCHW && cl.getIDropout() == null;
    }

    /**
     * A blocked residual stream: producer -> the vertex its readers read, convolution -> the producer of its input,
     * sum -> the producers of its two inputs.
     */
    record ResidualStream(Map<String, String> producers, Map<String, String> convInputs,
                          Map<String, List<String>> sumInputs) {
    }

    private static Map<String, Integer> consumerCounts(ComputationGraphConfiguration conf) {
        Map<String, Integer> consumers = new HashMap<>();
        for (List<String> ins : conf.getVertexInputs().values()) {
            for (String in : ins) {
                consumers.merge(in, 1, Integer::sum);
            }
        }
        return consumers;
    }

    /**
     * @return the activation layer of vertex {@code name} if it is a plain ReLU layer with one input, no preprocessor,
     *         no dropout, not yet fused and never requested by an objective; else null
     */
    private ActivationLayer plainRelu(ComputationGraphConfiguration conf, String name,
                                                                        GraphVertex v) {
        List<String> ins = conf.getVertexInputs().get(name);
        if (v instanceof LayerVertex relu && relu.getPreProcessor() == null
                && ins != null && ins.size() == 1
                && relu.getLayerConf().getLayer() instanceof ActivationLayer al
                && !(al instanceof PassThroughRelu) && al.getIDropout() == null
                && InferenceGraph.isPlainRelu(al.getActivationFn()) && !keep.contains(name)) {
            return al;
        }
        return null;
    }

    /** @return the twin graph (null before the first call) */
    ComputationGraph twinForTest() {
        return twin;
    }

    /** @return the BatchNorm layers of the twin that apply the ReLU after them (empty before the first call) */
    Set<String> fusedBatchNorms() {
        return fusedBatchNorms;
    }

    /** @return the residual sums of the twin computed with their ReLU (empty before the first call) */
    Set<String> fusedAdds() {
        return fusedAdds;
    }

    /** @return how many ReLU activation layers of the twin run {@link StepReLU} (0 before the first call) */
    int fastReLUs() {
        return fastReLUs;
    }

    /**
     * DL4J's ReLU with a cheaper backward pass: {@code dL/dx = [x > 0] dL/dy} as a vectorised {@code step} op and an
     * in-place multiply, written into the copy of x that DL4J's activation layer passes in (its own backward pass
     * writes there too). DL4J's ReLU runs libnd4j's {@code relu_bp}, a per-element {@code std::function} call: 35-40
     * vs 8-10 ms on [256, 16, 32, 32] (2 threads). Equal values for finite gradients; where x <= 0 and dL/dy is not
     * finite the result is NaN instead of 0 (0 times inf), which only makes a diverged step visible earlier. Used for
     * the twin's activation layers only.
     */
    static final class StepReLU extends ActivationReLU {
        private static final long serialVersionUID = 1L;

        @Override
        public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
            if (!Arrays.equals(in.shape(), epsilon.shape())) {
                throw new IllegalArgumentException("ReLU backward: input " + Arrays.toString(in.shape())
                        + " and gradient " + Arrays.toString(epsilon.shape()) + " differ in shape");
            }
            Nd4j.getExecutioner().exec(new Step(in, in, 0.0));
            in.muli(epsilon);
            return new Pair<>(in, null);
        }
    }

    /** @return whether the twin's layers cache their forward pre-activations for the backward pass */
    boolean cachesForward() {
        return twin == null ? cacheForward : twin.getConfiguration().getCacheMode() == CacheMode.DEVICE;
    }

    /** @return whether the workspace path is on ({@code -Dumm4j.workspaces}, default true) */
    public static boolean enabled() {
        return !"false".equalsIgnoreCase(System.getProperty("umm4j.workspaces", "true"));
    }

    /**
     * @return whether this twin still shares {@code graph}'s parameter and gradient arrays (false after the graph's
     *         arrays were replaced, e.g. by a restore: build a new twin then)
     */
    public boolean isFor(ComputationGraph graph) {
        return sameMemory(graph.params(), params) && sameMemory(graph.getFlattenedGradients(), gradients);
    }

    /** Same elements in memory ({@code params()} returns a fresh view object of the same buffer on every call). */
    private static boolean sameMemory(INDArray a, INDArray b) {
        return a == b || (a != null && b != null && a.length() == b.length() && a.offset() == b.offset()
                && a.data().addressPointer().address() == b.data().addressPointer().address());
    }

    /**
     * Runs one training-mode forward pass of {@code input}, the objective on the output, and the backward pass (a graph
     * with one output).
     *
     * @param input     the input batch
     * @param objective maps the output z ({@code [batch, outputSize]}, detached) to {@code dL/dz} of the same shape;
     *                  it runs once per call, outside any workspace (its results may be kept)
     * @return the gradients of the loss with respect to all parameters, as views of the original graph's flattened
     *         gradient (BatchNorm running statistics included, as from {@link ExternalGradients#backward})
     */
    public Gradient backprop(INDArray input, Function<INDArray, INDArray> objective) {
        Objects.requireNonNull(objective, "objective");
        if (outputs.size() != 1) {
            throw new IllegalStateException("the graph has " + outputs.size() + " outputs " + outputs
                    + ": use backprop(input, activations, objective)");
        }
        return backprop(input, List.of(), f -> List.of(objective.apply(f.outputs().get(0))));
    }

    /**
     * Runs one training-mode forward pass of {@code input}, the objective on all outputs, and the backward pass.
     *
     * @param input       the input batch
     * @param activations names of vertices whose training-mode activations the objective reads (constants for the
     *                    gradient: no gradient flows into them from the objective); may be empty
     * @param objective   maps the outputs (in the graph's output order, detached, each in its own shape) and the
     *                    requested activations to {@code dL/dz} for each output, same order and shapes; it runs once
     *                    per call, outside any workspace (its arguments and results may be kept)
     * @return the gradients of the loss with respect to all parameters, as views of the original graph's flattened
     *         gradient (BatchNorm running statistics included, as from {@link ExternalGradients#backward})
     */
    public Gradient backprop(INDArray input, Collection<String> activations,
                             Function<Forward, List<INDArray>> objective) {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(activations, "activations");
        Objects.requireNonNull(objective, "objective");
        keep.addAll(activations);
        if (twin == null || !Collections.disjoint(activations, fusedBatchNorms)
                || !Collections.disjoint(activations, fusedAdds)
                || !Collections.disjoint(activations, convBatchNorms.keySet())
                || !Collections.disjoint(activations, batchNormConvs.keySet())
                || !Collections.disjoint(activations, stream.producers().keySet())
                || !Collections.disjoint(activations, stream.producers().values())) {
            // (re)built when an objective first asks for a BatchNorm output or a sum that the twin fused with its ReLU
            build(input, fuseRelu);
        }
        Map<String, int[]> taps = new LinkedHashMap<>();
        for (String a : activations) {
            taps.put(a, consumer(a));
        }
        Umm4jBackend.useFastBatchNorm(twin);
        Umm4jBackend.useFastConvolution(twin, firstLayers);
        if (cachesForward()) {
            Umm4jBackend.keepConvolutionOutputs(twin);
        }
        Umm4jBackend.pairConvolutionBatchNorm(twin, convBatchNorms);
        Umm4jBackend.pairBatchNormConvolution(twin, batchNormConvs);
        streamTensors += Umm4jBackend.pairResidualStreams(twin, stream.producers().keySet(), stream.convInputs(),
                stream.sumInputs());
        INDArray[] y = labels(input.size(0));
        Joint joint = new Joint(objective, taps);
        for (int i = 0; i < losses.size(); i++) {
            losses.get(i).bind(joint, i);
        }
        try {
            twin.setInputs(input);
            twin.setLabels(y);
            twin.computeGradientAndScore();
            for (int i = 0; i < losses.size(); i++) {
                if (!losses.get(i).called()) {
                    throw new IllegalStateException("DL4J did not call the objective's loss function on output "
                            + outputs.get(i));
                }
            }
            // the same per-parameter views, with the original graph's flattened array as the whole: DL4J's updater
            // treats a Gradient whose flattened array is not its own as "external" and then also steps the parameters
            // itself (which would apply the step twice)
            Gradient twinGradient = twin.gradient();
            DefaultGradient g = new DefaultGradient(gradients);
            for (Map.Entry<String, INDArray> e : twinGradient.gradientForVariable().entrySet()) {
                g.setGradientFor(e.getKey(), e.getValue(), twinGradient.flatteningOrderForVariable(e.getKey()));
            }
            return g;
        } finally {
            for (Bound b : losses) {
                b.unbind();
            }
            twin.clear();
        }
    }

    /** Convolution -> BatchNorm pairs of the twin kept in oneDNN's blocked layout (for tests). */
    Map<String, String> convBatchNormsForTest() {
        return convBatchNorms;
    }

    /** BatchNorm -> convolution edges of the twin kept in oneDNN's blocked layout (for tests). */
    ResidualStream streamForTest() {
        return stream;
    }

    int streamTensorsForTest() {
        return streamTensors;
    }

    Map<String, String> batchNormConvsForTest() {
        return batchNormConvs;
    }

    /** The twin vertex index that takes activation {@code name} as an input, and which input it is. */
    private int[] consumer(String name) {
        if (twin.getVertex(name) == null) {
            throw new IllegalArgumentException("no vertex named '" + name + "' in the graph");
        }
        for (Map.Entry<String, List<String>> e : twin.getConfiguration().getVertexInputs().entrySet()) {
            int k = e.getValue().indexOf(name);
            if (k >= 0) {
                return new int[]{twin.getVertex(e.getKey()).getVertexIndex(), k};
            }
        }
        throw new IllegalArgumentException("vertex '" + name + "' feeds no other vertex; its activation is not kept");
    }

    /** Placeholder labels shaped like the loss layers' inputs (the loss layers want some). */
    private INDArray[] labels(long n) {
        if (labels == null || labels[0].size(0) != n) {
            try (MemoryWorkspace ws = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                labels = new INDArray[sampleShapes.size()];
                for (int i = 0; i < labels.length; i++) {
                    long width = Arrays.stream(sampleShapes.get(i)).reduce(1, (a, b) -> a * b);
                    labels[i] = Nd4j.zeros(params.dataType(), n, width);
                }
            }
        }
        return labels;
    }

    /** One call's objective over all outputs, run when DL4J first asks any loss layer. */
    private final class Joint {
        private final Function<Forward, List<INDArray>> objective;
        private final Map<String, int[]> taps;
        private INDArray[] flatGradients;

        Joint(Function<Forward, List<INDArray>> objective, Map<String, int[]> taps) {
            this.objective = objective;
            this.taps = taps;
        }

        INDArray gradient(int i, INDArray preOutput) {
            if (flatGradients == null) {
                run();
            }
            INDArray g = flatGradients[i];
            if (!Arrays.equals(g.shape(), preOutput.shape())) {
                throw new IllegalStateException("output " + outputs.get(i) + ": the loss layer holds "
                        + Arrays.toString(preOutput.shape()) + ", the gradient is " + Arrays.toString(g.shape()));
            }
            return g;
        }

        private void run() {
            try (MemoryWorkspace ws = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                List<INDArray> zs = new ArrayList<>();
                for (int i = 0; i < outputs.size(); i++) {
                    // the loss vertex's own input: the output before any flattening
                    zs.add(twin.getVertex(lossVertex(i)).getInputs()[0].dup('c'));
                }
                Map<String, INDArray> acts = new LinkedHashMap<>();
                taps.forEach((name, at) -> acts.put(name, twin.getVertices()[at[0]].getInputs()[at[1]].dup('c')));
                List<INDArray> gs = objective.apply(new Forward(zs, acts));
                if (gs == null || gs.size() != zs.size()) {
                    throw new IllegalArgumentException("objective: expected " + zs.size() + " gradient(s) (one per output "
                            + outputs + "), got " + (gs == null ? "null" : gs.size()));
                }
                INDArray[] flat = new INDArray[zs.size()];
                for (int i = 0; i < flat.length; i++) {
                    INDArray z = zs.get(i);
                    INDArray g = gs.get(i);
                    if (g == null || !Arrays.equals(g.shape(), z.shape())) {
                        throw new IllegalArgumentException("objective: expected dL/dz of shape "
                                + Arrays.toString(z.shape()) + " for output " + outputs.get(i) + ", got "
                                + (g == null ? "null" : Arrays.toString(g.shape())));
                    }
                    flat[i] = g.castTo(z.dataType()).dup('c').reshape('c', z.size(0), z.length() / z.size(0));
                }
                flatGradients = flat;
            }
        }
    }

    /**
     * The loss function of one of the twin's loss layers: output {@code i} of the objective bound for one
     * {@link #backprop} call. DL4J may ask for the score and the gradient separately; the objective runs on the first
     * request of any loss layer and its results are kept for the call. The labels DL4J passes are a placeholder and
     * are ignored. Not meant to be serialised with a model (it is never part of a saved graph).
     */
    public static final class Bound implements ILossFunction {
        private static final long serialVersionUID = 1L;
        private transient Joint joint;
        private transient int index;
        private transient boolean called;

        /** Bound to nothing; {@link WorkspaceBackprop} binds it for each call. */
        public Bound() {
        }

        void bind(Joint j, int i) {
            joint = j;
            index = i;
            called = false;
        }

        void unbind() {
            joint = null;
            called = false;
        }

        boolean called() {
            return called;
        }

        private INDArray gradient(INDArray preOutput) {
            if (joint == null) {
                throw new IllegalStateException("the umm4j objective loss layer is only usable through "
                        + "WorkspaceBackprop.backprop (it has no objective bound)");
            }
            called = true;
            return joint.gradient(index, preOutput);
        }

        @Override
        public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
                                   boolean average) {
            gradient(preOutput);
            return 0; // umm4j reads the loss from the objective; DL4J's score is not used
        }

        @Override
        public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
            gradient(preOutput);
            return Nd4j.zeros(preOutput.dataType(), preOutput.size(0), 1);
        }

        @Override
        public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
            return gradient(preOutput);
        }

        @Override
        public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput,
                                                              IActivation activationFn, INDArray mask, boolean average) {
            return new Pair<>(0.0, gradient(preOutput));
        }

        @Override
        public String name() {
            return "umm4j-objective";
        }
    }
}
