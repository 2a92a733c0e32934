package org.umm4j.ssl;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/**
 * A self-supervised objective: pure ND4J maths on embeddings, independent of any network.
 *
 * <p>Convention. {@link #compute(ObjectiveInput)} returns the scalar loss and dL/dv for every tensor in
 * {@link ObjectiveInput#views()} (same order and shape); tensors in {@link ObjectiveInput#targets()} are
 * stop-gradient inputs and never get a gradient; named {@link ObjectiveInput#extras()} carry state or parameters
 * (a parameter's gradient comes back in {@link LossAndGradients#parameterGradients()}). Each implementation
 * documents its layout:
 * <ul>
 *   <li>two-view objectives (SimCLR, Barlow Twins, VICReg, W-MSE): views {@code [z1, z2]}, each [N, D];</li>
 *   <li>BYOL, SimSiam: views {@code [p1, p2]} (online predictions), targets {@code [t1, t2]};</li>
 *   <li>MoCo v2: views {@code [q_1..q_m]}, targets {@code [k_1..k_m]} paired by index, extra "queue";</li>
 *   <li>SwAV: views {@code [z_1..z_V]} (multi-crop), extra "prototypes" [D, K] with its gradient returned;</li>
 *   <li>VICRegL: views {@code [z1, z2, y1, y2]} (global embeddings and local feature maps), extras
 *       "coords1", "coords2";</li>
 *   <li>SuperInfo: views {@code [mu1, mu2, logvar1, logvar2]}, optional extras "noise1", "noise2".</li>
 * </ul>
 * Inputs are FLOAT or DOUBLE and the computation runs in the input type. Objectives are immutable and
 * stateless (MoCo's queue lives in {@link NegativeQueue}, outside the objective), so one instance can be shared.
 * Shape mismatches raise {@link IllegalArgumentException} naming both shapes.
 */
public interface Objective {

    /**
     * @param input views, targets and extras as documented by the implementation
     * @return the loss and the gradient for each view
     */
    LossAndGradients compute(ObjectiveInput input);

    /** Two-view shorthand: {@code compute(ObjectiveInput.of(z1, z2))}. */
    default LossAndGradients compute(INDArray z1, INDArray z2) {
        return compute(ObjectiveInput.of(z1, z2));
    }

    /** @return the registry name ({@link Objectives}) */
    String name();

    /** @return the hyper-parameters by registry key, enough to rebuild the objective with {@link Objectives#create} */
    Map<String, Double> hyperParameters();
}
