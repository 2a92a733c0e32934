package org.umm4j.umm;

import java.util.Objects;

/**
 * Jensen-Shannon divergence between the uniform early-layer density and the last-layer CPA density,
 * with its gradient with respect to the log-volumes.
 *
 * <p>With {@code p_l = softmax(-s)} over the batch ({@code s_i} the log-volume of sample i, see
 * {@link CpaSketch}), {@code p_e = 1/B} and {@code M = (p_e + p_l)/2}:
 * <pre>
 *   JS(p_e, p_l) = 1/2 KL(p_e || M) + 1/2 KL(p_l || M)       (nats, in [0, ln 2])
 *   dJS/dp_l,i   = 1/2 ln(p_l,i / M_i)                         (the p_e terms cancel in the derivative)
 *   dJS/ds       = -p_l * (g - sum_j p_l,j g_j),  g = dJS/dp_l   (softmax of -s)
 * </pre>
 * This is a true JS divergence whose gradient reaches the network through {@code s}; the authors' release
 * (arXiv 2410.00772) computes a KL with swapped roles and detaches it, so its term passes no gradient.
 */
public final class JsDivergence {
    private JsDivergence() {
    }

    /**
     * The divergence and its gradient.
     *
     * @param value   JS(p_e, p_l) in nats
     * @param pLast   p_l = softmax(-s)
     * @param gradLogVolume dJS/ds, one entry per sample
     */
    public record Result(double value, double[] pLast, double[] gradLogVolume) {
    }

    /** JS divergence of two distributions given as probability vectors (natural log); 0 log 0 = 0. */
    public static double between(double[] p, double[] q) {
        Objects.requireNonNull(p, "p");
        Objects.requireNonNull(q, "q");
        if (p.length != q.length || p.length == 0) {
            throw new IllegalArgumentException("p and q must be non-empty and of equal length, got " + p.length
                    + " and " + q.length);
        }
        checkDistribution("p", p);
        checkDistribution("q", q);
        double js = 0;
        for (int i = 0; i < p.length; i++) {
            double m = 0.5 * (p[i] + q[i]);
            if (p[i] > 0) {
                js += 0.5 * p[i] * Math.log(p[i] / m);
            }
            if (q[i] > 0) {
                js += 0.5 * q[i] * Math.log(q[i] / m);
            }
        }
        return Math.max(0, js);
    }

    private static void checkDistribution(String name, double[] p) {
        double s = 0;
        for (int i = 0; i < p.length; i++) {
            if (!(p[i] >= 0) || !Double.isFinite(p[i])) {
                throw new IllegalArgumentException(name + "[" + i + "] = " + p[i] + " is not a probability");
            }
            s += p[i];
        }
        if (Math.abs(s - 1) > 1e-6) {
            throw new IllegalArgumentException(name + " sums to " + s + ", expected 1");
        }
    }

    /**
     * JS(uniform || softmax(-logVolume)) and its gradient with respect to {@code logVolume}.
     *
     * @param logVolume per-sample log-volumes s_i (finite), at least two samples
     */
    public static Result uniformVsSoftmax(double[] logVolume) {
        Objects.requireNonNull(logVolume, "logVolume");
        int b = logVolume.length;
        if (b < 2) {
            throw new IllegalArgumentException("logVolume needs at least 2 samples, got " + b);
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < b; i++) {
            if (!Double.isFinite(logVolume[i])) {
                throw new IllegalArgumentException("logVolume[" + i + "] = " + logVolume[i] + " is not finite");
            }
            max = Math.max(max, -logVolume[i]);
        }
        double[] p = new double[b];
        double z = 0;
        for (int i = 0; i < b; i++) {
            p[i] = Math.exp(-logVolume[i] - max);
            z += p[i];
        }
        double pe = 1.0 / b;
        double js = 0;
        double[] g = new double[b];
        double pg = 0;
        for (int i = 0; i < b; i++) {
            p[i] /= z;
            double m = 0.5 * (pe + p[i]);
            js += 0.5 * pe * Math.log(pe / m);
            if (p[i] > 0) {
                js += 0.5 * p[i] * Math.log(p[i] / m);
                g[i] = 0.5 * Math.log(p[i] / m);
            } else {
                g[i] = 0.5 * Math.log(Double.MIN_NORMAL / m);
            }
            pg += p[i] * g[i];
        }
        double[] ds = new double[b];
        for (int i = 0; i < b; i++) {
            ds[i] = -p[i] * (g[i] - pg);
        }
        return new Result(Math.max(0, js), p, ds);
    }
}
