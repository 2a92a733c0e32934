package org.umm4j.umm;

import org.umm4j.crr.CodingRate;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Weights and settings of the UMM losses (DESIGN.md section 4, arXiv 2410.00772):
 * {@code L_in = L_SSL + beta JS(p_e, p_l)}, {@code L_out = L_SSL - lambda dR(Z_last)}.
 * The paper's ablations are {@code lambda = 0} ("*", JS only) and {@code beta = 0} ("**", CRR only).
 *
 * @param beta        weight of the JS term (default 1), &gt;= 0
 * @param lambda      weight of the rate reduction (default 1), &gt;= 0
 * @param eps         coding-rate distortion (default 0.5), &gt; 0
 * @param tau         instance-membership temperature (default 0.5), &gt; 0
 * @param sketch      the CPA sketch (default k = 8, step 1e-2, delta 1e-6)
 * @param sketchBatch samples of view 1 the sketch runs on (default 32; fewer when the batch is smaller), &gt;= 2
 * @param membershipTopK 0 (default): the dense instance membership of DESIGN.md; k &gt; 0: its top-k sparsified form
 *                    ({@code Memberships.instanceTopK}), much cheaper for large batches (2B logdets of d x d become
 *                    small Sylvester logdets)
 */
public record UmmConfig(double beta, double lambda, double eps, double tau, CpaSketch sketch, int sketchBatch,
                        int membershipTopK) {
    /** Default sub-batch of the sketch. */
    public static final int DEFAULT_SKETCH_BATCH = 32;

    /** Validates; errors name the field. */
    public UmmConfig {
        if (!(beta >= 0) || !Double.isFinite(beta)) {
            throw new IllegalArgumentException("beta must be >= 0, got " + beta);
        }
        if (!(lambda >= 0) || !Double.isFinite(lambda)) {
            throw new IllegalArgumentException("lambda must be >= 0, got " + lambda);
        }
        if (!(eps > 0) || !Double.isFinite(eps)) {
            throw new IllegalArgumentException("eps must be positive, got " + eps);
        }
        if (!(tau > 0) || !Double.isFinite(tau)) {
            throw new IllegalArgumentException("tau must be positive, got " + tau);
        }
        Objects.requireNonNull(sketch, "sketch");
        if (sketchBatch < 2) {
            throw new IllegalArgumentException("sketchBatch must be >= 2, got " + sketchBatch);
        }
        if (membershipTopK < 0) {
            throw new IllegalArgumentException("membershipTopK must be >= 0 (0 = dense), got " + membershipTopK);
        }
    }

    /** Dense instance membership. */
    public UmmConfig(double beta, double lambda, double eps, double tau, CpaSketch sketch, int sketchBatch) {
        this(beta, lambda, eps, tau, sketch, sketchBatch, 0);
    }

    /** @return a copy with another membership sparsity (0 = dense) */
    public UmmConfig withMembershipTopK(int k) {
        return new UmmConfig(beta, lambda, eps, tau, sketch, sketchBatch, k);
    }

    /** @return beta = lambda = 1, eps = tau = 0.5, default sketch on 32 samples */
    public static UmmConfig defaults() {
        return new UmmConfig(1, 1, CodingRate.DEFAULT_EPS, 0.5, CpaSketch.defaults(), DEFAULT_SKETCH_BATCH);
    }

    /** @return a copy with other loss weights */
    public UmmConfig withWeights(double newBeta, double newLambda) {
        return new UmmConfig(newBeta, newLambda, eps, tau, sketch, sketchBatch, membershipTopK);
    }

    /** @return the settings as manifest entries */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("beta", beta);
        m.put("lambda", lambda);
        m.put("eps", eps);
        m.put("tau", tau);
        m.put("sketchK", sketch.k());
        m.put("sketchStep", sketch.stepScale());
        m.put("sketchDelta", sketch.delta());
        m.put("sketchBatch", sketchBatch);
        m.put("membershipTopK", membershipTopK);
        return m;
    }
}
