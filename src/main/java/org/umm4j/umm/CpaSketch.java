package org.umm4j.umm;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.SplittableRandom;

/**
 * k-direction finite-difference sketch of the CPA log-volume {@code log sqrt(det(J_i J_i^T))} of the last
 * layers f_l at each early feature e_i, with a hand-derived backward pass (no second derivatives needed).
 *
 * <p>For sample i draw k orthonormal directions {@code V_i = [v_1..v_k]} in early-feature space
 * (Gaussian, Gram-Schmidt), step {@code h = stepScale * rms(e)}, and evaluate f_l once on the stacked
 * batch {@code [e; e + h v_1; ...; e + h v_k]} (block j holds rows {@code j*B .. j*B+B-1}). Then
 * <pre>
 *   U_i   = [f_l(e_i + h v_j) - f_l(e_i)]_j / h                 (D x k, a JVP sketch of J_i V_i)
 *   G_i   = U_i^T U_i + delta I_k
 *   s_i   = c * 1/2 logdet(G_i),   c = min(d_early, D) / k  (1 when k equals the rank)
 *   ds_i/dU_i = c * U_i G_i^-1
 * </pre>
 * For a linear injective map with k = d_early and orthonormal V the sketch is exact:
 * {@code s = 1/2 logdet(J^T J)}. In a ResNet d_early is much larger than D and the sketch is a proxy;
 * under {@code J -> aJ} it moves by {@code k log a} while the true log-volume moves by
 * {@code min(d_early, D) log a}, hence the factor c (DESIGN.md section 4). Logdets go through a Cholesky
 * factorisation of the k x k matrix G_i.
 *
 * @param k         directions per sample (default 8)
 * @param stepScale finite-difference step relative to the RMS of the early features (default 1e-2)
 * @param delta     ridge added to G_i (default 1e-6)
 */
public record CpaSketch(int k, double stepScale, double delta) {
    /** Validates the fields; errors name them. */
    public CpaSketch {
        if (k <= 0) {
            throw new IllegalArgumentException("k must be positive, got " + k);
        }
        if (!(stepScale > 0) || !Double.isFinite(stepScale)) {
            throw new IllegalArgumentException("stepScale must be positive, got " + stepScale);
        }
        if (!(delta > 0) || !Double.isFinite(delta)) {
            throw new IllegalArgumentException("delta must be positive, got " + delta);
        }
    }

    /** @return k = 8, step 1e-2 x feature RMS, delta 1e-6 */
    public static CpaSketch defaults() {
        return new CpaSketch(8, 1e-2, 1e-6);
    }

    /**
     * The stacked input for one forward pass of f_l.
     *
     * @param stacked    [(k+1)B, ...] early features and their perturbations (block 0 is e itself)
     * @param batch      B
     * @param k          directions
     * @param h          absolute finite-difference step
     * @param earlyDim   number of elements of one early feature (d_early)
     */
    public record Perturbation(INDArray stacked, int batch, int k, double h, long earlyDim) {
    }

