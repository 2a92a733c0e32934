package org.umm4j.train;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Map;
import java.util.Objects;

/**
 * Heavy-ball SGD with momentum as a DL4J {@link IUpdater} (DL4J itself only offers Nesterov momentum):
 * <pre>
 *   v &lt;- mu v + lr(t) g          update = v,   w &lt;- w - v
 * </pre>
 * the formulation of the LARS paper (You, Gitman &amp; Ginsburg 2017, Alg. 1) with the learning rate inside the
 * velocity, so a schedule changes the step smoothly. State: one velocity per parameter ({@code "V"}, same length as
 * the parameters). Weight decay is not part of this updater: attach DL4J's {@code L2Regularization} (added to the
 * gradient before the updater, as PyTorch's SGD does); {@link OptimizerConfig} does that for weights only.
 *
 * <p>umm4j also uses it for the parameters that {@link Lars} must not adapt (biases, BatchNorm gamma/beta).
 * The learning-rate fields are mutable only through {@link #setLrAndSchedule}, which DL4J's
 * {@code NetworkUtils.setLearningRate} requires.
 */
public class SgdMomentum implements IUpdater {
    private static final long serialVersionUID = 1L;
    /** key of the velocity in {@link GradientUpdater#getState()} */
    public static final String VELOCITY = "V";

    private double learningRate;
    private ISchedule learningRateSchedule;
    private final double momentum;

    /**
     * @param learningRate         used when {@code learningRateSchedule} is null; &gt; 0
     * @param learningRateSchedule per-iteration schedule, or null for a constant rate
     * @param momentum             {@code mu} in [0, 1)
     */
    @JsonCreator
    public SgdMomentum(@JsonProperty("learningRate") double learningRate,
                       @JsonProperty("learningRateSchedule") ISchedule learningRateSchedule,
                       @JsonProperty("momentum") double momentum) {
        this.learningRate = Checks.positive("learningRate", learningRate);
        this.learningRateSchedule = learningRateSchedule;
        this.momentum = Checks.unitInterval("momentum", momentum);
    }

    @Override
    public long stateSize(long numParams) {
        return numParams;
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        MomentumGradientUpdater<SgdMomentum> u = new MomentumGradientUpdater<>(this);
        u.setStateViewArray(viewArray, viewArray.shape(), viewArray.ordering(), initializeViewArray);
        return u;
    }

    @Override
    public GradientUpdater instantiate(Map<String, INDArray> updaterState, boolean initializeStateArrays) {
        MomentumGradientUpdater<SgdMomentum> u = new MomentumGradientUpdater<>(this);
        u.setState(updaterState, initializeStateArrays);
        return u;
    }

    @Override
    public SgdMomentum clone() {
        return new SgdMomentum(learningRate, learningRateSchedule == null ? null : learningRateSchedule.clone(), momentum);
    }

    @Override
    public double getLearningRate(int iteration, int epoch) {
        return learningRateSchedule == null ? learningRate : learningRateSchedule.valueAt(iteration, epoch);
    }

    @Override
    public boolean hasLearningRate() {
        return true;
    }

    @Override
    public void setLrAndSchedule(double lr, ISchedule lrSchedule) {
        this.learningRate = lr;
        this.learningRateSchedule = lrSchedule;
    }

    @JsonProperty("learningRate")
    public double getLearningRate() {
        return learningRate;
    }

    @JsonProperty("learningRateSchedule")
    public ISchedule getLearningRateSchedule() {
        return learningRateSchedule;
    }

    @JsonProperty("momentum")
    public double getMomentum() {
        return momentum;
    }

    @Override
    public boolean equals(Object o) {
        return o != null && o.getClass() == SgdMomentum.class && fieldsEqual((SgdMomentum) o);
    }

    boolean fieldsEqual(SgdMomentum s) {
        return s.learningRate == learningRate && s.momentum == momentum
                && Objects.equals(s.learningRateSchedule, learningRateSchedule);
    }

    @Override
    public int hashCode() {
        return Objects.hash(getClass(), learningRate, learningRateSchedule, momentum);
    }

    @Override
    public String toString() {
        return "SgdMomentum(lr=" + learningRate + ", schedule=" + learningRateSchedule + ", momentum=" + momentum + ")";
    }
}
