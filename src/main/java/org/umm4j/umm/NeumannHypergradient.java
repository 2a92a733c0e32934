package org.umm4j.umm;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Implicit-function-theorem hypergradient with a truncated Neumann series (Lorraine, Vicol and Duvenaud,
 * "Optimizing Millions of Hyperparameters by Implicit Differentiation", AISTATS 2020).
 *
 * <p>Inner variables theta follow the inner loss; the outer variables phi (the projection head in UMM) get
 * <pre>
 *   dL_out/dphi = d_phi L_out - (d^2 L_in / d phi d theta) p
 *   p           = alpha sum_{j=0..K} (I - alpha H)^j d_theta L_out        (~ H^-1 d_theta L_out)
 * </pre>
 * where H is the inner Hessian in theta. Every product is a finite difference of first-order gradients with
 * step r along the unit direction: the K products H w by forward differences reusing the inner gradient at theta
 * (default) or by central ones, the mixed product by central differences. The theta direction returned is the
 * plain inner gradient (theta takes an ordinary inner step). The series converges when
 * {@code 0 < alpha < 2 / lambda_max(H)}. Cost: 5 + K gradient evaluations (forward), 5 + 2K (central).
 *
 * @param alpha      Neumann step (the inner learning rate)
 * @param terms      K, the number of series terms after the first
 * @param r          finite-difference step
 * @param difference scheme of the theta Hessian-vector products
 */
public record NeumannHypergradient(double alpha, int terms, double r, Difference difference) implements Hypergradient {
    /** Default number of Neumann terms. */
    public static final int DEFAULT_TERMS = 5;

    /** Validates; errors name the field. */
    public NeumannHypergradient {
        if (!(alpha > 0) || !Double.isFinite(alpha)) {
            throw new IllegalArgumentException("alpha must be positive, got " + alpha);
        }
        if (terms < 0) {
            throw new IllegalArgumentException("terms must be >= 0, got " + terms);
        }
        if (!(r > 0) || !Double.isFinite(r)) {
            throw new IllegalArgumentException("r must be positive, got " + r);
        }
        if (difference == null) {
            throw new IllegalArgumentException("difference must not be null");
        }
    }

    /** Forward differences for the theta Hessian-vector products (the default). */
    public NeumannHypergradient(double alpha, int terms, double r) {
        this(alpha, terms, r, Difference.FORWARD);
    }

    @Override
    public Directions compute(BilevelProblem problem, INDArray theta, INDArray phi) {
        if (phi == null || phi.length() == 0) {
            throw new IllegalArgumentException("the Neumann hypergradient needs outer variables phi (the projection head)");
        }
        INDArray innerGrad = problem.innerGradient(theta, phi);
        INDArray v = problem.outerGradient(theta, phi);
        INDArray cur = v.dup();
        INDArray sum = v.dup();
        int evals = 2;
        for (int j = 0; j < terms; j++) {
            INDArray hv;
            if (difference == Difference.FORWARD) {
                hv = Hypergradient.hessianVectorProductForward(problem, theta, phi, cur, r, innerGrad);
                evals += 1;
            } else {
                hv = Hypergradient.hessianVectorProduct(problem, theta, phi, cur, r);
                evals += 2;
            }
            cur.subi(hv.muli(alpha));
            sum.addi(cur);
        }
        INDArray p = sum.muli(alpha);
        INDArray hyper = problem.outerGradientPhi(theta, phi);
        evals++;
        double norm = p.norm2Number().doubleValue();
        if (norm > 0) {
            INDArray step = p.mul(r / norm);
            INDArray plus = problem.innerGradientPhi(theta.add(step), phi);
            INDArray minus = problem.innerGradientPhi(theta.sub(step), phi);
            evals += 2;
            hyper.subi(plus.subi(minus).muli(norm / (2 * r)));
        }
        return new Directions(innerGrad, hyper, evals);
    }

    @Override
    public String name() {
        return "neumann";
    }
}
