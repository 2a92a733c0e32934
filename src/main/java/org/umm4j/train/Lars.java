package org.umm4j.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.nn.updater.graph.ComputationGraphUpdater;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * LARS, layer-wise adaptive rate scaling (You, Gitman &amp; Ginsburg 2017, "Large Batch Training of Convolutional
 * Networks", Alg. 1), the optimiser of SimCLR, BYOL and Barlow Twins at large batch, as a DL4J {@code IUpdater}.
 * For each parameter tensor w with gradient g (one "layer" of the paper = one DL4J parameter key such as a
 * layer's {@code W}):
 * <pre>
 *   trust = eta |w| / (|g| + wd |w|)        (1 when |w| = 0 or |g| = 0, so fresh or dead tensors still move)
 *   d     = g + wd w                        (weight decay added to the gradient, inside the trust ratio)
 *   v    &lt;- mu v + lr(t) trust d           update = v,   w &lt;- w - v
 * </pre>
 * with |.| the Euclidean norm over the whole tensor, eta the trust coefficient (default 1e-3).
 *
 * <h2>Why binding is needed, and how DL4J assigns updaters per parameter</h2>
 * DL4J hands an updater only the gradient, never the parameters, yet the trust ratio needs |w|. DL4J groups
 * parameters into {@link UpdaterBlock}s: consecutive parameters (in the network's flattened order) whose
 * {@code Layer.getUpdaterByParam(key)} configurations are equal (and whose regularisation matches) share one
 * block and one {@code GradientUpdater}, which sees the block's slice of the flattened gradient.
 * {@code BaseLayer.getUpdaterByParam} returns {@code biasUpdater} for keys its {@code ParamInitializer} calls
 * bias parameters (when {@code biasUpdater} is set) and {@code iUpdater} otherwise; BatchNormalization returns
 * its {@code iUpdater} for gamma/beta and a NoOp for the running mean/variance, and never regularises.
 * So {@link #bind(ComputationGraph)} walks the graph's updater blocks and gives every LARS updater the matching
 * slice of the flattened parameter array plus the boundaries of the parameter tensors inside its block; the
 * trust ratio is then computed per tensor even when several layers' weights share a block. A LARS updater that
 * is applied before binding throws {@link IllegalStateException}. {@link TrainingLoop} binds before every step
 * (cheap and idempotent), so graphs restored from a checkpoint are bound too.
 *
 * <p>Exclusion of biases and BatchNorm parameters from adaptation and weight decay (as in SimCLR's LARS) is done
 * by giving those parameters a plain {@link SgdMomentum} (see {@link OptimizerConfig#applyTo}).
 */
public class Lars extends SgdMomentum {
    private static final long serialVersionUID = 1L;
    /** the paper's trust coefficient */
    public static final double DEFAULT_ETA = 1e-3;

    private final double weightDecay;
    private final double eta;

    /**
     * @param learningRate         base rate, used when {@code learningRateSchedule} is null; &gt; 0
     * @param learningRateSchedule per-iteration schedule or null
     * @param momentum             mu in [0, 1)
     * @param weightDecay          wd &gt;= 0
     * @param eta                  trust coefficient &gt; 0
     */
    @JsonCreator
    public Lars(@JsonProperty("learningRate") double learningRate,
                @JsonProperty("learningRateSchedule") ISchedule learningRateSchedule,
                @JsonProperty("momentum") double momentum,
                @JsonProperty("weightDecay") double weightDecay,
                @JsonProperty("eta") double eta) {
        super(learningRate, learningRateSchedule, momentum);
        this.weightDecay = Checks.nonNegative("weightDecay", weightDecay);
        this.eta = Checks.positive("eta", eta);
    }

    /**
     * Binds every LARS updater of the graph to its parameters (creating the graph's updater if needed).
     * Idempotent; call after {@code init()}, after restoring from a checkpoint and whenever the updater was
     * replaced. Graphs without LARS are left untouched.
     *
     * @return the number of LARS blocks bound
     */
    public static int bind(ComputationGraph graph) {
        Checks.notNull("graph", graph);
        ComputationGraphUpdater updater = graph.getUpdater(true);
        return bind(updater, graph.params());
    }

    /** As {@link #bind(ComputationGraph)}, for a {@link MultiLayerNetwork} (e.g. a linear probe). */
    public static int bind(MultiLayerNetwork net) {
        Checks.notNull("net", net);
        if (!(net.getUpdater(true) instanceof BaseMultiLayerUpdater<?> updater)) {
            throw new IllegalStateException("unexpected updater type " + net.getUpdater(true).getClass().getName());
        }
        return bind(updater, net.params());
    }

    private static int bind(BaseMultiLayerUpdater<?> updater, INDArray flatParams) {
        int bound = 0;
        for (UpdaterBlock block : updater.getUpdaterBlocks()) {
            block.init();
            GradientUpdater<?> gu = block.getGradientUpdater();
            if (gu instanceof LarsGradientUpdater lars) {
                List<UpdaterBlock.ParamState> states = block.getLayersAndVariablesInBlock();
                int start = block.getParamOffsetStart();
                int end = block.getParamOffsetEnd();
                long[] bounds = new long[states.size() + 1];
                int expected = start;
                for (int i = 0; i < states.size(); i++) {
                    UpdaterBlock.ParamState ps = states.get(i);
                    if (ps.getParamOffsetStart() != expected) {
                        throw new IllegalStateException("parameters of updater block [" + start + ", " + end
                                + ") are not contiguous at " + ps.getLayer().getConfig().getLayerName() + "/"
                                + ps.getParamName());
                    }
                    bounds[i] = ps.getParamOffsetStart() - start;
                    expected = ps.getParamOffsetEnd();
                }
                if (expected != end) {
                    throw new IllegalStateException("parameters of updater block [" + start + ", " + end
                            + ") end at " + expected);
                }
                bounds[states.size()] = end - start;
                INDArray blockParams = flatParams.reshape(flatParams.length()).get(
                        org.nd4j.linalg.indexing.NDArrayIndex.interval(start, end));
                lars.bind(blockParams, bounds);
                bound++;
            }
        }
        return bound;
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        LarsGradientUpdater u = new LarsGradientUpdater(this);
        u.setStateViewArray(viewArray, viewArray.shape(), viewArray.ordering(), initializeViewArray);
        return u;
    }

    @Override
    public GradientUpdater instantiate(Map<String, INDArray> updaterState, boolean initializeStateArrays) {
        LarsGradientUpdater u = new LarsGradientUpdater(this);
        u.setState(updaterState, initializeStateArrays);
        return u;
    }

    @Override
    public Lars clone() {
        ISchedule s = getLearningRateSchedule();
        return new Lars(getLearningRate(), s == null ? null : s.clone(), getMomentum(), weightDecay, eta);
    }

    @JsonProperty("weightDecay")
    public double getWeightDecay() {
        return weightDecay;
    }

    @JsonProperty("eta")
    public double getEta() {
        return eta;
    }

    @Override
    public boolean equals(Object o) {
        return o != null && o.getClass() == Lars.class && fieldsEqual((Lars) o)
                && ((Lars) o).weightDecay == weightDecay && ((Lars) o).eta == eta;
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), weightDecay, eta);
    }

    @Override
    public String toString() {
        return "Lars(lr=" + getLearningRate() + ", schedule=" + getLearningRateSchedule() + ", momentum="
                + getMomentum() + ", weightDecay=" + weightDecay + ", eta=" + eta + ")";
    }
}
