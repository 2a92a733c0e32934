package org.umm4j.umm;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One-step unrolled hypergradient (the DARTS approximation; the default of UMM, arXiv 2410.00772):
 * <pre>
 *   g      = dL_in/dtheta (theta)
 *   theta' = theta - eta g
 *   v      = dL_out/dtheta (theta')
 *   h      = v - eta H_in(theta) v         = d/dtheta L_out(theta - eta dL_in/dtheta(theta))
 * </pre>
 * with the Hessian-vector product by central differences with step r along v/|v| (r = 0.01). Cost: four
 * gradient evaluations. Exact (up to rounding) when L_in is quadratic.
 *
 * @param innerLr eta, the unrolled inner learning rate
 * @param r       finite-difference step
 */
public record UnrolledHypergradient(double innerLr, double r) implements Hypergradient {
    /** Default finite-difference step. */
    public static final double DEFAULT_R = 0.01;

    /** Validates; errors name the field. */
    public UnrolledHypergradient {
        if (!(innerLr > 0) || !Double.isFinite(innerLr)) {
            throw new IllegalArgumentException("innerLr must be positive, got " + innerLr);
        }
        if (!(r > 0) || !Double.isFinite(r)) {
            throw new IllegalArgumentException("r must be positive, got " + r);
        }
    }

    @Override
    public Directions compute(BilevelProblem problem, INDArray theta, INDArray phi) {
        INDArray g = problem.innerGradient(theta, phi);
        INDArray thetaPrime = theta.sub(g.mul(innerLr));
        INDArray v = problem.outerGradient(thetaPrime, phi);
        INDArray hv = Hypergradient.hessianVectorProduct(problem, theta, phi, v, r);
        return new Directions(v.subi(hv.muli(innerLr)), null, 4);
    }

    @Override
    public String name() {
        return "unrolled";
    }
}
