package org.umm4j.spark;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.umm4j.backend.Umm4jBackend;
import org.umm4j.data.augment.FloatImage;
import org.umm4j.data.augment.Recipe;
import org.umm4j.ssl.Objectives;
import org.umm4j.train.StepRandom;
import org.umm4j.umm.CpaSketch;
import org.umm4j.umm.FlatAdam;
import org.umm4j.umm.Hypergradient;
import org.umm4j.umm.UmmConfig;
import org.umm4j.umm.UmmProblem;

import java.io.Serializable;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The UMM step as it runs on a Spark worker: everything a worker needs to rebuild f_e, f_l, the {@link UmmProblem},
 * the {@link Hypergradient} and {@link FlatAdam}, as serialisable settings (graph configurations as DL4J JSON, the
 * objective by registry name and hyper-parameters, the UMM weights as numbers, the recipe as a
 * {@link RecipeFactory}). Arrays travel separately: f_e's parameters in a broadcast made once, and the round's state
 * vector.
 *
 * <p>State vector, in the f_l graph's data type, of length {@code P + 2T + 2F}:
 * <pre>
 *   [ f_l params (P: weights and BatchNorm running statistics, in graph.params() order)
 *   | Adam m of theta (T) | Adam v of theta (T) | Adam m of phi (F) | Adam v of phi (F) ]
 * </pre>
 * where theta is f_l's trainable parameters and phi the projector's when the Neumann hypergradient splits it off
 * (F = 0 otherwise), as laid out by {@link UmmProblem}. All of it is averaged coordinate-wise by
 * {@link SparkParameterAveraging#average}.
 *
 * <p>One local step on a {@link UmmBatch}, exactly as {@code UmmFineTuner.step}: augment the two views; early features
 * {@code e_v = f_e(x_v)} in inference mode; for BYOL the frozen target network's outputs of both views (its
 * configuration travels here, its parameters in a broadcast made once); {@code problem.setBatch(e1, e2, targets,
 * sketchSeed)}; the hypergradient (or,
 * for the control, the gradient of L_SSL); Adam with the global step count {@code t}; {@code commit} (sets the new
 * parameters and scores them with one training-mode forward). The loss reported is L_SSL after
 * the update, the extra metric dR, as the single-machine run logs them.
 */
