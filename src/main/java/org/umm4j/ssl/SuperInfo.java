package org.umm4j.ssl;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * SuperInfo, reconstructed (Wang et al., "Self-supervised learning with superfluous information removal",
 * arXiv 2408.10292; no public code). The paper maximises J = I(z1; z2) - la I(v1; z1 | v2) - lb I(v2; z2 | v1).
 * Here I(z1; z2) is bounded by InfoNCE (the NT-Xent of {@link SimClr}) and each superfluous term by the
 * multi-view information-bottleneck bound I(v1; z1 | v2) &lt;= KL(p(z1 | v1) || p(z2 | v2)) (Federici et al.,
 * ICLR 2020) with diagonal Gaussian heads p(z_i | v_i) = N(mu_i, diag(exp(logvar_i))):
 * <pre>
 *   L = NTXent_T(s1, s2) + la KL12 + lb KL21
 *   KL12 = 1/N sum_n sum_j 1/2 [ lv2 - lv1 + (exp(lv1) + (mu1 - mu2)^2) exp(-lv2) - 1 ]   (KL21 by symmetry)
 * </pre>
 * Views {@code [mu1, mu2, logvar1, logvar2]}, each [N, D]. The KL terms are in closed form, so they need no
 * sampling noise. The contrastive term uses s_i = mu_i by default (deterministic, the mean of the posterior); when
 * the extras "noise1" and "noise2" ([N, D], standard normal draws supplied by the caller with its own seed) are
 * present it uses the reparameterised samples s_i = mu_i + exp(logvar_i / 2) noise_i, and the gradient flows to the
 * log-variances through them as well. Defaults: T = 0.5 (as SimCLR), la = lb = 0.01 (our choice: the paper
 * leaves them open; MIB anneals its beta from 1e-4 to 1). With la = lb the loss is symmetric in the views.
 */
public final class SuperInfo implements Objective {
    public static final double DEFAULT_KL_WEIGHT = 0.01;
    public static final String NOISE1 = "noise1";
    public static final String NOISE2 = "noise2";

    private final double temperature;
    private final double la;
    private final double lb;

    /** T 0.5, la = lb = 0.01. */
    public SuperInfo() {
        this(SimClr.DEFAULT_TEMPERATURE, DEFAULT_KL_WEIGHT, DEFAULT_KL_WEIGHT);
    }

    /**
     * @param temperature NT-Xent temperature &gt; 0
     * @param la          weight of KL(p1 || p2), &gt;= 0
     * @param lb          weight of KL(p2 || p1), &gt;= 0
     */
    public SuperInfo(double temperature, double la, double lb) {
        Tensors.requirePositive("temperature", temperature);
        Tensors.requireNonNegative("la", la);
        Tensors.requireNonNegative("lb", lb);
        this.temperature = temperature;
        this.la = la;
        this.lb = lb;
    }

    @Override
    public LossAndGradients compute(ObjectiveInput input) {
        Tensors.requireViews(name(), input.views(), 4);
        INDArray mu1 = input.view(0);
        INDArray mu2 = input.view(1);
        INDArray lv1 = input.view(2);
        INDArray lv2 = input.view(3);
        Tensors.requirePair(mu1, mu2, 1);
        Tensors.requireSameShape("mu1", mu1, "logvar1", lv1);
        Tensors.requireSameShape("mu2", mu2, "logvar2", lv2);
        INDArray e1 = input.extra(NOISE1);
        INDArray e2 = input.extra(NOISE2);
        if ((e1 == null) != (e2 == null)) {
            throw new IllegalArgumentException("superinfo needs both noise1 and noise2 or neither");
        }
        int n = mu1.rows();
        INDArray s1 = mu1;
        INDArray s2 = mu2;
        INDArray sd1 = null;
        INDArray sd2 = null;
        if (e1 != null) {
            Tensors.requireSameShape("mu1", mu1, NOISE1, e1);
            Tensors.requireSameShape("mu2", mu2, NOISE2, e2);
            sd1 = Transforms.exp(lv1.mul(0.5), false);
            sd2 = Transforms.exp(lv2.mul(0.5), false);
            s1 = mu1.add(sd1.mul(e1));
            s2 = mu2.add(sd2.mul(e2));
        }
        LossAndGradients nce = SimClr.ntXent(s1, s2, temperature);
        INDArray gMu1 = nce.gradient(0).dup();
        INDArray gMu2 = nce.gradient(1).dup();
        INDArray gLv1 = lv1.like();
        INDArray gLv2 = lv2.like();
        if (e1 != null) {
            // ds/dlogvar = 1/2 exp(logvar/2) noise
            gLv1.addi(nce.gradient(0).mul(sd1).muli(e1).muli(0.5));
            gLv2.addi(nce.gradient(1).mul(sd2).muli(e2).muli(0.5));
        }
        double kl12 = kl(mu1, lv1, mu2, lv2, la / n, gMu1, gLv1, gMu2, gLv2) / n;
        double kl21 = kl(mu2, lv2, mu1, lv1, lb / n, gMu2, gLv2, gMu1, gLv1) / n;
        double loss = nce.loss() + la * kl12 + lb * kl21;
        Map<String, Double> parts = new LinkedHashMap<>();
        parts.put("ntxent", nce.loss());
        parts.put("kl12", la * kl12);
        parts.put("kl21", lb * kl21);
        return new LossAndGradients(loss, new INDArray[]{gMu1, gMu2, gLv1, gLv2}, parts, Map.of());
    }

    /**
     * Returns sum_{n,j} KL(N(ma, e^la) || N(mb, e^lb)) and adds w times its gradients into the four accumulators.
     */
    private static double kl(INDArray ma, INDArray lva, INDArray mb, INDArray lvb, double w,
                             INDArray gMa, INDArray gLva, INDArray gMb, INDArray gLvb) {
        INDArray diff = ma.sub(mb);
        INDArray invVarB = Transforms.exp(lvb.neg(), false);
        INDArray varA = Transforms.exp(lva, true);
        INDArray quad = varA.add(diff.mul(diff)).muli(invVarB);   // (e^lva + diff^2) e^-lvb
        double total = 0.5 * (lvb.sub(lva).addi(quad).subi(1.0)).sumNumber().doubleValue();
        INDArray dMa = diff.mul(invVarB).muli(w);
        gMa.addi(dMa);
        gMb.subi(dMa);
        gLva.addi(varA.mul(invVarB).subi(1.0).muli(0.5 * w));
        gLvb.addi(quad.rsub(1.0).muli(0.5 * w));
        return total;
    }

    @Override
    public String name() {
        return "superinfo";
    }

    @Override
    public Map<String, Double> hyperParameters() {
        return Map.of("temperature", temperature, "la", la, "lb", lb);
    }
}
