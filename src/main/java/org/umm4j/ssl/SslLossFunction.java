package org.umm4j.ssl;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.shade.jackson.annotation.JsonAnyGetter;
import org.nd4j.shade.jackson.annotation.JsonAnySetter;
import org.nd4j.shade.jackson.annotation.JsonIgnore;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Bridge from an {@link Objective} to DL4J: an {@link ILossFunction} for a {@code LossLayer} that sees the whole
 * batch, so that a {@code ComputationGraph} is trained by plain {@code fit()} (also on Spark).
 *
 * <p>Batch layout: the two views are stacked along the batch dimension, preOutput [2N, D] with rows 0..N-1 the
 * first view and rows N..2N-1 the second (the data pipeline must emit them so, and N is taken as half the
 * minibatch). For {@code superinfo} the columns are [mu | logvar], preOutput [2N, 2D]. Labels are ignored (any
 * array with 2N rows, e.g. zeros [2N, 1]); a mask must be absent or all ones, since a pair loss cannot drop single
 * rows.
 *
 * <p>Score convention: DL4J's {@code LossLayer} calls {@code computeScore(..., average = false)} and divides by
 * the minibatch size 2N, and the updater divides gradients by 2N too. So {@code computeScore} returns 2N L when
 * {@code average} is false and L when true, and {@code computeGradient} returns 2N dL/dpreOutput; the network's
 * score is then exactly the objective's loss L and its gradient exactly dL/dtheta. The activation's backprop is
 * applied (use the identity for raw embeddings). {@code computeScoreArray} cannot split a batch loss per example:
 * it gives every row L, whose sum is the non-averaged score.
 *
 * <p>Stateless, no-arg constructible, and JSON round-trippable: the JSON holds {@code "objective"} and each
 * hyper-parameter as its own property (e.g. {@code {"objective":"simclr","temperature":0.2}}); every Spark worker
 * rebuilds the objective from those. Only objectives whose whole input is the stacked batch are accepted:
 * simclr, barlow, vicreg, wmse, superinfo. Objectives that need stop-gradient targets, a queue, prototypes or feature maps
 * (byol, simsiam, mocov2, swav, vicregl) are trained by the trainer through external errors
 * ({@code backpropGradient} of the gradients that {@link Objective#compute} returns), not through this class.
 * On Spark the loss is a per-worker batch loss (no negatives across workers).
 */
public final class SslLossFunction implements ILossFunction {
    private static final long serialVersionUID = 1L;
    static final String SUPPORTED_TEXT = "simclr, barlow, vicreg, wmse, superinfo";
    /** The objectives this loss function accepts. */
    public static final Set<String> SUPPORTED = Set.of("simclr", "barlow", "vicreg", "wmse", "superinfo");

    @JsonProperty("objective")
    private String objective;
    @JsonIgnore
    private final Map<String, Double> hyperParameters = new TreeMap<>();
    @JsonIgnore
    private transient Objective built;

    /** SimCLR with its defaults (needed by Jackson). */
    public SslLossFunction() {
        this.objective = "simclr";
    }

    /** A loss for the given objective (one of {@link #SUPPORTED}) with its hyper-parameters. */
    public SslLossFunction(Objective objective) {
        this(objective.name(), objective.hyperParameters());
    }

    /** A loss for the named objective with the given hyper-parameters (keys of {@link Objectives}). */
    public SslLossFunction(String objective, Map<String, Double> hyperParameters) {
        this.objective = objective;
        this.hyperParameters.putAll(hyperParameters);
        objective();
    }

    /** @return the objective, built once from the name and hyper-parameters */
    @JsonIgnore
    public Objective objective() {
        if (built == null) {
            if (!SUPPORTED.contains(objective)) {
                throw new IllegalArgumentException("objective '" + objective + "' cannot run on a LossLayer; supported: "
                        + SUPPORTED_TEXT + " (byol, simsiam, mocov2, swav and vicregl are trained through external "
                        + "errors)");
            }
            built = Objectives.create(objective, hyperParameters);
        }
        return built;
    }

    @JsonAnyGetter
    public Map<String, Double> hyperParameters() {
        return hyperParameters;
    }

    @JsonAnySetter
    public void setHyperParameter(String key, Object value) {
        if (!(value instanceof Number num)) {
            throw new IllegalArgumentException("hyper-parameter '" + key + "' must be a number, got " + value);
        }
        hyperParameters.put(key, num.doubleValue());
        built = null;
    }

    private record Evaluated(double loss, INDArray gradOut) {
    }

    private Evaluated evaluate(INDArray preOutput, IActivation activationFn, INDArray mask) {
        if (preOutput.rank() != 2 || preOutput.rows() % 2 != 0 || preOutput.rows() == 0) {
            throw new IllegalArgumentException("preOutput must be [2N, D] with the two views stacked, got shape "
                    + Tensors.shape(preOutput));
        }
        if (mask != null && mask.minNumber().doubleValue() != 1.0) {
            throw new IllegalArgumentException("SslLossFunction does not support masks that drop examples");
        }
        INDArray out = activationFn.getActivation(preOutput.dup(), true);
        int n = out.rows() / 2;
        INDArray v1 = out.get(NDArrayIndex.interval(0, n), NDArrayIndex.all()).dup();
        INDArray v2 = out.get(NDArrayIndex.interval(n, 2 * n), NDArrayIndex.all()).dup();
        Objective o = objective();
        LossAndGradients r;
        INDArray grad;
        if (o instanceof SuperInfo) {
            long d = out.columns() / 2;
            if (out.columns() % 2 != 0) {
                throw new IllegalArgumentException("superinfo needs preOutput [2N, 2D] = [mu | logvar], got shape "
                        + Tensors.shape(preOutput));
            }
            INDArray mu1 = v1.get(NDArrayIndex.all(), NDArrayIndex.interval(0, d)).dup();
            INDArray lv1 = v1.get(NDArrayIndex.all(), NDArrayIndex.interval(d, 2 * d)).dup();
            INDArray mu2 = v2.get(NDArrayIndex.all(), NDArrayIndex.interval(0, d)).dup();
            INDArray lv2 = v2.get(NDArrayIndex.all(), NDArrayIndex.interval(d, 2 * d)).dup();
            r = o.compute(ObjectiveInput.ofViews(mu1, mu2, lv1, lv2));
            grad = Nd4j.vstack(Nd4j.hstack(r.gradient(0), r.gradient(2)), Nd4j.hstack(r.gradient(1), r.gradient(3)));
        } else {
            r = o.compute(v1, v2);
            grad = Nd4j.vstack(r.gradient(0), r.gradient(1));
        }
        return new Evaluated(r.loss(), grad);
    }

    @Override
    public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
                               boolean average) {
        double loss = evaluate(preOutput, activationFn, mask).loss;
        return average ? loss : loss * preOutput.rows();
    }

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        double loss = evaluate(preOutput, activationFn, mask).loss;
        // not valueArrayOf: in M2.1 it can follow the default data type instead of the one given
        return Nd4j.ones(preOutput.dataType(), preOutput.rows(), 1).muli(loss);
    }

    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        return gradient(preOutput, activationFn, evaluate(preOutput, activationFn, mask));
    }

    private static INDArray gradient(INDArray preOutput, IActivation activationFn, Evaluated e) {
        // DL4J divides the returned gradient by the minibatch size 2N: pre-multiply so that it is dL/dpreOutput
        INDArray dOut = e.gradOut.muli(preOutput.rows()).castTo(preOutput.dataType());
        return activationFn.backprop(preOutput.dup(), dOut).getFirst();
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput, IActivation activationFn,
                                                          INDArray mask, boolean average) {
        Evaluated e = evaluate(preOutput, activationFn, mask);
        double score = average ? e.loss : e.loss * preOutput.rows();
        return new Pair<>(score, gradient(preOutput, activationFn, e));
    }

    @Override
    public String name() {
        return "SslLossFunction(" + objective + ")";
    }

    @Override
    public String toString() {
        return "SslLossFunction(" + objective + ", " + hyperParameters + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SslLossFunction other && objective.equals(other.objective)
                && hyperParameters.equals(other.hyperParameters);
    }

    @Override
    public int hashCode() {
        return Objects.hash(objective, hyperParameters);
    }
}
