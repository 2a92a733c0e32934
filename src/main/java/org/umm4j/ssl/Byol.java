package org.umm4j.ssl;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/**
 * BYOL's regression loss (Grill et al., "Bootstrap Your Own Latent", NeurIPS 2020).
 *
 * <p>Views {@code [p1, p2]}: online predictions q(g(f(v))) of the two augmentations, [N, D]. Targets
 * {@code [t1, t2]}: the EMA target network's projections of the same two augmentations (stop-gradient, no
 * gradient returned). The symmetrised loss, averaged over the batch as in the paper's pseudo-code:
 * <pre>
 *   L = 1/N sum_n [ (2 - 2 cos(p1_n, t2_n)) + (2 - 2 cos(p2_n, t1_n)) ]
 * </pre>
 * (range [0, 8]). dL/dp = -2/N (t^ - cos p^) / |p|. The target network follows an EMA whose rate comes from
 * {@link MomentumSchedule} (cosine from 0.996 or 0.99 to 1). Invariant to swapping (p1,t1) with (p2,t2) and to
 * rescaling any row.
 */
public final class Byol implements Objective {

    @Override
    public LossAndGradients compute(ObjectiveInput input) {
        Tensors.requireViews(name(), input.views(), 2);
        Tensors.requireTargets(name(), input.targets(), 2);
        INDArray p1 = input.view(0);
        INDArray p2 = input.view(1);
        INDArray t1 = input.target(0);
        INDArray t2 = input.target(1);
        Tensors.requirePair(p1, p2, 1);
        Tensors.requireSameShape("p1", p1, "t1", t1);
        Tensors.requireSameShape("p2", p2, "t2", t2);
        int n = p1.rows();
        Tensors.CosTerm a = Tensors.cosine(p1, t2, -2.0 / n);
        Tensors.CosTerm b = Tensors.cosine(p2, t1, -2.0 / n);
        double l1 = 2 - 2 * a.sumCos() / n;
        double l2 = 2 - 2 * b.sumCos() / n;
        return new LossAndGradients(l1 + l2, new INDArray[]{a.gradP(), b.gradP()},
                Map.of("p1_t2", l1, "p2_t1", l2), Map.of());
    }

    @Override
    public String name() {
        return "byol";
    }

    @Override
    public Map<String, Double> hyperParameters() {
        return Map.of();
    }
}
