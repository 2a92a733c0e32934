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
 * central finite differences of gradients.
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
        return switch (name == null ? "" : name.toLowerCase(Locale.ROOT)) {
            case "unrolled" -> new UnrolledHypergradient(innerLr, UnrolledHypergradient.DEFAULT_R);
            case "neumann" -> new NeumannHypergradient(innerLr, NeumannHypergradient.DEFAULT_TERMS,
                    UnrolledHypergradient.DEFAULT_R);
            default -> throw new IllegalArgumentException("unknown hypergradient '" + name + "': expected one of "
                    + String.join(", ", NAMES));
        };
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
