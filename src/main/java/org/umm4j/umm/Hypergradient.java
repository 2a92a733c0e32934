package org.umm4j.umm;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;
import java.util.Locale;

/**
 * A strategy that turns the first-order oracles of a {@link BilevelProblem} into update directions.
 *
 * <p>Two strategies: {@link UnrolledHypergradient} (one unrolled inner step, DARTS-style, the default and
 * what the UMM authors' release does) and {@link NeumannHypergradient} (implicit differentiation with a
 * truncated Neumann series, Lorraine et al. 2020). Both use only gradients; Hessian-vector products are
 * finite differences of gradients ({@link Difference}: forward by default, reusing the inner gradient at theta).
 */
public interface Hypergradient {
    /**
     * Update directions (descend along them) and the cost in gradient evaluations.
     *
     * @param theta     direction for theta (never null)
     * @param phi       direction for phi, or null when the strategy does not update phi
     * @param gradientEvaluations number of oracle calls made
     */
    record Directions(INDArray theta, INDArray phi, int gradientEvaluations) {
    }

    /** @return the update directions at (theta, phi) */
    Directions compute(BilevelProblem problem, INDArray theta, INDArray phi);

    /** @return the strategy's CLI name */
    String name();

    /** The CLI names. */
    List<String> NAMES = List.of("unrolled", "neumann");

    /**
     * Creates a strategy with default settings by name.
     *
     * @param innerLr the inner learning rate eta (the unrolled step and the Neumann alpha)
     */
    static Hypergradient byName(String name, double innerLr) {
        return byName(name, innerLr, Difference.FORWARD);
    }

    /**
     * Creates a strategy by name with the given Hessian-vector difference scheme.
     *
     * @param innerLr    the inner learning rate eta (the unrolled step and the Neumann alpha)
     * @param difference finite-difference scheme of the Hessian-vector products
     */
    static Hypergradient byName(String name, double innerLr, Difference difference) {
        java.util.Objects.requireNonNull(difference, "difference");
        return switch (name == null ? "" : name.toLowerCase(Locale.ROOT)) {
            case "unrolled" -> new UnrolledHypergradient(innerLr, UnrolledHypergradient.DEFAULT_R, difference);
            case "neumann" -> new NeumannHypergradient(innerLr, NeumannHypergradient.DEFAULT_TERMS,
                    UnrolledHypergradient.DEFAULT_R, difference);
            default -> throw new IllegalArgumentException("unknown hypergradient '" + name + "': expected one of "
                    + String.join(", ", NAMES));
        };
    }

    /**
     * Finite-difference scheme of the Hessian-vector products.
     *
     * <ul>
     *   <li>{@code FORWARD}: {@code H v ~ [g(theta + r u) - g(theta)] |v| / r}, reusing the inner gradient
     *       g(theta) that the strategy has already computed: one gradient evaluation per product, error O(r);</li>
     *   <li>{@code CENTRAL}: {@code H v ~ [g(theta + r u) - g(theta - r u)] |v| / (2r)}: two evaluations,
     *       error O(r^2).</li>
     * </ul>
     * Both are exact (up to rounding) when L_in is quadratic in theta.
     */
    enum Difference {
        FORWARD, CENTRAL;

        /** Parses a CLI value ({@code forward} or {@code central}, any case). */
        public static Difference parse(String s) {
            for (Difference d : values()) {
                if (d.name().equalsIgnoreCase(s == null ? "" : s.trim())) {
                    return d;
                }
            }
            throw new IllegalArgumentException("unknown Hessian-vector difference '" + s + "': expected forward or central");
        }
    }

    /**
     * Hessian-vector product of L_in with respect to theta by forward differences of gradients, reusing
     * {@code gradAtTheta} = dL_in/dtheta(theta): {@code H v ~ [g(theta + r u) - g(theta)] |v| / r}, {@code u = v/|v|}.
     */
    static INDArray hessianVectorProductForward(BilevelProblem p, INDArray theta, INDArray phi, INDArray v, double r,
            INDArray gradAtTheta) {
        double norm = v.norm2Number().doubleValue();
        if (norm == 0) {
            return v.like();
        }
        INDArray plus = p.innerGradient(theta.add(v.mul(r / norm)), phi);
        return plus.subi(gradAtTheta).muli(norm / r);
    }

    /**
     * Hessian-vector product of L_in with respect to theta by central differences of gradients:
     * {@code H v ~ [g(theta + r u) - g(theta - r u)] |v| / (2r)}, {@code u = v/|v|}.
     */
    static INDArray hessianVectorProduct(BilevelProblem p, INDArray theta, INDArray phi, INDArray v, double r) {
        double norm = v.norm2Number().doubleValue();
        if (norm == 0) {
            return v.like();
        }
        INDArray step = v.mul(r / norm);
        INDArray plus = p.innerGradient(theta.add(step), phi);
        INDArray minus = p.innerGradient(theta.sub(step), phi);
        return plus.subi(minus).muli(norm / (2 * r));
    }
}
