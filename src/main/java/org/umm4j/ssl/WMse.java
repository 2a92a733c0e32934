package org.umm4j.ssl;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Map;

/**
 * W-MSE (Ermolov et al., "Whitening for Self-Supervised Representation Learning", ICML 2021).
 *
 * <p>Views {@code [z_1..z_V]}, V &gt;= 2, each [N, D]. The batch is cut into N / w contiguous sub-batches of w rows
 * (the caller shuffles the batch if it wants random sub-batches; the paper draws them at random); each view's
 * sub-batch X [w, D] is whitened by the Cholesky factor of its covariance:
 * <pre>
 *   Xc = X - mean(X),  S = (1 - eps) Xc^T Xc / (w - 1) + eps I,  S = L L^T,  Z = Xc L^{-T}
 *   L  = 1/P sum_{pairs i &lt; j} 1/N sum_n ( 2 - 2 cos(Z_i[n], Z_j[n]) )     (P = V (V - 1) / 2)
 * </pre>
 * i.e. the MSE between l2-normalised whitened vectors, as in the paper's code. Defaults w = 128, eps = 0 (the paper
 * whitens without shrinkage; a small eps helps when w - 1 is close to D). The paper repeats the whitening over
 * several random partitions (w_iter) and averages: call this objective on differently shuffled batches and average
 * the results to do the same. S must be positive definite:
 * w &gt; D unless eps &gt; 0.
 *
 * <p>Backward through the whitening, derived by hand (verified by finite differences in the tests): with
 * G = dL/dZ and M = L^{-1},
 * <pre>
 *   dXc  = G M                                     (direct path, Z = Xc M^T)
 *   Lbar = -M^T (Xc^T G)^T M^T                       (from A = L^{-T}, dA = -A dL^T A)
 *   Sbar = sym( M^T Phi(L^T tril(Lbar)) M )          (Cholesky backward, Murray 2016; Phi = lower part, diagonal halved)
 *   dXc += 2 (1 - eps) / (w - 1) Xc Sbar,   dX = dXc - mean(dXc)
 * </pre>
 * Symmetric in the views and invariant to rescaling a view (with eps = 0).
 */
public final class WMse implements Objective {
    public static final int DEFAULT_SUB_BATCH = 128;

    private final int subBatchSize;
    private final double eps;

    /** w = 128, eps = 0. */
    public WMse() {
        this(DEFAULT_SUB_BATCH, 0.0);
    }

    /**
     * @param subBatchSize w &gt;= 2, must divide N at compute time
     * @param eps          shrinkage towards the identity, in [0, 1)
     */
    public WMse(int subBatchSize, double eps) {
        if (subBatchSize < 2) {
            throw new IllegalArgumentException("subBatchSize must be at least 2, got " + subBatchSize);
        }
        if (!(eps >= 0 && eps < 1)) {
            throw new IllegalArgumentException("eps must be in [0, 1), got " + eps);
        }
        this.subBatchSize = subBatchSize;
        this.eps = eps;
    }

    @Override
    public LossAndGradients compute(ObjectiveInput input) {
        int v = input.views().size();
        if (v < 2) {
            throw new IllegalArgumentException("wmse needs at least 2 views, got " + v);
        }
        INDArray first = input.view(0);
        Tensors.requireMatrix("z1", first);
        for (int i = 1; i < v; i++) {
            Tensors.requireMatrix("z" + (i + 1), input.view(i));
            Tensors.requireSameShape("z1", first, "z" + (i + 1), input.view(i));
        }
        int n = first.rows();
        int d = first.columns();
        int w = subBatchSize;
        if (n % w != 0) {
            throw new IllegalArgumentException("batch size N = " + n + " (z1 shape " + Tensors.shape(first)
                    + ") must be a multiple of subBatchSize " + w);
        }
        if (eps == 0 && w <= d) {
            throw new IllegalArgumentException("subBatchSize " + w + " must exceed the embedding size D = " + d
                    + " for a full-rank covariance (or set eps > 0)");
        }
        // forward: whiten every (view, sub-batch)
        Whitened[][] wh = new Whitened[v][n / w];
        INDArray[] z = new INDArray[v];
        for (int i = 0; i < v; i++) {
            z[i] = input.view(i).like();
            for (int b = 0; b < n / w; b++) {
                INDArray x = input.view(i).get(NDArrayIndex.interval(b * w, (b + 1) * w), NDArrayIndex.all());
                wh[i][b] = whiten(x);
                z[i].get(NDArrayIndex.interval(b * w, (b + 1) * w), NDArrayIndex.all()).assign(wh[i][b].z);
            }
        }
        INDArray[] norms = new INDArray[v];
        INDArray[] u = new INDArray[v];
        INDArray[] du = new INDArray[v];
        for (int i = 0; i < v; i++) {
            norms[i] = Tensors.rowNorms(z[i]);
            u[i] = Tensors.normalizeRows(z[i], norms[i]);
            du[i] = z[i].like();
        }
        int pairs = v * (v - 1) / 2;
        double loss = 0;
        for (int i = 0; i < v; i++) {
            for (int j = i + 1; j < v; j++) {
                loss += (2 - 2 * u[i].mul(u[j]).sumNumber().doubleValue() / n) / pairs;
                du[i].addi(u[j].mul(-2.0 / ((double) n * pairs)));
                du[j].addi(u[i].mul(-2.0 / ((double) n * pairs)));
            }
        }
        INDArray[] grads = new INDArray[v];
        for (int i = 0; i < v; i++) {
            INDArray dz = Tensors.normalizeBackward(du[i], u[i], norms[i]);
            grads[i] = dz.like();
            for (int b = 0; b < n / w; b++) {
                INDArray g = dz.get(NDArrayIndex.interval(b * w, (b + 1) * w), NDArrayIndex.all());
                grads[i].get(NDArrayIndex.interval(b * w, (b + 1) * w), NDArrayIndex.all())
                        .assign(whitenBackward(g, wh[i][b]));
            }
        }
        return new LossAndGradients(loss, grads);
    }

