package org.umm4j.nn;

import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.umm4j.backend.Umm4jBackend;

import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Forward and backward pass of a loss-free graph for a batch-level objective through DL4J's own training path, with
 * its workspaces on: the alternative to {@link ExternalGradients} (forward, external {@code dL/dz}, backward with
 * workspaces off) for graphs with one output.
 *
 * <p>How. A twin of the graph with a {@link LossLayer} (identity activation) on its output, whose loss function is
 * the objective bound for one call ({@link Bound}): DL4J's {@code computeGradientAndScore} runs the forward pass, asks
 * the loss layer for {@code dL/dz} (the objective's gradient of its batch-mean loss, returned as is), and back-propagates,
 * all inside its workspaces. The twin shares the original graph's parameter array and flattened gradient array
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
 * (width-64 SimCLR step: 21 % less CPU time, +25 % images/s, +0.7 GB resident memory). {@code -Dumm4j.cachemode=false}
 * turns it off.
 *
 * <p>Numerics are those of {@link ExternalGradients} (same forward, same {@code dL/dz}, same backward): tested to
 * float rounding on SimCLR, BYOL and MoCo steps. {@code -Dumm4j.workspaces=false} turns the path off.
 */
public final class WorkspaceBackprop {
    private static final Logger LOG = LoggerFactory.getLogger(WorkspaceBackprop.class);
    /** Name of the loss layer vertex of the twin graph. */
    public static final String LOSS_VERTEX = "umm4j_objective";

    /** {@code -Dumm4j.cachemode=false} keeps DL4J's recomputation of each layer's forward pass in the backward pass. */
    private static final boolean CACHE = !"false".equalsIgnoreCase(System.getProperty("umm4j.cachemode", "true"));

    private final ComputationGraph twin;
    private final Bound loss;
    private final INDArray params;
    private final INDArray gradients;
    private INDArray labels;

    /**
     * @param graph a graph with one input and one output and no loss layer
     */
    public WorkspaceBackprop(ComputationGraph graph) {
        this(graph, CACHE);
    }

    /**
     * @param graph        a graph with one input and one output and no loss layer
     * @param cacheForward whether layers cache their pre-activations in the forward pass for the backward pass
     */
    WorkspaceBackprop(ComputationGraph graph, boolean cacheForward) {
        Objects.requireNonNull(graph, "graph");
        if (graph.getNumInputArrays() != 1 || graph.getNumOutputArrays() != 1) {
            throw new IllegalArgumentException("graph must have one input and one output, has "
                    + graph.getNumInputArrays() + " and " + graph.getNumOutputArrays());
        }
        if (graph.getFlattenedGradients() == null) {
            graph.initGradientsView();
        }
        String out = graph.getConfiguration().getNetworkOutputs().get(0);
        ComputationGraph built = new TransferLearning.GraphBuilder(graph)
                .addLayer(LOSS_VERTEX, new LossLayer.Builder(new Bound()).activation(Activation.IDENTITY).build(), out)
                .setOutputs(LOSS_VERTEX).build();
        ComputationGraphConfiguration conf = built.getConfiguration().clone();
        conf.setTrainingWorkspaceMode(WorkspaceMode.ENABLED);
        if (cacheForward) {
            // DL4J's convolution and dense layers recompute their forward pass in the backward pass (to get the
            // pre-activation z for the activation's derivative, even for the identity) unless the forward pass caches
            // z; with the cache each convolution runs forward once per step instead of twice. The twin gets it
            // whatever the source graph says (TransferLearning drops the graph-level setting anyway).
            conf.setCacheMode(CacheMode.DEVICE);
        }
        this.twin = new ComputationGraph(conf);
        this.params = graph.params();
        this.gradients = graph.getFlattenedGradients();
        twin.init(params, false);
        // the twin's own gradient view first (DL4J would otherwise create one at the first backward pass and point its
        // layers at it), then every layer's gradient views re-pointed into the original graph's flattened gradient
        twin.initGradientsView();
        twin.setBackpropGradientsViewArray(gradients);
        if (cacheForward) {
            twin.setCacheMode(CacheMode.DEVICE); // the layers keep their own copy of the setting
        }
        // the layer holds its own copy of the configured loss function: bind that one
        this.loss = (Bound) ((LossLayer) twin.getLayer(LOSS_VERTEX).conf().getLayer()).getLossFn();
        LOG.debug("workspace twin built for graph {} ({} parameters)", System.identityHashCode(graph), params.length());
    }

    /** @return whether the twin's layers cache their forward pre-activations for the backward pass */
    boolean cachesForward() {
        return twin.getConfiguration().getCacheMode() == CacheMode.DEVICE;
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
     * Runs one training-mode forward pass of {@code input}, the objective on the output, and the backward pass.
     *
     * @param input     the input batch
     * @param objective maps the output z ({@code [batch, outputSize]}, detached) to {@code dL/dz} of the same shape;
     *                  it runs once per call, outside any workspace (its results may be kept)
     * @return the gradients of the loss with respect to all parameters, as views of the original graph's flattened
     *         gradient (BatchNorm running statistics included, as from {@link ExternalGradients#backward})
     */
    public Gradient backprop(INDArray input, Function<INDArray, INDArray> objective) {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(objective, "objective");
        Umm4jBackend.useFastBatchNorm(twin);
        INDArray y = labels(input);
        loss.bind(objective);
        try {
            twin.setInputs(input);
            twin.setLabels(y);
            twin.computeGradientAndScore();
            if (!loss.called()) {
                throw new IllegalStateException("DL4J did not call the objective's loss function");
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
            loss.unbind();
            twin.clear();
        }
    }

    /** Placeholder labels shaped like the output (the loss layer wants some); the width from one inference row. */
    private INDArray labels(INDArray input) {
        long n = input.size(0);
        if (labels == null || labels.size(0) != n) {
            try (MemoryWorkspace ws = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                long width = labels != null ? labels.size(1)
                        : twin.outputSingle(false, input.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 1))
                        .dup()).size(1);
                labels = Nd4j.zeros(params.dataType(), n, width);
            }
        }
        return labels;
    }

    /**
     * The loss function of the twin's loss layer: the objective bound for one {@link #backprop} call. DL4J may ask for
     * the score and the gradient separately; the objective runs on the first request and both are cached. The labels
     * DL4J passes are a placeholder and are ignored. Not meant to be serialised with a model (it is never part of a
     * saved graph).
     */
    public static final class Bound implements ILossFunction {
        private static final long serialVersionUID = 1L;
        private transient Function<INDArray, INDArray> objective;
        private transient INDArray gradient;

        /** Bound to nothing; {@link WorkspaceBackprop} binds it for each call. */
        public Bound() {
        }

        void bind(Function<INDArray, INDArray> f) {
            objective = f;
            gradient = null;
        }

        void unbind() {
            objective = null;
            gradient = null;
        }

        boolean called() {
            return gradient != null;
        }

        private void ensure(INDArray preOutput) {
            if (objective == null) {
                throw new IllegalStateException("the umm4j objective loss layer is only usable through "
                        + "WorkspaceBackprop.backprop (it has no objective bound)");
            }
            if (gradient != null) {
                return;
            }
            try (MemoryWorkspace ws = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                INDArray z = preOutput.dup();
                INDArray g = objective.apply(z);
                if (g == null || !Arrays.equals(g.shape(), z.shape())) {
                    throw new IllegalArgumentException("objective: expected dL/dz of shape " + Arrays.toString(z.shape())
                            + ", got " + (g == null ? "null" : Arrays.toString(g.shape())));
                }
                gradient = g.castTo(z.dataType());
            }
        }

        @Override
        public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
                                   boolean average) {
            ensure(preOutput);
            return 0; // umm4j reads the loss from the objective; DL4J's score is not used
        }

        @Override
        public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
            ensure(preOutput);
            return Nd4j.zeros(preOutput.dataType(), preOutput.size(0), 1);
        }

        @Override
        public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
            ensure(preOutput);
            return gradient;
        }

        @Override
        public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput,
                                                              IActivation activationFn, INDArray mask, boolean average) {
            ensure(preOutput);
            return new Pair<>(0.0, gradient);
        }

        @Override
        public String name() {
            return "umm4j-objective";
        }
    }
}