final class UmmWorker implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String earlyConf;
    private final String lastConf;
    private final String targetConf;   // null without a stop-gradient target network
    private final String objectiveName;
    private final HashMap<String, Double> objectiveParams;
    private final double[] umm;   // beta, lambda, eps, tau, sketch k, sketch step, sketch delta, sketch batch, top-k
    private final String projector;
    private final boolean splitPhi;
    private final boolean control;
    private final String hypergradient;
    private final Hypergradient.Difference hvp;
    private final double innerLr;
    private final double lr;
    private final RecipeFactory recipe;
    private final int channels;
    private final int height;
    private final int width;
    private final long seed;
    private final long paramLength;
    private final long thetaLength;
    private final long phiLength;

    UmmWorker(ComputationGraph early, ComputationGraph last, ComputationGraph target, String objectiveName,
              Map<String, Double> objectiveParams,
              UmmConfig config, String projector, boolean splitPhi, boolean control, String hypergradient,
              Hypergradient.Difference hvp, double innerLr, double lr, RecipeFactory recipe, int channels, int height,
              int width, long seed, long thetaLength, long phiLength) {
        this.earlyConf = early.getConfiguration().toJson();
        this.lastConf = last.getConfiguration().toJson();
        this.targetConf = target == null ? null : target.getConfiguration().toJson();
        this.objectiveName = objectiveName;
        this.objectiveParams = new HashMap<>(objectiveParams);
        this.umm = new double[]{config.beta(), config.lambda(), config.eps(), config.tau(), config.sketch().k(),
                config.sketch().stepScale(), config.sketch().delta(), config.sketchBatch(), config.membershipTopK()};
        this.projector = projector;
        this.splitPhi = splitPhi;
        this.control = control;
        this.hypergradient = hypergradient;
        this.hvp = hvp;
        this.innerLr = innerLr;
        this.lr = lr;
        this.recipe = recipe;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.seed = seed;
        this.paramLength = last.params().length();
        this.thetaLength = thetaLength;
        this.phiLength = phiLength;
    }

    /** @return the state length {@code P + 2T + 2F} */
    long stateLength() {
        return paramLength + 2 * thetaLength + 2 * phiLength;
    }

    UmmConfig config() {
        return new UmmConfig(umm[0], umm[1], umm[2], umm[3], new CpaSketch((int) umm[4], umm[5], umm[6]), (int) umm[7],
                (int) umm[8]);
    }

    /**
     * The initial state: f_l's parameters and zero Adam moments (Adam's first step from zero moments is its step
     * from no state).
     */
    INDArray initialState(INDArray lastParams) {
        INDArray flat = Nd4j.toFlattened('c', lastParams).reshape(new long[]{paramLength});
        return Nd4j.concat(0, flat, Nd4j.zeros(flat.dataType(), 2 * thetaLength + 2 * phiLength));
    }

    /** @return f_l's parameters (a view of {@code state}) */
    INDArray params(INDArray state) {
        return state.get(NDArrayIndex.interval(0, paramLength));
    }

    /** @return Adam's m and v of theta, then of phi when F &gt; 0 (views of {@code state}) */
    INDArray[] moments(INDArray state) {
        long t = thetaLength;
        long p = paramLength;
        INDArray mt = state.get(NDArrayIndex.interval(p, p + t));
        INDArray vt = state.get(NDArrayIndex.interval(p + t, p + 2 * t));
        if (phiLength == 0) {
            return new INDArray[]{mt, vt};
        }
        long f = phiLength;
        return new INDArray[]{mt, vt, state.get(NDArrayIndex.interval(p + 2 * t, p + 2 * t + f)),
                state.get(NDArrayIndex.interval(p + 2 * t + f, p + 2 * t + 2 * f))};
    }

    /**
     * K local steps on batches {@code first .. first + k - 1} of this partition, from {@code state}.
     *
     * @param state       the round's starting state (this partition's private copy)
     * @param batches     the partition's batches of the epoch, in order
     * @param first       index of the first batch of this round
     * @param k           local steps
     * @param t0          Adam steps taken before this round (the first local step is Adam step {@code t0 + 1})
     * @param earlyParams  f_e's parameters (frozen; not modified)
     * @param targetParams the stop-gradient target network's parameters (BYOL; frozen), or null without one
     */
    SparkParameterAveraging.LocalResult run(INDArray state, List<UmmBatch> batches, int first, int k, long t0,
                                             INDArray earlyParams, INDArray targetParams) {
        if (state.length() != stateLength()) {
            throw new IllegalArgumentException("state has " + state.length() + " entries, expected " + stateLength());
        }
        if (first + k > batches.size()) {
            throw new IllegalStateException("the partition holds " + batches.size() + " batches, the round needs batches "
                    + first + ".." + (first + k - 1));
        }
        Umm4jBackend.init();
        ComputationGraph early = new ComputationGraph(ComputationGraphConfiguration.fromJson(earlyConf));
        early.init(earlyParams, true);
        ComputationGraph target = null;
        if (targetConf != null) {
            if (targetParams == null) {
                throw new IllegalArgumentException("this step has a target network: targetParams must not be null");
            }
            target = new ComputationGraph(ComputationGraphConfiguration.fromJson(targetConf));
            target.init(targetParams, true);
            target.getConfiguration().setTrainingWorkspaceMode(WorkspaceMode.NONE);
        }
        ComputationGraph last = new ComputationGraph(ComputationGraphConfiguration.fromJson(lastConf));
        last.init(params(state).dup().reshape(1, paramLength), false);   // DL4J wants a [1, P] row
        UmmProblem problem = new UmmProblem(last, Objectives.create(objectiveName, objectiveParams), config(), projector,
                splitPhi);
        INDArray[] mom = moments(state);
        FlatAdam adamTheta = new FlatAdam(lr);
        adamTheta.restore(mom[0], mom[1]);
        FlatAdam adamPhi = null;
        if (phiLength > 0) {
            adamPhi = new FlatAdam(lr);
            adamPhi.restore(mom[2], mom[3]);
        }
        Hypergradient hg = control ? null : Hypergradient.byName(hypergradient, innerLr, hvp);
        Recipe r = recipe.get();
        double lossSum = 0;
        double drSum = 0;
        for (int j = 0; j < k; j++) {
            UmmBatch b = batches.get(first + j);
            // the single-machine loop reseeds ND4J's generator per step; do the same so nothing depends on the worker
            Nd4j.getRandom().setSeed(StepRandom.seed(seed, b.epoch(), b.step(), StepRandom.ND4J_STREAM));
            INDArray x1 = view(r, b, 0);
            INDArray x2 = view(r, b, 1);
            INDArray e1 = early.outputSingle(false, x1);
            INDArray e2 = early.outputSingle(false, x2);
            List<INDArray> targets = List.of();
            if (target != null) {
                // BYOL: the frozen target's outputs of both views (training-mode BatchNorm), fixed for the step
                int n = (int) x1.size(0);
                INDArray t = target.feedForward(new INDArray[]{Nd4j.concat(0, x1, x2)}, true, true)
                        .get(target.getConfiguration().getNetworkOutputs().get(0)).detach();
                targets = List.of(t.get(NDArrayIndex.interval(0, n), NDArrayIndex.all()),
                        t.get(NDArrayIndex.interval(n, 2 * n), NDArrayIndex.all()));
            }
            problem.setBatch(e1, e2, targets, StepRandom.forStep(seed, b.epoch(), b.step()).nextLong());
            INDArray theta = problem.theta();
            INDArray phi = problem.phi();
            INDArray dirTheta;
            INDArray dirPhi = null;
            if (hg == null) {
                dirTheta = problem.ssl(theta, phi, true).gradTheta();
            } else {
                Hypergradient.Directions d = hg.compute(problem, theta, phi);
                dirTheta = d.theta();
                dirPhi = d.phi();
            }
            long t = t0 + j + 1;
            INDArray newTheta = adamTheta.step(theta, dirTheta, t);
            INDArray newPhi = dirPhi == null || adamPhi == null ? null : adamPhi.step(phi, dirPhi, t);
            Map<String, Double> parts = problem.commit(newTheta, newPhi);
            lossSum += parts.get("ssl");
            drSum += parts.get("dR");
        }
        problem.copyParametersTo(last);
        INDArray out = state.dup();
        params(out).assign(Nd4j.toFlattened('c', last.params()).reshape(paramLength));
        INDArray[] outMom = moments(out);
        outMom[0].assign(adamTheta.m().reshape(thetaLength));
        outMom[1].assign(adamTheta.v().reshape(thetaLength));
        if (adamPhi != null) {
            outMom[2].assign(adamPhi.m().reshape(phiLength));
            outMom[3].assign(adamPhi.v().reshape(phiLength));
        }
        return new SparkParameterAveraging.LocalResult(out, lossSum, new double[]{drSum}, k);
    }

    /** View {@code v} of the batch's images, {@code [B, C, S, S]} FLOAT, as {@code MultiViewBatchIterator} makes it. */
    INDArray view(Recipe r, UmmBatch b, int v) {
        List<ImageRecord> images = b.images();
        int n = images.size();
        int expected = channels * height * width;
        float[] data = null;
        long[] shape = null;
        for (int i = 0; i < n; i++) {
            ImageRecord rec = images.get(i);
            if (rec.pixels().length != expected) {
                throw new IllegalArgumentException("image " + rec.index() + " has " + rec.pixels().length
                        + " bytes, expected " + channels + "x" + height + "x" + width + " = " + expected);
            }
            FloatImage out = r.applyView(FloatImage.fromUint8(rec.pixels(), 0, channels, height, width), seed, b.epoch(),
                    rec.index(), v);
            if (data == null) {
                shape = new long[]{n, out.channels(), out.height(), out.width()};
                data = new float[n * out.size()];
            } else if (out.channels() != shape[1] || out.height() != shape[2] || out.width() != shape[3]) {
                throw new IllegalArgumentException("recipe " + r.name() + " makes views of different shapes");
            }
            System.arraycopy(out.data(), 0, data, i * out.size(), out.size());
        }
        return Nd4j.create(data, shape, 'c');
    }
}
