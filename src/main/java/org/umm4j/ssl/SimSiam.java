package org.umm4j.ssl;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/**
 * SimSiam's symmetric negative-cosine loss (Chen and He, "Exploring Simple Siamese Representation Learning",
 * CVPR 2021).
 *
 * <p>Views {@code [p1, p2]}: predictor outputs [N, D]. Targets {@code [z1, z2]}: the projections of the same
 * network, used under stop-gradient (no gradient returned; the trainer detaches them).
 * <pre>
 *   L = 1/2 D(p1, z2) + 1/2 D(p2, z1),   D(p, z) = -1/N sum_n cos(p_n, z_n)
 * </pre>
 * (range [-1, 1]). Invariant to swapping the pairs and to rescaling rows.
 */
public final class SimSiam implements Objective {

    @Override
    public LossAndGradients compute(ObjectiveInput input) {
        Tensors.requireViews(name(), input.views(), 2);
        Tensors.requireTargets(name(), input.targets(), 2);
        INDArray p1 = input.view(0);
        INDArray p2 = input.view(1);
        Tensors.requirePair(p1, p2, 1);
        Tensors.requireSameShape("p1", p1, "z1", input.target(0));
        Tensors.requireSameShape("p2", p2, "z2", input.target(1));
        int n = p1.rows();
        Tensors.CosTerm a = Tensors.cosine(p1, input.target(1), -0.5 / n);
        Tensors.CosTerm b = Tensors.cosine(p2, input.target(0), -0.5 / n);
        double loss = -0.5 * (a.sumCos() + b.sumCos()) / n;
        return new LossAndGradients(loss, a.gradP(), b.gradP());
    }

    @Override
    public String name() {
        return "simsiam";
    }

    @Override
    public Map<String, Double> hyperParameters() {
        return Map.of();
    }
}
