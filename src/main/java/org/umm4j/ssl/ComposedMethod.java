package org.umm4j.ssl;

import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.umm4j.nn.Backbone;
import org.umm4j.nn.ExternalGradients;
import org.umm4j.nn.MlpHeadConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The one implementation of {@link SslMethod} behind {@link Methods}: online network = backbone + heads, the
 * objective, and the target kind of the registry line. See {@link SslMethod} for the step.
 *
 * <p>EMA targets (BYOL, MoCo v2's key encoder) are a backbone with the first head only (the projector),
 * updated after each step by {@code t <- tau t + (1 - tau) o} over every parameter of the same name, BatchNorm
 * running statistics included; they run in training mode (batch statistics) as in the BYOL paper. BYOL's tau
 * follows {@link MomentumSchedule#cosine}; MoCo v2 keeps m = 0.99 ({@value #MOCO_MOMENTUM}).
 */
final class ComposedMethod implements SslMethod {
    static final double MOCO_MOMENTUM = 0.99;
    static final String TARGET = "target";
    static final String QUEUE = "queue";

    private final String name;
    private final Objective objective;
    private final MethodConfig config;
    private final List<MlpHeadConfig> heads;
    private final Methods.Targets targets;
    private final MomentumSchedule tauSchedule;
    private ComputationGraph target;
    private NegativeQueue queue;

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
        if (views == null || views.size() != 2) {
            throw new IllegalArgumentException(name + " takes 2 views per batch, got "
                    + (views == null ? "null" : views.size()));
        }
        if ((targets == Methods.Targets.EMA || targets == Methods.Targets.QUEUE) && target == null) {
            throw new IllegalStateException(name + ": call attach(online) or restoreAuxiliary(...) before step");
        }
        int n = (int) views.get(0).size(0);
        if (views.get(1).size(0) != n) {
            throw new IllegalArgumentException("views have " + n + " and " + views.get(1).size(0) + " samples");
        }
        INDArray x = Nd4j.concat(0, views.get(0), views.get(1));
        online.getConfiguration().setTrainingWorkspaceMode(WorkspaceMode.NONE);
        Map<String, INDArray> acts = online.feedForward(new INDArray[]{x}, true, false);
        INDArray out = acts.get(online.getConfiguration().getNetworkOutputs().get(0));
        INDArray o1 = rows(out, 0, n);
        INDArray o2 = rows(out, n, 2 * n);
        ObjectiveInput input = switch (targets) {
            case NONE -> ObjectiveInput.of(o1, o2);
            case SELF -> {
                INDArray z = acts.get(heads.get(0).name()).dup();
                yield ObjectiveInput.withTargets(o1, o2, rows(z, 0, n), rows(z, n, 2 * n));
            }
            case EMA -> {
                INDArray t = targetOutput(x);
                yield ObjectiveInput.withTargets(o1, o2, rows(t, 0, n), rows(t, n, 2 * n));
            }
            case QUEUE -> {
                INDArray k = targetOutput(x);
                // symmetric MoCo: q1 against k2 and q2 against k1
                yield new ObjectiveInput(List.of(o1, o2), List.of(rows(k, n, 2 * n), rows(k, 0, n)),
                        Map.of(QUEUE, queue.negatives()));
            }
        };
        LossAndGradients lg = objective.compute(input);
        INDArray grad = Nd4j.concat(0, lg.gradient(0), lg.gradient(1)).castTo(out.dataType());
        Gradient g = online.backpropGradient(grad);
        ExternalGradients.applyUpdater(online, g, (int) iteration, epoch, 2 * n);
        if (targets == Methods.Targets.EMA) {
            ema(online, target, tauSchedule.tau(iteration));
        } else if (targets == Methods.Targets.QUEUE) {
            ema(online, target, MOCO_MOMENTUM);
            queue.enqueue(targetOutput(views.get(0)));
        }
        Map<String, Double> parts = new LinkedHashMap<>(lg.parts());
        return new StepOutput(lg.loss(), parts);
    }

    /** The target's output in training mode (batch statistics); feedForward, since outputSingle(train) breaks on fixed-affine BN. */
    private INDArray targetOutput(INDArray x) {
        target.getConfiguration().setTrainingWorkspaceMode(WorkspaceMode.NONE);
        return target.feedForward(new INDArray[]{x}, true, true)
                .get(target.getConfiguration().getNetworkOutputs().get(0)).detach();
    }

    private static INDArray rows(INDArray a, int from, int to) {
        return a.get(NDArrayIndex.interval(from, to), NDArrayIndex.all());
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
        return queue == null ? Map.of() : Map.of(QUEUE, queue.negatives());
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
    }

    @Override
    public String toString() {
        return name + " " + new ArrayList<>(heads.stream().map(MlpHeadConfig::name).toList());
    }
}
