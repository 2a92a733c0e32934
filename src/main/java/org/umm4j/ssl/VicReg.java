package org.umm4j.ssl;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * VICReg (Bardes, Ponce and LeCun, "VICReg: Variance-Invariance-Covariance Regularization for Self-Supervised
 * Learning", ICLR 2022).
 *
 * <p>Views {@code [z1, z2]}, [N, D], N &gt;= 2. With the paper's equation (no 1/2 on the variance terms; the
 * official code halves them, which equals mu = 12.5 here):
 * <pre>
 *   L = lambda s(z1, z2) + mu [v(z1) + v(z2)] + nu [c(z1) + c(z2)]
 *   s(a, b) = 1/(N D) sum_{n,j} (a_nj - b_nj)^2                      (MSE)
 *   v(z)    = 1/D sum_j max(0, 1 - sqrt(Var(z_j) + 1e-4))           (unbiased variance, divide by N - 1)
 *   c(z)    = 1/D sum_{i != j} Cov(z)_ij^2,  Cov(z) = (z - mean)^T (z - mean) / (N - 1)
 * </pre>
 * Defaults lambda = 25, mu = 25, nu = 1. Gradients: ds/da = 2 (a - b)/(N D); dv/dz_nj = -[std_j &lt; 1]
 * (z_nj - mean_j) / (D (N - 1) std_j); dc/dz = 4 zc Cov_off / (D (N - 1)). Symmetric in the views.
 */
public final class VicReg implements Objective {
    public static final double DEFAULT_INVARIANCE = 25;
    public static final double DEFAULT_VARIANCE = 25;
    public static final double DEFAULT_COVARIANCE = 1;
    /** Epsilon inside the standard deviation of the variance term. */
    public static final double STD_EPS = 1e-4;

    private final double invariance;
    private final double variance;
    private final double covariance;

    /** 25 / 25 / 1. */
    public VicReg() {
        this(DEFAULT_INVARIANCE, DEFAULT_VARIANCE, DEFAULT_COVARIANCE);
    }

    /**
     * @param invariance lambda, &gt;= 0
     * @param variance   mu, &gt;= 0
     * @param covariance nu, &gt;= 0
     */
    public VicReg(double invariance, double variance, double covariance) {
        Tensors.requireNonNegative("invariance", invariance);
        Tensors.requireNonNegative("variance", variance);
        Tensors.requireNonNegative("covariance", covariance);
        this.invariance = invariance;
        this.variance = variance;
        this.covariance = covariance;
    }

    @Override
    public LossAndGradients compute(ObjectiveInput input) {
        Tensors.requireViews(name(), input.views(), 2);
        Tensors.requirePair(input.view(0), input.view(1), 2);
        return terms(input.view(0), input.view(1), invariance, variance, covariance);
    }

    /** The weighted VICReg loss of two [N, D] matrices with both gradients and parts (shared with VICRegL). */
    static LossAndGradients terms(INDArray a, INDArray b, double lam, double mu, double nu) {
        int n = a.rows();
        int d = a.columns();
        INDArray diff = a.sub(b);
        double inv = diff.mul(diff).sumNumber().doubleValue() / ((double) n * d);
        INDArray ga = diff.mul(2.0 * lam / ((double) n * d));
        INDArray gb = ga.neg();
        double[] var = new double[1];
        double[] cov = new double[1];
        ga.addi(regulariser(a, mu, nu, var, cov));
        gb.addi(regulariser(b, mu, nu, var, cov));
        double loss = lam * inv + mu * var[0] + nu * cov[0];
        Map<String, Double> parts = new LinkedHashMap<>();
        parts.put("invariance", lam * inv);
        parts.put("variance", mu * var[0]);
        parts.put("covariance", nu * cov[0]);
        return new LossAndGradients(loss, new INDArray[]{ga, gb}, parts, Map.of());
    }

    /** Adds v(z) to var[0] and c(z) to cov[0]; returns d(mu v + nu c)/dz. */
    private static INDArray regulariser(INDArray z, double mu, double nu, double[] var, double[] cov) {
        int n = z.rows();
        int d = z.columns();
        INDArray zc = z.subRowVector(z.mean(0));
        INDArray std = Transforms.sqrt(zc.mul(zc).sum(0).divi(n - 1).addi(STD_EPS), false);
        INDArray hinge = std.rsub(1.0);                     // 1 - std_j
        INDArray active = hinge.gt(0).castTo(z.dataType());
        var[0] += Transforms.relu(hinge, true).sumNumber().doubleValue() / d;
        // d v / d z_nj = -active_j * zc_nj / (D (N-1) std_j)
        INDArray coef = active.divi(std).muli(-mu / ((double) d * (n - 1)));
        INDArray g = zc.mulRowVector(coef);

        INDArray c = zc.transpose().mmul(zc).divi(n - 1);
        INDArray off = c.sub(c.mul(Tensors.eye(d, c.dataType())));
        cov[0] += off.mul(off).sumNumber().doubleValue() / d;
        // dc/dCov = 2 off / D; dCov-path: dzc = zc (G + G^T) / (N-1) = 4 zc off / (D (N-1)); centring is a no-op
        // here because the columns of zc sum to zero.
        g.addi(zc.mmul(off).muli(4.0 * nu / ((double) d * (n - 1))));
        return g;
    }

    @Override
    public String name() {
        return "vicreg";
    }

    @Override
    public Map<String, Double> hyperParameters() {
        return Map.of("invariance", invariance, "variance", variance, "covariance", covariance);
    }
}
