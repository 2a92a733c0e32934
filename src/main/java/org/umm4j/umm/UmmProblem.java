package org.umm4j.umm;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.umm4j.nn.WorkspaceBackprop;
import org.deeplearning4j.nn.conf.graph.ScaleVertex;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.umm4j.crr.CodingRate;
import org.umm4j.crr.Memberships;
import org.umm4j.nn.Taps;
import org.umm4j.ssl.LossAndGradients;
import org.umm4j.ssl.Objective;
import org.umm4j.ssl.ObjectiveInput;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The UMM bi-level problem (Qiang, Song et al., arXiv 2410.00772; DESIGN.md section 4) over the last layers f_l of
 * a ResNet split at an early tap, as first-order oracles for a {@link Hypergradient}.
 *
 * <pre>
 *   e1, e2 = f_e(x1), f_e(x2)                      [B, C_t, H_t, W_t], frozen, computed once per batch
 *   z_v    = pool(f_l(e_v)),  o_v = heads(z_v)     [B, D] pooled features, [B, D_out] last head
 *   L_SSL  = objective([o1, o2] (, targets))
 *   L_in   = L_SSL + beta  JS(p_e, p_l)             p_l = softmax(-logvol) from the CPA sketch on the first S rows of e1
 *   L_out  = L_SSL - lambda dR([z1; z2] | P)         P = instance membership of [z1; z2] (dense, or top-k), held fixed in the step
 * </pre>
 *
 * <p>Design. The CPA density is about the LAST LAYER's features, the pooled backbone output (not a head), and
 * dR is measured on them too, while L_SSL is about the last head. So the problem owns a private copy of f_l's
 * graph with two extra outputs: identity ({@link ScaleVertex} 1.0) vertices {@code umm_pool} on {@link Taps#POOL}
 * and {@code umm_out} on f_l's output; both are leaves, so DL4J sums their external errors into {@code pool}
 * during back-propagation (an output vertex that has children of its own would have its children's error
 * overwritten). One backward pass carries dL_SSL/d o and the dR / JS errors on z together.
 *
 * <p>theta is f_l's trainable parameters (BatchNorm running statistics excluded: they have no gradient) as one
 * flat vector in a fixed order of {@code layer_param} keys; when {@code splitProjector} is set, the projection
 * head's parameters (layers named {@code projector} or {@code projector_*}) are taken out of theta and form phi,
 * the outer variables of {@link NeumannHypergradient}. An oracle copies theta (and phi) into the graph, computes,
 * and restores the graph's parameters, BatchNorm running statistics included, so evaluations have no side effects.
 *
 * <p>Everything that must stay fixed within one bi-level step for the oracles to be gradients of ONE scalar
 * function is fixed by {@link #setBatch}: the early features, the sketch directions (drawn once from the seed),
 * the instance membership P (computed from the pooled features at the step's starting theta) and the
 * stop-gradient targets of BYOL-style objectives (given by the caller, e.g. from the EMA target network, and
 * treated as constants for the step). BatchNorm layers run in training mode (batch statistics): the SSL forward on
 * the 2B views, the sketch forward on its own (k+1)S stacked batch.
 *
 * <p>Cost per inner gradient: one forward+backward of f_l on 2B rows plus one on (k+1)S rows (skipped when
 * beta = 0); per outer gradient: one on 2B rows plus the dR gradient (2B x D). Each forward+backward with a gradient
 * runs through {@link WorkspaceBackprop} (DL4J's workspaces and forward cache; the terms are computed inside its call
 * by the same code): UMM steps 17-29 % shorter than forward, external errors and backward with workspaces off, which
 * {@code -Dumm4j.workspaces=false} restores (benchmarks/README.md). Not thread-safe.
 */
public final class UmmProblem implements BilevelProblem {
    /** Name of the identity vertex exposing the pooled features. */
    static final String POOL_OUT = "umm_pool";
    /** Name of the identity vertex exposing f_l's own output. */
    static final String HEAD_OUT = "umm_out";

    private final ComputationGraph net;
    private final Objective objective;
    private final UmmConfig config;
    private final CodingRate codingRate;
    private final List<String> thetaKeys = new ArrayList<>();
    private final List<String> phiKeys = new ArrayList<>();
    private final List<String> statsKeys = new ArrayList<>();
    private final Map<String, INDArray> params;
    private final long thetaLength;
    private final long phiLength;

    private INDArray views;
    private int batch;
    private List<INDArray> targets = List.of();
    private INDArray membership;
    private org.umm4j.crr.SparseMembership sparseMembership;
    private CpaSketch.Perturbation perturbation;
    /** The membership is due (lambda != 0) but not built yet: it comes from the first forward at the start point. */
    private boolean membershipPending;
    private INDArray startTheta;
    private INDArray startPhi;
    /** Running-statistics steps of f_l's BatchNorm layers on the step's views at the start point (key -> step). */
    private Map<String, INDArray> bnSteps;
    /** L_SSL and dR at the start point, logged by {@link #commit}. */
    private Map<String, Double> startParts;

    /**
     * @param lastLayers     f_l: input vertex = the tap, graph output = pooled features or the last head; its
     *                       parameters are copied, the graph itself is not modified
     * @param objective      the SSL objective scoring f_l's output of the two views
     * @param config         beta, lambda, eps, tau, sketch settings
     * @param projectorName  name of the projection head (phi) when {@code splitProjector}, else ignored (may be null)
     * @param splitProjector take the projection head out of theta into phi
     */
    public UmmProblem(ComputationGraph lastLayers, Objective objective, UmmConfig config, String projectorName,
                      boolean splitProjector) {
        Objects.requireNonNull(lastLayers, "lastLayers");
        this.objective = Objects.requireNonNull(objective, "objective");
        this.config = Objects.requireNonNull(config, "config");
        this.codingRate = new CodingRate(config.eps());
        ComputationGraphConfiguration conf = lastLayers.getConfiguration().clone();
        if (!conf.getVertices().containsKey(Taps.POOL)) {
            throw new IllegalArgumentException("lastLayers has no '" + Taps.POOL + "' vertex: split the backbone at a tap before the pool");
        }
        if (lastLayers.getNumOutputArrays() != 1) {
            throw new IllegalArgumentException("lastLayers must have one output, has " + lastLayers.getNumOutputArrays());
        }
        String out = conf.getNetworkOutputs().get(0);
        conf.getVertices().put(POOL_OUT, new ScaleVertex(1.0));
        conf.getVertexInputs().put(POOL_OUT, List.of(Taps.POOL));
        conf.getVertices().put(HEAD_OUT, new ScaleVertex(1.0));
        conf.getVertexInputs().put(HEAD_OUT, List.of(out));
        conf.setNetworkOutputs(new ArrayList<>(List.of(POOL_OUT, HEAD_OUT)));
        conf.setTrainingWorkspaceMode(WorkspaceMode.NONE);
        this.net = new ComputationGraph(conf);
        net.init();
        copyByName(lastLayers, net);
        this.params = net.paramTable();
        Set<String> noGrad = Set.of(BatchNormalizationParamInitializer.GLOBAL_MEAN,
                BatchNormalizationParamInitializer.GLOBAL_VAR, BatchNormalizationParamInitializer.GLOBAL_LOG_STD);
        if (splitProjector && (projectorName == null || projectorName.isEmpty())) {
            throw new IllegalArgumentException("splitProjector needs the projection head's name (projectorName)");
        }
        long tl = 0;
        long pl = 0;
        for (Layer layer : net.getLayers()) {
            String lname = layer.conf().getLayer().getLayerName();
            boolean inPhi = splitProjector && (lname.equals(projectorName) || lname.startsWith(projectorName + "_"));
            for (Map.Entry<String, INDArray> e : layer.paramTable().entrySet()) {
                if (noGrad.contains(e.getKey())) {
                    statsKeys.add(lname + "_" + e.getKey());
                    continue;
                }
                String key = lname + "_" + e.getKey();
                if (inPhi) {
                    phiKeys.add(key);
                    pl += e.getValue().length();
                } else {
                    thetaKeys.add(key);
                    tl += e.getValue().length();
                }
            }
        }
        if (splitProjector && phiKeys.isEmpty()) {
            throw new IllegalArgumentException("f_l has no layer named '" + projectorName + "' (projector) to use as phi");
        }
        this.thetaLength = tl;
        this.phiLength = pl;
    }

    /** @return the problem's configuration */
    public UmmConfig config() {
        return config;
    }

    /** @return the private f_l graph (two outputs) whose parameters the oracles evaluate; its params are the truth */
    public ComputationGraph graph() {
        return net;
    }

    /** @return current theta (a copy) */
    public INDArray theta() {
        return pack(params, thetaKeys, thetaLength);
    }

    /** @return current phi (a copy; empty when the projector is not split off) */
    public INDArray phi() {
        return pack(params, phiKeys, phiLength);
    }

    /** Sets the graph's theta (and phi when non-empty) permanently, e.g. after an optimiser step. */
    public void setParameters(INDArray theta, INDArray phi) {
        unpack(theta, thetaKeys, thetaLength, "theta");
        if (phi != null && phi.length() > 0) {
            unpack(phi, phiKeys, phiLength, "phi");
        }
    }

    /** Copies this problem's f_l parameters (BN statistics included) into {@code target} by parameter name. */
    public void copyParametersTo(ComputationGraph target) {
        copyByName(net, target);
    }

    /** Copies {@code source}'s parameters (e.g. f_l after a full-network SSL step) into this problem's graph. */
    public void copyParametersFrom(ComputationGraph source) {
        copyByName(source, net);
    }

    /**
     * Fixes the data of one bi-level step.
     *
     * @param e1         early features of view 1, {@code [B, C_t, H_t, W_t]}
     * @param e2         early features of view 2, same shape
     * @param targets    stop-gradient targets of the objective ({@code [t1, t2]} for BYOL), or empty
     * @param sketchSeed seed of the sketch directions
     */
    public void setBatch(INDArray e1, INDArray e2, List<INDArray> targets, long sketchSeed) {
        Objects.requireNonNull(e1, "e1");
        Objects.requireNonNull(e2, "e2");
        if (!java.util.Arrays.equals(e1.shape(), e2.shape()) || e1.rank() != 4) {
            throw new IllegalArgumentException("e1 and e2 must be equal [B, C, H, W] early features, got "
                    + java.util.Arrays.toString(e1.shape()) + " and " + java.util.Arrays.toString(e2.shape()));
        }
        this.batch = (int) e1.size(0);
        if (batch < 2) {
            throw new IllegalArgumentException("the batch needs at least 2 samples, got " + batch);
        }
        this.views = Nd4j.concat(0, e1, e2).castTo(net.params().dataType());
        this.targets = targets == null ? List.of() : List.copyOf(targets);
        this.perturbation = null;
        this.membership = null;
        this.sparseMembership = null;
        if (config.beta() != 0) {
            int s = Math.min(config.sketchBatch(), batch);
            if (s < 2) {
                throw new IllegalArgumentException("the sketch needs at least 2 samples, sketchBatch = " + config.sketchBatch());
            }
            INDArray sub = e1.get(NDArrayIndex.interval(0, s)).castTo(net.params().dataType());
            this.perturbation = config.sketch().perturb(sub, sketchSeed);
        }
        // P is defined by the features at the step's starting parameters. Rather than a forward pass of its own,
        // it is built from the first oracle call made there (the hypergradients start with the inner gradient at
        // theta), which saves one forward of f_l on 2B rows per step; see ensureMembership for the fallback.
        this.membershipPending = config.lambda() != 0;
        this.startTheta = theta();
        this.startPhi = phi();
        this.bnSteps = null;
        this.startParts = null;
    }

    /** Builds P from pooled features {@code z} [2B, D] computed at the step's starting parameters. */
    private void buildMembership(INDArray z) {
        INDArray zd = z.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE);
        if (config.membershipTopK() > 0) {
            this.sparseMembership = Memberships.instanceTopK(zd, config.tau(),
                    Math.min(config.membershipTopK(), (int) zd.rows() - 1));
        } else {
            this.membership = Memberships.instance(zd, config.tau()).castTo(z.dataType());
        }
        membershipPending = false;
    }

    /** Whether (theta, phi) of an oracle call is exactly the step's starting point (null = the graph's own). */
    private boolean atStart(INDArray theta, INDArray phi) {
        return (theta == null || sameValues(theta, startTheta))
                && (phi == null || phi.length() == 0 || sameValues(phi, startPhi));
    }

    private static boolean sameValues(INDArray a, INDArray b) {
        if (a.length() != b.length()) {
            return false;
        }
        INDArray bb = b.dataType() == a.dataType() ? b : b.castTo(a.dataType());
        return a.reshape(a.length()).sub(bb.reshape(bb.length())).amaxNumber().doubleValue() == 0;
    }

    /** Fallback when the first call needing P is not at the start point: one forward at the start parameters. */
    private void ensureMembership() {
        if (!membershipPending) {
            return;
        }
        INDArray saved = net.params().dup();
        try {
            unpack(startTheta, thetaKeys, thetaLength, "theta");
            if (startPhi.length() > 0) {
                unpack(startPhi, phiKeys, phiLength, "phi");
            }
            buildMembership(forward(views)[0]);
        } finally {
            net.params().assign(saved);
        }
    }

    /**
     * Keeps what the step's first gradient evaluation at its start point learned about the batch: the BatchNorm
     * running-statistics steps of the 2B views (DL4J returns them as the "gradients" of the statistics:
     * {@code (running - batch statistic)(1 - decay)}, applied as {@code running -= step}; taken before the sketch's
     * backward, whose perturbed batch must not move them) and L_SSL and dR there, for the log.
     */
    private void captureStart(Map<String, INDArray> grads, INDArray z, double ssl) {
        Map<String, INDArray> steps = new LinkedHashMap<>();
        for (String k : statsKeys) {
            INDArray g = grads.get(k);
            if (g != null) {
                steps.put(k, g.dup());
            }
        }
        bnSteps = steps;
        Map<String, Double> parts = new LinkedHashMap<>();
        parts.put("ssl", ssl);
        parts.put("dR", loggedRateReduction(z));
        startParts = parts;
    }

    /** dR of pooled features under the instance membership of the configured kind (top-k when set). */
    private double loggedRateReduction(INDArray z) {
        INDArray zd = z.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE);
        // the same membership kind as the outer loss: the dense one costs 2B Cholesky factorisations of D x D
        return config.membershipTopK() > 0
                ? codingRate.rateReduction(zd, Memberships.instanceTopK(zd, config.tau(),
                        Math.min(config.membershipTopK(), (int) zd.rows() - 1)))
                : codingRate.rateReduction(zd, Memberships.instance(zd, config.tau()));
    }

    /**
     * Sets theta (and phi) permanently after an optimiser step and moves f_l's BatchNorm running statistics one
     * step towards the step's batch statistics at its start point (as a PyTorch training step would: one update per
     * step, from the forward pass before the update). Returns L_SSL and dR (instance membership of the configured
     * kind) at the start point, i.e. before the update, as training logs usually report.
     *
     * <p>The statistics and the logged values come from the first gradient evaluation made at the start point
     * (every hypergradient and the control begin there). When there was none, one training-mode forward and a
     * backward with zero errors at the start point provide them.
     */
    public Map<String, Double> commit(INDArray theta, INDArray phi) {
        if (views == null) {
            throw new IllegalStateException("call setBatch(...) before commit");
        }
        if (bnSteps == null) {
            evaluateTerms(startTheta, startPhi, false, false, true);
        }
        setParameters(theta, phi);
        for (Map.Entry<String, INDArray> e : bnSteps.entrySet()) {
            params.get(e.getKey()).subi(e.getValue());
        }
        return new LinkedHashMap<>(startParts);
    }

    /** One oracle result: loss, gradients and named parts (ssl, js, dR). */
    public record Evaluation(double loss, INDArray gradTheta, INDArray gradPhi, Map<String, Double> parts) {
    }

    /** @return L_in and its gradients at (theta, phi); phi may be null or empty to use the graph's */
    public Evaluation inner(INDArray theta, INDArray phi, boolean withGradient) {
        return evaluate(theta, phi, true, withGradient);
    }

    /** @return L_out and its gradients at (theta, phi) */
    public Evaluation outer(INDArray theta, INDArray phi, boolean withGradient) {
        return evaluate(theta, phi, false, withGradient);
    }

    /** @return L_SSL alone (with its gradient) at (theta, phi): the plain SSL step of f_l, for the control runs */
    public Evaluation ssl(INDArray theta, INDArray phi, boolean withGradient) {
        return evaluateTerms(theta, phi, false, false, withGradient);
    }

    @Override
    public INDArray innerGradient(INDArray theta, INDArray phi) {
        return inner(theta, phi, true).gradTheta();
    }

    @Override
    public INDArray outerGradient(INDArray theta, INDArray phi) {
        return outer(theta, phi, true).gradTheta();
    }

    @Override
    public INDArray innerGradientPhi(INDArray theta, INDArray phi) {
        requirePhi();
        return inner(theta, phi, true).gradPhi();
    }

    @Override
    public INDArray outerGradientPhi(INDArray theta, INDArray phi) {
        requirePhi();
        return outer(theta, phi, true).gradPhi();
    }

    private void requirePhi() {
        if (phiKeys.isEmpty()) {
            throw new UnsupportedOperationException("this problem has no outer variables phi (build it with splitProjector)");
        }
    }

    private Evaluation evaluate(INDArray theta, INDArray phi, boolean inner, boolean withGradient) {
        return evaluateTerms(theta, phi, inner && config.beta() != 0, !inner && config.lambda() != 0, withGradient);
    }

    private Evaluation evaluateTerms(INDArray theta, INDArray phi, boolean js, boolean dr, boolean withGradient) {
        if (views == null) {
            throw new IllegalStateException("call setBatch(...) before evaluating the problem");
        }
        boolean atStart = (membershipPending || bnSteps == null) && atStart(theta, phi);
        boolean fromThisForward = membershipPending && atStart;
        if (dr && !fromThisForward) {
            ensureMembership(); // before this call's forward: backprop uses the graph's last forward pass
        }
        INDArray saved = net.params().dup();
        try {
            if (theta != null) {
                unpack(theta, thetaKeys, thetaLength, "theta");
            }
            if (phi != null && phi.length() > 0) {
                unpack(phi, phiKeys, phiLength, "phi");
            }
            Map<String, Double> parts = new LinkedHashMap<>();
            double[] loss = new double[1];
            INDArray[] zAt = new INDArray[1];
            double[] ssl = new double[1];
            Map<String, INDArray> grads = pass(views, withGradient, (z, o) -> {
                zAt[0] = z;
                return mainTerms(z, o, fromThisForward, dr, withGradient, parts, loss, ssl);
            });
            if (withGradient && atStart && bnSteps == null) {
                captureStart(grads, zAt[0], ssl[0]);
            }
            if (js) {
                Map<String, INDArray> g2 = pass(perturbation.stacked(), withGradient, (zs, os) -> new INDArray[]{
                        jsTerm(zs, withGradient, parts, loss), withGradient ? Nd4j.zeros(zs.dataType(), os.shape()) : null});
                if (withGradient) {
                    g2.forEach((k, v) -> grads.merge(k, v, INDArray::addi));
                }
            }
            INDArray gt = null;
            INDArray gp = null;
            if (withGradient) {
                gt = pack(grads, thetaKeys, thetaLength);
                gp = pack(grads, phiKeys, phiLength);
            }
            return new Evaluation(loss[0], gt, gp, parts);
        } finally {
            net.params().assign(saved);
        }
    }

    /**
     * L_SSL of f_l's output of the two views and, for the outer problem, - lambda dR of the pooled features: adds
     * them to {@code loss[0]} and {@code parts}, sets {@code ssl[0]} to L_SSL.
     *
     * @param z pooled features [2B, D] of this forward pass
     * @param o f_l's output [2B, D_out]
     * @return {dL/dz, dL/do} (zeros for dz without dR; null entries without the gradient)
     */
    private INDArray[] mainTerms(INDArray z, INDArray o, boolean fromThisForward, boolean dr, boolean withGradient,
                                 Map<String, Double> parts, double[] loss, double[] ssl) {
        if (fromThisForward) {
            buildMembership(z);
        }
        int n = batch;
        INDArray o1 = rows(o, 0, n);
        INDArray o2 = rows(o, n, 2 * n);
        ObjectiveInput in = targets.isEmpty() ? ObjectiveInput.of(o1, o2)
                : new ObjectiveInput(List.of(o1, o2), targets, Map.of());
        LossAndGradients lg = objective.compute(in);
        loss[0] += lg.loss();
        ssl[0] = lg.loss();
        parts.put("ssl", lg.loss());
        INDArray dOut = withGradient ? Nd4j.concat(0, lg.gradient(0), lg.gradient(1)).castTo(o.dataType()) : null;
        INDArray dZ = withGradient ? Nd4j.zeros(z.dataType(), z.shape()) : null;
        if (dr) {
            double rr = sparseMembership != null ? codingRate.rateReduction(z, sparseMembership)
                    : codingRate.rateReduction(z, membership);
            parts.put("dR", rr);
            loss[0] -= config.lambda() * rr;
            if (withGradient) {
                INDArray g = sparseMembership != null ? codingRate.rateReductionGradient(z, sparseMembership)
                        : codingRate.rateReductionGradient(z, membership);
                dZ.subi(g.castTo(z.dataType()).muli(config.lambda()));
            }
        }
        return new INDArray[]{dZ, dOut};
    }

    /**
     * beta JS(uniform || softmax of the sketch's log-volumes) of the perturbed batch's pooled features {@code zs}:
     * added to {@code loss[0]} and {@code parts}.
     *
     * @return dL/dzs (null without the gradient)
     */
    private INDArray jsTerm(INDArray zs, boolean withGradient, Map<String, Double> parts, double[] loss) {
        CpaSketch.LogVolumes lv = config.sketch().logVolumes(zs, perturbation);
        JsDivergence.Result r = JsDivergence.uniformVsSoftmax(lv.values());
        parts.put("js", r.value());
        loss[0] += config.beta() * r.value();
        if (!withGradient) {
            return null;
        }
        double[] gs = r.gradLogVolume().clone();
        for (int i = 0; i < gs.length; i++) {
            gs[i] *= config.beta();
        }
        return lv.backward(gs).castTo(zs.dataType());
    }

    /** The workspace twin of {@link #net} (built once; its arrays are the net's, which are never replaced). */
    private WorkspaceBackprop twin() {
        if (workspaceTwin == null || !workspaceTwin.isFor(net)) {
            workspaceTwin = new WorkspaceBackprop(net);
        }
        return workspaceTwin;
    }

    private WorkspaceBackprop workspaceTwin;

    /** Tests force either path; null follows {@link WorkspaceBackprop#enabled()}. */
    private Boolean workspaceOverride;

    void workspacePathForTest(boolean on) {
        workspaceOverride = on;
    }

    private boolean workspacePath() {
        return workspaceOverride != null ? workspaceOverride : WorkspaceBackprop.enabled();
    }

    /**
     * One training-mode pass of {@code x}: forward, {@code terms(z, o)} = {dL/dz, dL/do} of the pooled features z and
     * f_l's output o, and with the gradient the backward pass, through {@link WorkspaceBackprop} (DL4J's workspaces
     * and forward cache) unless that path is off.
     *
     * @return the parameter gradients (copies), or null without the gradient
     */
    private Map<String, INDArray> pass(INDArray x, boolean withGradient,
                                       java.util.function.BiFunction<INDArray, INDArray, INDArray[]> terms) {
        if (withGradient && workspacePath()) {
            return copyGradients(twin().backprop(x, List.of(),
                    f -> List.of(terms.apply(f.outputs().get(0), f.outputs().get(1)))));
        }
        INDArray[] out = forward(x);
        INDArray[] d = terms.apply(out[0], out[1]);
        return withGradient ? copyGradients(net.backpropGradient(d[0], d[1])) : null;
    }

    /** Training-mode forward; returns {pooled [N, D], f_l output [N, D_out]} (detached). */
    private INDArray[] forward(INDArray x) {
        Map<String, INDArray> acts = net.feedForward(new INDArray[]{x}, true, false);
        return new INDArray[]{acts.get(POOL_OUT), acts.get(HEAD_OUT)};
    }

    private static Map<String, INDArray> copyGradients(Gradient g) {
        Map<String, INDArray> m = new LinkedHashMap<>();
        for (Map.Entry<String, INDArray> e : g.gradientForVariable().entrySet()) {
            m.put(e.getKey(), e.getValue().dup());
        }
        return m;
    }

    private INDArray pack(Map<String, INDArray> source, List<String> keys, long length) {
        INDArray flat = Nd4j.create(net.params().dataType(), length);
        long off = 0;
        for (String k : keys) {
            INDArray a = source.get(k);
            long len = params.get(k).length();
            if (a != null) {
                flat.get(NDArrayIndex.interval(off, off + len)).assign(Nd4j.toFlattened('c', a).reshape(new long[]{len}));
            }
            off += len;
        }
        return flat;
    }

    private void unpack(INDArray flat, List<String> keys, long length, String what) {
        if (flat.length() != length) {
            throw new IllegalArgumentException(what + " has " + flat.length() + " entries, expected " + length);
        }
        long off = 0;
        INDArray f = Nd4j.toFlattened('c', flat).reshape(new long[]{length});
        for (String k : keys) {
            INDArray p = params.get(k);
            long len = p.length();
            p.assign(f.get(NDArrayIndex.interval(off, off + len)).reshape('c', p.shape()));
            off += len;
        }
    }

    private static INDArray rows(INDArray a, int from, int to) {
        return a.get(NDArrayIndex.interval(from, to), NDArrayIndex.all());
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
}