    /**
     * Draws the directions and builds the stacked input.
     *
     * @param early [B, ...] early features (any rank >= 2, e.g. NCHW)
     * @param seed  seed of the directions
     */
    public Perturbation perturb(INDArray early, long seed) {
        if (early == null || early.rank() < 2 || early.size(0) < 1) {
            throw new IllegalArgumentException("early must be [B, ...] with B >= 1, got "
                    + (early == null ? "null" : java.util.Arrays.toString(early.shape())));
        }
        int b = (int) early.size(0);
        long d = early.length() / b;
        if (k > d) {
            throw new IllegalArgumentException("k = " + k + " directions exceed the early feature dimension " + d);
        }
        INDArray flat = early.reshape('c', b, d);
        double rms = flat.castTo(DataType.DOUBLE).norm2Number().doubleValue() / Math.sqrt((double) b * d);
        double h = stepScale * (rms > 0 ? rms : 1.0);
        double[] base = flat.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] out = new double[(int) ((k + 1L) * b * d)];
        System.arraycopy(base, 0, out, 0, base.length);
        SplittableRandom rng = new SplittableRandom(seed);
        double[][] v = new double[k][(int) d];
        for (int i = 0; i < b; i++) {
            orthonormalDirections(v, rng);
            int off = (int) (i * d);
            for (int j = 0; j < k; j++) {
                int dst = (int) (((j + 1L) * b + i) * d);
                for (int t = 0; t < d; t++) {
                    out[dst + t] = base[off + t] + h * v[j][t];
                }
            }
        }
        long[] shape = early.shape().clone();
        shape[0] = (k + 1L) * b;
        INDArray stacked = Nd4j.create(out, shape, 'c').castTo(early.dataType());
        return new Perturbation(stacked, b, k, h, d);
    }

    private static void orthonormalDirections(double[][] v, SplittableRandom rng) {
        int d = v[0].length;
        for (int j = 0; j < v.length; j++) {
            double[] x = v[j];
            while (true) {
                for (int t = 0; t < d; t++) {
                    x[t] = gaussian(rng);
                }
                // two passes of Gram-Schmidt keep the basis orthonormal to rounding
                for (int pass = 0; pass < 2; pass++) {
                    for (int q = 0; q < j; q++) {
                        double dot = 0;
                        for (int t = 0; t < d; t++) {
                            dot += x[t] * v[q][t];
                        }
                        for (int t = 0; t < d; t++) {
                            x[t] -= dot * v[q][t];
                        }
                    }
                }
                double n = 0;
                for (int t = 0; t < d; t++) {
                    n += x[t] * x[t];
                }
                n = Math.sqrt(n);
                if (n > 1e-8) {
                    for (int t = 0; t < d; t++) {
                        x[t] /= n;
                    }
                    break;
                }
            }
        }
    }

    private static double gaussian(SplittableRandom rng) {
        // Box-Muller: SplittableRandom has no nextGaussian on Java 17
        double u1 = 1.0 - rng.nextDouble();
        double u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    /**
     * Log-volumes and what is needed for their backward pass.
     *
     * @param values per-sample s_i
     * @param p      the perturbation they came from
     * @param dsdU   [B][D*k] c U_i G_i^-1, row-major D x k
     * @param outDim D
     */
    public record LogVolumes(double[] values, Perturbation p, double[][] dsdU, int outDim) {
        /**
         * Maps {@code dL/ds} to {@code dL/d outputs} for the stacked forward pass.
         *
         * @param gradS one entry per sample
         * @return [(k+1)B, D] DOUBLE gradient with respect to the f_l outputs
         */
        public INDArray backward(double[] gradS) {
            int b = p.batch();
            int kk = p.k();
            if (gradS.length != b) {
                throw new IllegalArgumentException("gradS has " + gradS.length + " entries, expected " + b);
            }
            double[] g = new double[(kk + 1) * b * outDim];
            for (int i = 0; i < b; i++) {
                double gi = gradS[i] / p.h();
                for (int j = 0; j < kk; j++) {
                    int row = ((j + 1) * b + i) * outDim;
                    int base = i * outDim;
                    for (int r = 0; r < outDim; r++) {
                        double val = gi * dsdU[i][r * kk + j];
                        g[row + r] += val;
                        g[base + r] -= val;
                    }
                }
            }
            return Nd4j.create(g, new long[]{(long) (kk + 1) * b, outDim}, 'c');
        }
    }

    /**
     * Computes the log-volumes from f_l's outputs on {@link Perturbation#stacked()}.
     *
     * @param outputs [(k+1)B, D] (further dimensions are flattened)
     */
    public LogVolumes logVolumes(INDArray outputs, Perturbation p) {
        int b = p.batch();
        int kk = p.k();
        if (outputs == null || outputs.size(0) != (long) (kk + 1) * b) {
            throw new IllegalArgumentException("outputs must have (k+1)B = " + ((kk + 1) * b) + " rows, got "
                    + (outputs == null ? "null" : java.util.Arrays.toString(outputs.shape())));
        }
        int dOut = (int) (outputs.length() / outputs.size(0));
        double[] o = outputs.reshape('c', outputs.size(0), dOut).castTo(DataType.DOUBLE).dup('c').data().asDouble();
        for (double x : o) {
            if (!Double.isFinite(x)) {
                throw new IllegalArgumentException("outputs contain NaN or infinite values");
            }
        }
        double c = (double) Math.min(p.earlyDim(), dOut) / kk;
        double[] s = new double[b];
        double[][] dsdU = new double[b][];
        double[] u = new double[dOut * kk];
        double[] gm = new double[kk * kk];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < kk; j++) {
                int row = ((j + 1) * b + i) * dOut;
                for (int r = 0; r < dOut; r++) {
                    u[r * kk + j] = (o[row + r] - o[i * dOut + r]) / p.h();
                }
            }
            for (int a = 0; a < kk; a++) {
                for (int bb = 0; bb <= a; bb++) {
                    double dot = 0;
                    for (int r = 0; r < dOut; r++) {
                        dot += u[r * kk + a] * u[r * kk + bb];
                    }
                    gm[a * kk + bb] = dot + (a == bb ? delta : 0);
                    gm[bb * kk + a] = gm[a * kk + bb];
                }
            }
            double[] l = SmallLinalg.cholesky(gm, kk);
            s[i] = c * 0.5 * SmallLinalg.logdetFromCholesky(l, kk);
            // c U G^-1, row by row: solve G x = (c u_r)^T for each row r of U (G symmetric)
            double[] grad = new double[dOut * kk];
            double[] rhs = new double[kk];
            for (int r = 0; r < dOut; r++) {
                for (int j = 0; j < kk; j++) {
                    rhs[j] = c * u[r * kk + j];
                }
                double[] x = SmallLinalg.choleskySolve(l, kk, rhs);
                System.arraycopy(x, 0, grad, r * kk, kk);
            }
            dsdU[i] = grad;
        }
        return new LogVolumes(s, p, dsdU, dOut);
    }

    /** Helper exposed for tests: the rows of block j (0 = unperturbed) of a stacked tensor. */
    static INDArray block(INDArray stacked, int batch, int j) {
        return stacked.get(NDArrayIndex.interval((long) j * batch, (long) (j + 1) * batch));
    }
}
