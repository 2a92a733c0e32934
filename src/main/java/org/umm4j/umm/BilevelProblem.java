package org.umm4j.umm;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * First-order oracles of a bi-level problem over flat parameter vectors: inner variables theta (the
 * last layers f_l in UMM) and outer variables phi (the projection head, for implicit differentiation).
 *
 * <pre>
 *   inner (constraint):  L_in(theta, phi)  = L_SSL + beta JS(p_e, p_l)
 *   outer (objective):   L_out(theta, phi) = L_SSL - lambda dR(Z_last)
 * </pre>
 * Every method returns a fresh DOUBLE or FLOAT vector of the argument's length and must not modify its
 * arguments; a {@link Hypergradient} only ever calls these first-order oracles (second-order products are
 * finite differences of them). Problems without outer variables pass an empty phi and need not implement
 * the phi gradients.
 */
public interface BilevelProblem {
    /** @return dL_in/dtheta at (theta, phi) */
    INDArray innerGradient(INDArray theta, INDArray phi);

    /** @return dL_out/dtheta at (theta, phi) */
    INDArray outerGradient(INDArray theta, INDArray phi);

    /** @return dL_in/dphi at (theta, phi) */
    default INDArray innerGradientPhi(INDArray theta, INDArray phi) {
        throw new UnsupportedOperationException("this problem has no outer variables phi");
    }

    /** @return dL_out/dphi at (theta, phi) */
    default INDArray outerGradientPhi(INDArray theta, INDArray phi) {
        throw new UnsupportedOperationException("this problem has no outer variables phi");
    }
}
