package org.umm4j.train;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop;
import org.deeplearning4j.nn.conf.layers.samediff.AbstractSameDiffLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.learning.regularization.WeightDecay;
import org.nd4j.linalg.schedule.ISchedule;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An optimiser as an immutable configuration that produces DL4J updaters.
 *
 * <table>
 *   <caption>what each type means for weights (W of dense/conv layers) and for excluded parameters</caption>
 *   <tr><th>type</th><th>weights</th><th>biases, BatchNorm gamma/beta</th></tr>
 *   <tr><td>ADAM</td><td>DL4J {@link Adam}(lr, beta1, beta2, eps) with decoupled weight decay
 *       (DL4J {@link WeightDecay}, applyLR: w &lt;- w - lr wd w after the step, as AdamW)</td>
 *       <td>Adam, no weight decay</td></tr>
 *   <tr><td>SGD</td><td>{@link SgdMomentum} (heavy ball, v = mu v + lr g) with coupled weight decay
 *       ({@link L2Regularization}: g + wd w before the updater, as PyTorch SGD)</td>
 *       <td>SgdMomentum, no weight decay</td></tr>
 *   <tr><td>LARS</td><td>{@link Lars}(lr, mu, wd, eta): trust ratio eta|w|/(|g| + wd|w|), weight decay inside</td>
 *       <td>SgdMomentum: no adaptation, no weight decay (SimCLR's exclusion)</td></tr>
 * </table>
 * A learning-rate {@link ISchedule} (e.g. {@link WarmupCosineSchedule}) replaces the constant rate when given.
 *
 * <p>Usage: build the graph configuration as usual, then {@code optimizer.applyTo(conf)} before
 * {@code new ComputationGraph(conf)}; for LARS also call {@link Lars#bind(ComputationGraph)} after
 * {@code init()} ({@link TrainingLoop} does it). {@link #applyTo(ComputationGraph)} re-targets an existing graph
 * (e.g. a restored backbone for fine-tuning) and resets its updater state.
 *
 * @param type           ADAM, SGD or LARS
 * @param learningRate   base rate &gt; 0 (the schedule's own base rate wins when a schedule is set)
 * @param schedule       per-iteration schedule, or null for a constant rate
 * @param momentum       mu in [0, 1) (SGD, LARS)
 * @param weightDecay    wd &gt;= 0, applied to weights only
 * @param beta1          Adam's first-moment decay in [0, 1)
 * @param beta2          Adam's second-moment decay in [0, 1)
 * @param epsilon        Adam's epsilon &gt; 0
 * @param trustCoefficient LARS eta &gt; 0
 */
public record OptimizerConfig(Type type, double learningRate, ISchedule schedule, double momentum, double weightDecay,
                              double beta1, double beta2, double epsilon, double trustCoefficient) {

    /** The optimiser families the SSL papers use. */
    public enum Type { ADAM, SGD, LARS }

    public OptimizerConfig {
        Checks.notNull("type", type);
        Checks.positive("learningRate", learningRate);
        Checks.unitInterval("momentum", momentum);
        Checks.nonNegative("weightDecay", weightDecay);
        Checks.unitInterval("beta1", beta1);
        Checks.unitInterval("beta2", beta2);
        Checks.positive("epsilon", epsilon);
        Checks.positive("trustCoefficient", trustCoefficient);
    }

    /** Adam(lr) with betas (0.9, 0.999), eps 1e-8, no weight decay. */
    public static OptimizerConfig adam(double learningRate) {
        return new OptimizerConfig(Type.ADAM, learningRate, null, 0.9, 0, 0.9, 0.999, 1e-8, Lars.DEFAULT_ETA);
    }

    /** SGD with heavy-ball momentum, no weight decay. */
    public static OptimizerConfig sgd(double learningRate, double momentum) {
        return new OptimizerConfig(Type.SGD, learningRate, null, momentum, 0, 0.9, 0.999, 1e-8, Lars.DEFAULT_ETA);
    }

    /** LARS with eta = 1e-3. */
    public static OptimizerConfig lars(double learningRate, double momentum, double weightDecay) {
        return new OptimizerConfig(Type.LARS, learningRate, null, momentum, weightDecay, 0.9, 0.999, 1e-8,
                Lars.DEFAULT_ETA);
    }

    public OptimizerConfig withSchedule(ISchedule s) {
        return new OptimizerConfig(type, learningRate, s, momentum, weightDecay, beta1, beta2, epsilon, trustCoefficient);
    }

    public OptimizerConfig withWeightDecay(double wd) {
        return new OptimizerConfig(type, learningRate, schedule, momentum, wd, beta1, beta2, epsilon, trustCoefficient);
    }

    public OptimizerConfig withBetas(double b1, double b2, double eps) {
        return new OptimizerConfig(type, learningRate, schedule, momentum, weightDecay, b1, b2, eps, trustCoefficient);
    }

    public OptimizerConfig withTrustCoefficient(double eta) {
        return new OptimizerConfig(type, learningRate, schedule, momentum, weightDecay, beta1, beta2, epsilon, eta);
    }

    /** @return a fresh updater for weight parameters (a new instance each call: DL4J mutates updaters) */
    public IUpdater weightUpdater() {
        ISchedule s = schedule == null ? null : schedule.clone();
        return switch (type) {
            case ADAM -> adam(s);
            case SGD -> new SgdMomentum(learningRate, s, momentum);
            case LARS -> new Lars(learningRate, s, momentum, weightDecay, trustCoefficient);
        };
    }

    /** @return a fresh updater for biases and BatchNorm parameters: never adapted, never decayed */
    public IUpdater excludedUpdater() {
        ISchedule s = schedule == null ? null : schedule.clone();
        return switch (type) {
            case ADAM -> adam(s);
            case SGD, LARS -> new SgdMomentum(learningRate, s, momentum);
        };
    }

    private IUpdater adam(ISchedule s) {
        Adam a = new Adam(learningRate, beta1, beta2, epsilon);
        if (s != null) {
            a.setLearningRateSchedule(s);
        }
        return a;
    }

    /** @return DL4J regularisation for weight parameters (LARS decays inside its updater, so none) */
    public List<Regularization> weightRegularization() {
        if (weightDecay == 0) {
            return List.of();
        }
        return switch (type) {
            case ADAM -> List.of(new WeightDecay(weightDecay, true));
            case SGD -> List.of(new L2Regularization(weightDecay));
            case LARS -> List.of();
        };
    }

    /** @return the learning rate at an iteration (schedule or constant) */
    public double learningRateAt(int iteration, int epoch) {
        return schedule == null ? learningRate : schedule.valueAt(iteration, epoch);
    }

    /**
     * Sets updaters and regularisation on every layer of a built (not yet instantiated) graph configuration:
     * BatchNormalization layers get {@link #excludedUpdater()} and no regularisation; other layers get
     * {@link #weightUpdater()} plus {@link #weightRegularization()} for weights and {@link #excludedUpdater()}
     * without regularisation for biases (via DL4J's {@code biasUpdater}, which BaseLayer returns for the keys its
     * ParamInitializer marks as biases). Frozen layers are left alone (DL4J gives them a NoOp updater).
     *
     * @return {@code conf}, modified in place (DL4J configurations are mutable)
     */
    public ComputationGraphConfiguration applyTo(ComputationGraphConfiguration conf) {
        Checks.notNull("conf", conf);
        for (GraphVertex v : conf.getVertices().values()) {
            if (v instanceof LayerVertex lv && lv.getLayerConf() != null) {
                applyTo(lv.getLayerConf().getLayer());
            }
        }
        return conf;
    }

    /**
     * Re-targets an initialised graph: applies {@link #applyTo(Layer)} to each layer's configuration and drops the
     * graph's updater (its state is lost; a new one is built on the next step), then binds LARS.
     */
    public ComputationGraph applyTo(ComputationGraph graph) {
        Checks.notNull("graph", graph);
        applyTo(graph.getConfiguration());
        for (org.deeplearning4j.nn.api.Layer l : graph.getLayers()) {
            applyTo(l.conf().getLayer());
        }
        graph.setUpdater(null);
        Lars.bind(graph);
        return graph;
    }

    /** Sets this optimiser on one layer configuration (see {@link #applyTo(ComputationGraphConfiguration)}). */
    public void applyTo(Layer layer) {
        if (layer instanceof FrozenLayer || layer instanceof FrozenLayerWithBackprop) {
            return;
        }
        if (layer instanceof BatchNormalization bn) {
            bn.setIUpdater(excludedUpdater());
            bn.setBiasUpdater(null);
            bn.setRegularization(List.of());
            bn.setRegularizationBias(List.of());
        } else if (layer instanceof BaseLayer b) {
            b.setIUpdater(weightUpdater());
            b.setBiasUpdater(excludedUpdater());
            b.setRegularization(weightRegularization());
            b.setRegularizationBias(List.of());
        } else if (layer instanceof AbstractSameDiffLayer sd) {
            sd.setUpdater(weightUpdater());
            sd.setBiasUpdater(excludedUpdater());
            sd.setRegularization(weightRegularization());
            sd.setRegularizationBias(List.of());
        }
    }

    /** @return a plain map for run manifests */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", type.name());
        m.put("learningRate", learningRate);
        m.put("schedule", schedule == null ? "constant" : schedule.toString());
        m.put("momentum", momentum);
        m.put("weightDecay", weightDecay);
        m.put("beta1", beta1);
        m.put("beta2", beta2);
        m.put("epsilon", epsilon);
        m.put("trustCoefficient", trustCoefficient);
        return m;
    }
}
