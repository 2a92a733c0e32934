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
 * with the Hessian-vector product by finite differences with step r along v/|v| (r = 0.01). Cost: three
 * gradient evaluations with forward differences (the default: g(theta) of the first line is reused), four with
 * central differences. Exact (up to rounding) when L_in is quadratic.
 *
 * @param innerLr    eta, the unrolled inner learning rate
 * @param r          finite-difference step
 * @param difference finite-difference scheme of the Hessian-vector product
 */
public record UnrolledHypergradient(double innerLr, double r, Difference difference) implements Hypergradient {
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
        if (difference == null) {
            throw new IllegalArgumentException("difference must not be null");
        }
    }

    /** Forward differences (the default). */
    public UnrolledHypergradient(double innerLr, double r) {
        this(innerLr, r, Difference.FORWARD);
    }

    @Override
    public Directions compute(BilevelProblem problem, INDArray theta, INDArray phi) {
        INDArray g = problem.innerGradient(theta, phi);
        INDArray thetaPrime = theta.sub(g.mul(innerLr));
        INDArray v = problem.outerGradient(thetaPrime, phi);
        if (difference == Difference.FORWARD) {
            INDArray hv = Hypergradient.hessianVectorProductForward(problem, theta, phi, v, r, g);
            return new Directions(v.subi(hv.muli(innerLr)), null, 3);
        }
        INDArray hv = Hypergradient.hessianVectorProduct(problem, theta, phi, v, r);
        return new Directions(v.subi(hv.muli(innerLr)), null, 4);
    }

    @Override
    public String name() {
        return "unrolled";
    }
}
