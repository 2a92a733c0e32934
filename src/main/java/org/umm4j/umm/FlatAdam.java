package org.umm4j.umm;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Objects;

/**
 * Adam (Kingma and Ba 2015) over one flat parameter vector, for update directions that do not come from a
 * graph's own backward pass (UMM hypergradients):
 * <pre>
 *   m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2
 *   theta <- theta - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 * </pre>
 * with b1 = 0.9, b2 = 0.999, eps = 1e-8. Its state (m, v; t is the caller's step count) is exposed so that
 * checkpoints carry it and a distributed loop (umm4j-spark) can ship and average it.
 */
public final class FlatAdam {
    static final double B1 = 0.9;
    static final double B2 = 0.999;
    static final double EPS = 1e-8;

    private final double lr;
    private INDArray m;
    private INDArray v;

    /** @param lr learning rate, positive */
    public FlatAdam(double lr) {
        if (!(lr > 0) || !Double.isFinite(lr)) {
            throw new IllegalArgumentException("lr must be positive, got " + lr);
        }
        this.lr = lr;
    }

    /**
     * @param t 1-based step count (bias correction)
     * @return the updated parameters (a new array)
     */
    public INDArray step(INDArray theta, INDArray g, long t) {
        Objects.requireNonNull(theta, "theta");
        if (g.length() != theta.length()) {
            throw new IllegalArgumentException("gradient has " + g.length() + " entries, parameters " + theta.length());
        }
        if (m == null) {
            m = theta.like();
            v = theta.like();
        }
        INDArray gg = g.castTo(theta.dataType());
        m.muli(B1).addi(gg.mul(1 - B1));
        v.muli(B2).addi(gg.mul(gg).muli(1 - B2));
        double c1 = 1 - Math.pow(B1, t);
        double c2 = 1 - Math.pow(B2, t);
        INDArray denom = Transforms.sqrt(v.div(c2), true).addi(EPS);
        return theta.sub(m.div(c1).divi(denom).muli(lr));
    }

    /** @return the first moment (null before the first step) */
    public INDArray m() {
        return m;
    }

    /** @return the second moment (null before the first step) */
    public INDArray v() {
        return v;
    }

    /** Sets the moments (copied), e.g. from a checkpoint. */
    public void restore(INDArray m, INDArray v) {
        this.m = m.dup();
        this.v = v.dup();
    }
}