    private record Whitened(INDArray xc, INDArray lower, INDArray inv, INDArray z) {
    }

    private Whitened whiten(INDArray x) {
        int w = x.rows();
        int d = x.columns();
        INDArray xc = x.subRowVector(x.mean(0));
        INDArray s = xc.transpose().mmul(xc).muli((1 - eps) / (w - 1));
        if (eps > 0) {
            s.addi(Tensors.eye(d, s.dataType()).muli(eps));
        }
        // Cholesky and the triangular inverse on the JVM in double precision: ND4J 1.0.0-M2.1's cholesky rejects
        // well-conditioned FLOAT matrices of size ~128 because its determinant check underflows to 0
        double[][] factors = choleskyAndInverse(s.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE)
                .dup('c').data().asDouble(), d);
        INDArray lower = Nd4j.create(factors[0], new long[]{d, d}, org.nd4j.linalg.api.buffer.DataType.DOUBLE)
                .castTo(s.dataType());
        INDArray inv = Nd4j.create(factors[1], new long[]{d, d}, org.nd4j.linalg.api.buffer.DataType.DOUBLE)
                .castTo(s.dataType());
        return new Whitened(xc, lower, inv, xc.mmul(inv.transpose()));
    }

    /**
     * Cholesky factor L of a symmetric positive-definite d x d matrix (row-major) and L^{-1}, both lower
     * triangular, row-major. IllegalArgumentException when the matrix is not positive definite.
     */
    static double[][] choleskyAndInverse(double[] a, int d) {
        double[] l = new double[d * d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j <= i; j++) {
                double sum = a[i * d + j];
                for (int k = 0; k < j; k++) {
                    sum -= l[i * d + k] * l[j * d + k];
                }
                if (i == j) {
                    if (!(sum > 0)) {
                        throw new IllegalArgumentException("the sub-batch covariance is not positive definite (pivot "
                                + sum + " at " + i + "): use a larger subBatchSize than D or eps > 0");
                    }
                    l[i * d + i] = Math.sqrt(sum);
                } else {
                    l[i * d + j] = sum / l[j * d + j];
                }
            }
        }
        // forward substitution column by column: L M = I
        double[] m = new double[d * d];
        for (int col = 0; col < d; col++) {
            for (int i = col; i < d; i++) {
                double sum = i == col ? 1.0 : 0.0;
                for (int k = col; k < i; k++) {
                    sum -= l[i * d + k] * m[k * d + col];
                }
                m[i * d + col] = sum / l[i * d + i];
            }
        }
        return new double[][]{l, m};
    }

    /** Lower-triangular mask with {@code diagonal} on the diagonal and 1 below it (built on the JVM side). */
    private static INDArray lowerMask(int d, INDArray like, double diagonal) {
        double[] m = new double[d * d];
        for (int r = 0; r < d; r++) {
            for (int c = 0; c < r; c++) {
                m[r * d + c] = 1.0;
            }
            m[r * d + r] = diagonal;
        }
        return Nd4j.create(m, new long[]{d, d}, org.nd4j.linalg.api.buffer.DataType.DOUBLE).castTo(like.dataType());
    }

    private INDArray whitenBackward(INDArray g, Whitened wh) {
        int w = g.rows();
        int d = g.columns();
        INDArray m = wh.inv;                           // L^{-1}
        INDArray dxc = g.mmul(m);                      // Z = Xc M^T
        INDArray abar = wh.xc.transpose().mmul(g);     // dL/dA, A = M^T
        INDArray lbar = m.transpose().mmul(abar.transpose()).mmul(m.transpose()).negi();
        lbar.muli(lowerMask(d, g, 1.0));
        INDArray p = wh.lower.transpose().mmul(lbar).muli(lowerMask(d, g, 0.5));   // Phi: lower part, diagonal halved
        INDArray sbar = m.transpose().mmul(p).mmul(m);
        sbar = sbar.add(sbar.transpose()).muli(0.5);
        dxc.addi(wh.xc.mmul(sbar).muli(2 * (1 - eps) / (w - 1)));
        return dxc.subRowVector(dxc.mean(0));
    }

    @Override
    public String name() {
        return "wmse";
    }

    @Override
    public Map<String, Double> hyperParameters() {
        return Map.of("subBatchSize", (double) subBatchSize, "eps", eps);
    }
}
