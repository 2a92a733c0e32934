package org.umm4j.crr;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.stream.IntStream;

/**
 * Coding rate, class-conditional coding rate and rate reduction (MCR^2: Yu, Chan, You, Song, Ma,
 * "Learning Diverse and Discriminative Representations via the Principle of Maximal Coding Rate
 * Reduction", NeurIPS 2020), as used by UMM (Qiang, Song et al., arXiv 2410.00772) to monitor and
 * undo memorisation. An immutable calculator holding the distortion {@code eps} (not squared).
 *
 * <p>Shapes: {@code Z} is {@code m x d}, one sample per row; {@code P} is an {@code m x k}
 * membership (rows sum to 1, see {@link Memberships}), {@code P_j = diag(P[:, j])},
 * {@code t_j = tr(P_j)}.
 * <pre>
 *   R(Z)      = 1/2 logdet(I_d + c Z^T Z),                                   c   = d / (m eps^2)
 *   Rc(Z|P)   = sum_j t_j/(2m) logdet(I_d + c_j Z^T P_j Z),                  c_j = d / (t_j eps^2)
 *               (a class with t_j = 0 contributes 0)
 *   dR(Z|P)   = R(Z) - Rc(Z|P)
 *   dR/dZ     = c Z (I_d + c Z^T Z)^-1
 *   dRc/dZ    = sum_j (t_j/m) c_j P_j Z (I_d + c_j Z^T P_j Z)^-1              (P held fixed)
 *   dRc/dP_ij = [logdet(A_j) + (d/eps^2) z_i^T A_j^-1 z_i - c_j sum_l P_lj z_l^T A_j^-1 z_l] / (2m),
 *               A_j = I_d + c_j Z^T P_j Z                                    ({@link #classRateMembershipGradient})
 * </pre>
 * The gradients with respect to {@code Z} hold {@code P} fixed, which is what UMM's outer objective
 * uses ("P held fixed"). The instance membership depends on {@code Z} as well: the full gradient
 * through its softmax is {@link #instanceRateReductionGradient}.
 *
 * <p>Numerics. No explicit inverse or determinant: every log-determinant is {@code 2 sum log diag(L)}
 * of a {@link Cholesky} factor and every {@code A^-1 x} is a pair of triangular solves. For each class
 * the smaller of two equal determinants is factored (Sylvester's identity), with
 * {@code S_j} the support of column {@code j}, {@code s = |S_j|}, {@code W = diag(P[S_j, j])}:
 * <pre>
 *   logdet(I_d + c Z^T P_j Z) = logdet(I_s + c W^1/2 Z_S Z_S^T W^1/2)            (used when s &lt; d)
 *   P_j Z (I_d + c Z^T P_j Z)^-1 = W^1/2 (I_s + c W^1/2 Z_S Z_S^T W^1/2)^-1 W^1/2 Z_S   (push-through)
 * </pre>
 * so one-hot labels with small classes, and the top-k instance membership
 * ({@link Memberships#instanceTopK}, about {@code k} non-zeros per column), cost {@code O(s^2 d + s^3)}
 * per class. The {@code d x d} Gram matrices of many classes with large support (soft and dense instance
 * memberships) are batched into one matrix product: with {@code Y[i, (a,b)] = Z[i,a] Z[i,b]}
 * ({@code a >= b}, the packed lower triangle), {@code (Z^T P_j Z)_(a,b) = (P^T Y)[j, (a,b)]}, computed by
 * ND4J's GEMM in blocks that bound memory. The factorisations run in parallel over classes.
 *
 * <p>Data types: DOUBLE and FLOAT inputs are accepted. The dominant cost, the {@code d x d} Gram products
 * of classes with large support ({@code O(s d^2)} each), runs in the input's data type through ND4J's GEMM; so
 * does {@code Z Z^T} when many small classes share it (the top-k instance membership: their {@code s x s} Gram
 * blocks are then read off it instead of computed pair by pair, for {@code m} up to 2,896). Everything else runs
 * in double whatever the input: the {@code s x s} Gram blocks of a few small supports, every Cholesky
 * factorisation, the log-determinant sums and the triangular solves. FLOAT
 * results are therefore accurate to float's rounding of the Gram entries (about 1e-6 relative; tested to
 * 1e-4 against the float64 fixture). Gradient and membership-gradient results have the input's data type.
 *
 * <p>Cost, for {@code m = 1000} FLOAT features on 2 cores (benchmarks/README.md): R 2 ms at {@code d = 128}, 33 ms at
 * {@code d = 512}; Rc under the top-10 instance membership 10-18 ms; the whole label-free value in one pass
 * ({@link #instanceRateReductionTopK}, membership included) 18 ms and 44 ms; Rc under the dense instance membership
 * (1000 full-support classes) about 1.3 s at {@code d = 128} and tens of seconds at {@code d = 512}.
 */
public final class CodingRate {
    /** Default distortion, as in MCR^2 and the UMM paper. */
    public static final double DEFAULT_EPS = 0.5;

    /** Bytes of Y per block (bounds the memory of the batched Gram products). */
    private static final long Y_BLOCK_BYTES = 64L << 20;
    /** Doubles of packed Grams held per chunk of classes. */
    private static final long GRAM_CHUNK_DOUBLES = 16L << 20;
    /** Fewer large classes than this are done by one GEMM each instead of the batched Y product. */
    private static final int BATCH_MIN_COLUMNS = 16;

    /**
     * Largest {@code m x m} Gram matrix {@code Z Z^T} (entries) computed once and shared by the small classes'
     * Gram blocks (8 M doubles = 64 MB, i.e. up to m = 2896 rows).
     */
    private static final long SHARED_GRAM_MAX_ENTRIES = 8L << 20;
    /**
     * The shared Gram is used when the small classes need more than {@code m^2 / SHARED_GRAM_GAIN} row pairs: one
     * GEMM computes all m^2 dot products about this many times faster than the Java loop computes one pair each.
     */
    private static final long SHARED_GRAM_GAIN = 40;

    /** Which determinant to factor for a class; AUTO picks the smaller (tests force the others). */
    enum Form { AUTO, GRAM, FULL }

    /** Whether the small classes' Gram blocks come from one shared {@code Z Z^T} (tests force both ways). */
    enum SharedGram { AUTO, ALWAYS, NEVER }

    private final double eps;
    private final Form form;
    private final long yBlockBytes;
    private final long gramChunkDoubles;
    private final SharedGram sharedGram;

    /**
     * @param eps distortion {@code eps > 0} (not squared)
     */
    public CodingRate(double eps) {
        this(eps, Form.AUTO);
    }

    CodingRate(double eps, Form form) {
        this(eps, form, Y_BLOCK_BYTES, GRAM_CHUNK_DOUBLES);
    }

    /** Tests shrink the memory bounds to exercise the blocked paths on small inputs. */
    CodingRate(double eps, Form form, long yBlockBytes, long gramChunkDoubles) {
        this(eps, form, yBlockBytes, gramChunkDoubles, SharedGram.AUTO);
    }

    /** Tests force or forbid the shared Gram of the small classes. */
    CodingRate(double eps, Form form, long yBlockBytes, long gramChunkDoubles, SharedGram sharedGram) {
        Checks.positive("eps", eps);
        this.eps = eps;
        this.form = form;
        this.yBlockBytes = yBlockBytes;
        this.gramChunkDoubles = gramChunkDoubles;
        this.sharedGram = sharedGram;
    }

    /** @return a calculator with {@link #DEFAULT_EPS} */
    public static CodingRate withDefaults() {
        return new CodingRate(DEFAULT_EPS);
    }

    /** @return the distortion eps */
    public double eps() {
        return eps;
    }

    // ------------------------------------------------------------------------------------ values

    /**
     * {@code R(Z) = 1/2 logdet(I_d + d/(m eps^2) Z^T Z)}.
     *
     * @param z {@code m x d} features
     * @return the coding rate in nats
     */
    public double rate(INDArray z) {
        Feat f = new Feat(z);
        return classRateOf(f, allOnes(f.m));
    }

    /**
     * {@code Rc(Z|P) = sum_j tr(P_j)/(2m) logdet(I_d + d/(tr(P_j) eps^2) Z^T P_j Z)}.
     *
     * @param z {@code m x d} features
     * @param p {@code m x k} membership, rows summing to 1
     * @return the class-conditional coding rate in nats
     */
    public double classRate(INDArray z, INDArray p) {
        Feat f = new Feat(z);
        return classRateOf(f, dense(f, p));
    }

    /**
     * {@link #classRate(INDArray, INDArray)} for a sparse membership (e.g. top-k instance).
     *
     * @param z {@code m x d} features
     * @param p {@code m x k} membership by columns
     * @return the class-conditional coding rate in nats
     */
    public double classRate(INDArray z, SparseMembership p) {
        Feat f = new Feat(z);
        return classRateOf(f, sparse(f, p));
    }

    /**
     * {@code dR(Z|P) = R(Z) - Rc(Z|P)}.
     *
     * @param z {@code m x d} features
     * @param p {@code m x k} membership
     * @return the rate reduction in nats
     */
    public double rateReduction(INDArray z, INDArray p) {
        Feat f = new Feat(z);
        SparseMembership sp = dense(f, p);
        return classRateOf(f, allOnes(f.m)) - classRateOf(f, sp);
    }

    /**
     * {@code dR(Z|P) = R(Z) - Rc(Z|P)} for a sparse membership.
     *
     * @param z {@code m x d} features
     * @param p {@code m x k} membership by columns
     * @return the rate reduction in nats
     */
    public double rateReduction(INDArray z, SparseMembership p) {
        Feat f = new Feat(z);
        SparseMembership sp = sparse(f, p);
        return classRateOf(f, allOnes(f.m)) - classRateOf(f, sp);
    }

    /**
     * The label-free monitor's value in one pass: {@code dR(N | P_k(N))} where {@code N} is {@code z} with its rows
     * scaled to unit length and {@code P_k(N)} = {@link Memberships#instanceTopK}{@code (N, tau, k)}. Equal (to the
     * rounding of the Gram products in {@code z}'s data type) to
     * {@code rateReduction(N, Memberships.instanceTopK(N, tau, k))}, and cheaper: because the rows have unit norm,
     * one GEMM {@code N N^T} is both the cosine matrix of the membership and the shared Gram of its small classes,
     * and {@code R(N)}'s {@code d x d} factorisation runs concurrently with the membership and {@code Rc}.
     *
     * @param z   {@code m x d} features, no zero row
     * @param tau temperature of the instance membership, {@code > 0}
     * @param k   neighbours per row, {@code 1 <= k <= m - 1}
     * @return the rate reduction in nats
     */
    public double instanceRateReductionTopK(INDArray z, double tau, int k) {
        Checks.instanceInput(z, tau);
        int m = (int) z.rows();
        Checks.neighbours(k, m);
        // normalised and multiplied in ND4J (z's data type); Java only sees the m x m Gram and the d x d one of R
        double[] norms = Checks.toDoubles(z.norm2(1).reshape(m, 1));
        for (int i = 0; i < m; i++) {
            if (!Double.isFinite(norms[i])) {
                Checks.finiteDoubles("Z", z); // names the first non-finite entry
                return rateReduction(unitRows(z), Memberships.instanceTopK(z, tau, k)); // finite, norm overflowed
            }
            if (!(norms[i] > 0)) {
                throw new IllegalArgumentException("Z: expected non-zero rows for cosine similarity, row " + i
                        + " is zero");
            }
        }
        INDArray zn = z.divColumnVector(Checks.create(norms, m, 1, z.dataType()));
        Feat f = new Feat(zn, Checks.symmetricToDoubles(Nd4j.gemm(zn, zn, false, true)));
        double[] cos = f.gram();
        f.fullGram(); // both GEMMs here, one at a time: ND4J's OpenMP threads must not compete with the Java threads
        java.util.concurrent.CompletableFuture<Double> rate =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> classRateOf(f, allOnes(m)));
        double rc = classRateOf(f, Memberships.topKFromCosines(cos, m, tau, k));
        return rate.join() - rc;
    }

    /** Rows scaled to unit length in double (the path for rows whose norm overflows z's data type). */
    private static INDArray unitRows(INDArray z) {
        int m = (int) z.rows();
        int d = (int) z.columns();
        double[] n = Memberships.normalise(Checks.toDoubles(z), m, d, new double[m]);
        return Checks.create(n, m, d, DataType.DOUBLE);
    }

    // ------------------------------------------------------------------------------ gradients

    /**
     * {@code dR/dZ = c Z (I_d + c Z^T Z)^-1}, {@code c = d/(m eps^2)}.
     *
     * @param z {@code m x d} features
     * @return {@code m x d} gradient in {@code z}'s data type
     */
    public INDArray rateGradient(INDArray z) {
        Feat f = new Feat(z);
        return f.out(classRateGradientOf(f, allOnes(f.m)));
    }

    /**
     * {@code dRc/dZ = sum_j (t_j/m) c_j P_j Z (I_d + c_j Z^T P_j Z)^-1} with {@code P} held fixed.
     *
     * @param z {@code m x d} features
     * @param p {@code m x k} membership
     * @return {@code m x d} gradient in {@code z}'s data type
     */
    public INDArray classRateGradient(INDArray z, INDArray p) {
        Feat f = new Feat(z);
        return f.out(classRateGradientOf(f, dense(f, p)));
    }

    /**
     * {@link #classRateGradient(INDArray, INDArray)} for a sparse membership ({@code P} held fixed).
     *
     * @param z {@code m x d} features
     * @param p membership by columns
     * @return {@code m x d} gradient in {@code z}'s data type
     */
    public INDArray classRateGradient(INDArray z, SparseMembership p) {
        Feat f = new Feat(z);
        return f.out(classRateGradientOf(f, sparse(f, p)));
    }

    /**
     * {@code d(dR)/dZ = dR/dZ - dRc/dZ} with {@code P} held fixed.
     *
     * @param z {@code m x d} features
     * @param p {@code m x k} membership
     * @return {@code m x d} gradient in {@code z}'s data type
     */
    public INDArray rateReductionGradient(INDArray z, INDArray p) {
        Feat f = new Feat(z);
        return f.out(subtract(classRateGradientOf(f, allOnes(f.m)), classRateGradientOf(f, dense(f, p))));
    }

    /**
     * {@code d(dR)/dZ} with a sparse membership held fixed.
     *
     * @param z {@code m x d} features
     * @param p membership by columns
     * @return {@code m x d} gradient in {@code z}'s data type
     */
    public INDArray rateReductionGradient(INDArray z, SparseMembership p) {
        Feat f = new Feat(z);
        return f.out(subtract(classRateGradientOf(f, allOnes(f.m)), classRateGradientOf(f, sparse(f, p))));
    }

    /**
     * {@code dRc/dP} at fixed {@code Z} (formula in the class comment); columns with {@code tr(P_j) = 0}
     * get 0 (the rate is not differentiable there).
     *
     * @param z {@code m x d} features
     * @param p {@code m x k} membership
     * @return {@code m x k} gradient in {@code z}'s data type
     */
    public INDArray classRateMembershipGradient(INDArray z, INDArray p) {
        Feat f = new Feat(z);
        SparseMembership sp = dense(f, p);
        int m = f.m;
        int d = f.d;
        int k = sp.cols();
        double[] out = new double[m * k];
        double scale = d / (eps * eps);
        forEachColumn(f, sp, Form.FULL, col -> {
            // q_i = z_i^T A^-1 z_i = |L^-1 z_i|^2 for every sample i
            double[] q = new double[m];
            double[] y = new double[d];
            double[] zv = f.v();
            for (int i = 0; i < m; i++) {
                System.arraycopy(zv, i * d, y, 0, d);
                Cholesky.forwardInPlace(col.factor, d, y, 0);
                q[i] = Cholesky.dot(y, 0, 0, d);
            }
            double wq = 0;
            for (int a = 0; a < col.rows.length; a++) {
                wq += col.w[a] * q[col.rows[a]];
            }
            double[] g = new double[m];
            for (int i = 0; i < m; i++) {
                g[i] = (col.logdet + scale * q[i] - col.c * wq) / (2.0 * m);
            }
            return g;
        }, (col, g) -> {
            for (int i = 0; i < m; i++) {
                out[i * k + col.j] = g[i];
            }
        });
        return f.out(out, m, k);
    }

    /**
     * The full gradient of the label-free rate reduction {@code dR(Z | P(Z))}, {@code P(Z) =}
     * {@link Memberships#instance}{@code (Z, tau)}, including the path through the softmax:
     * {@code dR/dZ - dRc/dZ|_P - (dRc/dP) backpropagated by} {@link Memberships#instanceBackward}.
     * Costs {@code O(m^2 d^2)}; meant for moderate {@code m}.
     *
     * @param z   {@code m x d} features
     * @param tau temperature of the instance membership
     * @return {@code m x d} gradient in {@code z}'s data type
     */
    public INDArray instanceRateReductionGradient(INDArray z, double tau) {
        INDArray p = Memberships.instance(z, tau);
        INDArray fixed = rateReductionGradient(z, p);
        INDArray gp = classRateMembershipGradient(z, p);
        INDArray through = Memberships.instanceBackward(z, tau, p, gp);
        return fixed.sub(through);
    }

    // ---------------------------------------------------------------------------- engine

    /** Validated features: the original array and a row-major double copy. */
    private static final class Feat {
        final INDArray z;
        private double[] v;
        final int m;
        final int d;
        final DataType type;

        Feat(INDArray z) {
            Checks.matrix("Z", z);
            if (z.length() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("Z: too many elements " + z.length());
            }
            this.z = z;
            this.m = (int) z.rows();
            this.d = (int) z.columns();
            this.type = z.dataType();
            this.v = Checks.finiteDoubles("Z", z);
        }

        /**
         * Features already validated, as a c-ordered array of their data type and (optionally) their {@code Z Z^T};
         * the double copy is made only if a path needs it.
         */
        Feat(INDArray array, double[] gram) {
            this.z = array;
            this.array = array;
            this.gram = gram;
            this.m = (int) array.rows();
            this.d = (int) array.columns();
            this.type = array.dataType();
        }

        private double[] gram;
        private INDArray array;

        /** Row-major {@code m x d} doubles of Z. */
        synchronized double[] v() {
            if (v == null) {
                v = Checks.toDoubles(array);
            }
            return v;
        }

        /** Z in its data type, c-ordered (created from {@code v} on first use). */
        synchronized INDArray array() {
            if (array == null) {
                array = Checks.create(v(), m, d, type);
            }
            return array;
        }

        /** Whether {@code Z Z^T} is already at hand (then every small class reads its Gram block off it). */
        synchronized boolean hasGram() {
            return gram != null;
        }

        /** {@code Z Z^T} (row-major m x m doubles) by one GEMM in Z's data type, computed on first use. */
        synchronized double[] gram() {
            if (gram == null) {
                INDArray zc = array();
                gram = Checks.symmetricToDoubles(Nd4j.gemm(zc, zc, false, true));
            }
            return gram;
        }

        private double[] fullGram;

        /** {@code Z^T Z} (row-major d x d doubles) by one GEMM in Z's data type, computed on first use. */
        synchronized double[] fullGram() {
            if (fullGram == null) {
                INDArray zc = array();
                // Nd4j.gemm with a transpose flag: INDArray.mmul on a transposed view copies an operand (2x slower)
                fullGram = Checks.symmetricToDoubles(Nd4j.gemm(zc, zc, true, false));
            }
            return fullGram;
        }

        INDArray out(double[] g) {
            return out(g, m, d);
        }

        INDArray out(double[] g, int rows, int cols) {
            return Checks.create(g, rows, cols, type);
        }
    }

    /** One class: its support, weights, trace, c_j and (while being processed) its factor. */
    private static final class Col {
        final int j;
        final int[] rows;
        final double[] w;
        final double t;
        final double c;
        final boolean gram;
        final int n;
        double[] factor;
        double[] packedGram;
        double logdet;

        Col(int j, int[] rows, double[] w, double t, double c, boolean gram, int d) {
            this.j = j;
            this.rows = rows;
            this.w = w;
            this.t = t;
            this.c = c;
            this.gram = gram;
            this.n = gram ? rows.length : d;
        }
    }

    private interface ColumnWork<T> {
        T apply(Col col);
    }

    private interface ColumnSink<T> {
        void accept(Col col, T result);
    }

    private static SparseMembership allOnes(int m) {
        int[] rows = new int[m];
        double[] w = new double[m];
        for (int i = 0; i < m; i++) {
            rows[i] = i;
            w[i] = 1;
        }
        return new SparseMembership(m, 1, new int[][]{rows}, new double[][]{w});
    }

    private static SparseMembership dense(Feat f, INDArray p) {
        Checks.matrix("P", p);
        if (p.rows() != f.m) {
            throw new IllegalArgumentException("P: expected " + f.m + " rows (one per row of Z), got "
                    + p.rows() + " (P is " + p.rows() + " x " + p.columns() + ", Z is " + f.m + " x " + f.d + ")");
        }
        double[] v = Checks.finiteDoubles("P", p);
        Checks.membershipRows("P", v, f.m, (int) p.columns());
        return SparseMembership.fromDense(p);
    }

    private static SparseMembership sparse(Feat f, SparseMembership p) {
        if (p == null) {
            throw new IllegalArgumentException("P: expected a membership, got null");
        }
        if (p.rows() != f.m) {
            throw new IllegalArgumentException("P: expected " + f.m + " rows (one per row of Z), got " + p.rows());
        }
        return p;
    }

    private double classRateOf(Feat f, SparseMembership p) {
        double[] contrib = new double[p.cols()];
        forEachColumn(f, p, form, col -> col.t / (2.0 * f.m) * col.logdet, (col, r) -> contrib[col.j] = r);
        double s = 0;
        for (double x : contrib) { // fixed order: deterministic despite the parallel factorisations
            s += x;
        }
        return s;
    }

    private double[] classRateGradientOf(Feat f, SparseMembership p) {
        final int d = f.d;
        double[] g = new double[f.m * d];
        forEachColumn(f, p, form, col -> {
            int s = col.rows.length;
            double[] x = new double[s * d]; // rows of P_j Z A^-1, restricted to the support
            double scale = col.t / f.m * col.c;
            double[] zv = f.v();
            if (col.gram) {
                // push-through: W^1/2 M^-1 W^1/2 Z_S, M = I_s + c W^1/2 Z_S Z_S^T W^1/2; solve column by column
                double[] rhs = new double[s];
                for (int b = 0; b < d; b++) {
                    for (int a = 0; a < s; a++) {
                        rhs[a] = Math.sqrt(col.w[a]) * zv[col.rows[a] * d + b];
                    }
                    Cholesky.solveInPlace(col.factor, s, rhs, 0);
                    for (int a = 0; a < s; a++) {
                        x[a * d + b] = scale * Math.sqrt(col.w[a]) * rhs[a];
                    }
                }
            } else {
                for (int a = 0; a < s; a++) {
                    System.arraycopy(zv, col.rows[a] * d, x, a * d, d);
                    Cholesky.solveInPlace(col.factor, d, x, a * d);
                    double sw = scale * col.w[a];
                    for (int b = 0; b < d; b++) {
                        x[a * d + b] *= sw;
                    }
                }
            }
            return x;
        }, (col, x) -> {
            for (int a = 0; a < col.rows.length; a++) {
                int off = col.rows[a] * d;
                for (int b = 0; b < d; b++) {
                    g[off + b] += x[a * d + b];
                }
            }
        });
        return g;
    }

    private static double[] subtract(double[] a, double[] b) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = a[i] - b[i];
        }
        return r;
    }

    /**
     * Factors {@code A_j} (or its Gram twin) for every class with {@code t_j > 0}, in chunks that bound
     * memory, runs {@code work} on each factored class in parallel, then hands the results to
     * {@code sink} sequentially in class order (so accumulations are deterministic).
     */
    private <T> void forEachColumn(Feat f, SparseMembership p, Form use, ColumnWork<T> work, ColumnSink<T> sink) {
        final int m = f.m;
        final int d = f.d;
        final double e2 = eps * eps;
        java.util.List<Col> small = new java.util.ArrayList<>();
        java.util.List<Col> large = new java.util.ArrayList<>();
        for (int j = 0; j < p.cols(); j++) {
            int[] rows = p.supportRef(j);
            double[] w = p.weightsRef(j);
            double t = 0;
            for (double x : w) {
                t += x;
            }
            if (!(t > 0)) {
                continue; // an empty class contributes nothing
            }
            boolean gram = use == Form.GRAM || (use == Form.AUTO && rows.length < d);
            Col col = new Col(j, rows, w, t, d / (t * e2), gram, d);
            (gram ? small : large).add(col);
        }
        // small classes: Gram form, s x s, built from the rows of Z or read off one shared Z Z^T
        long pairs = 0;
        for (Col col : small) {
            pairs += (long) col.rows.length * (col.rows.length + 1) / 2;
        }
        long mm = (long) m * m;
        final double[] shared = !small.isEmpty() && (f.hasGram() || sharedGram == SharedGram.ALWAYS
                || (sharedGram == SharedGram.AUTO && mm <= SHARED_GRAM_MAX_ENTRIES && pairs * SHARED_GRAM_GAIN > mm))
                ? f.gram() : null;
        int smallChunk = Math.max(1, (int) Math.min(Integer.MAX_VALUE / 2, gramChunkDoubles / Math.max(1, (long) d * d)));
        for (int c0 = 0; c0 < small.size(); c0 += smallChunk) {
            java.util.List<Col> chunk = small.subList(c0, Math.min(small.size(), c0 + smallChunk));
            run(chunk, col -> {
                factorGram(f, col, shared);
                return work.apply(col);
            }, sink);
        }
        // large classes: d x d form, Grams by GEMM (one per class, or batched through Y)
        if (large.isEmpty()) {
            return;
        }
        long npairs = (long) d * (d + 1) / 2;
        if (large.size() < BATCH_MIN_COLUMNS) {
            for (Col col : large) {
                // a copy of the cached Z^T Z: the factorisation overwrites it, and R and Rc may both need it
                double[] a = isAllOnes(col, m) ? f.fullGram().clone() : gramByGemm(f, col);
                run(java.util.List.of(col), cc -> {
                    factorFull(col, a, d);
                    return work.apply(col);
                }, sink);
            }
            return;
        }
        int chunk = (int) Math.max(1, Math.min(large.size(), gramChunkDoubles / npairs));
        YBlocks y = new YBlocks(f, large.size() > chunk, yBlockBytes);
        for (int c0 = 0; c0 < large.size(); c0 += chunk) {
            java.util.List<Col> cols = large.subList(c0, Math.min(large.size(), c0 + chunk));
            double[][] packed = y.grams(cols, m);
            for (int i = 0; i < cols.size(); i++) {
                cols.get(i).packedGram = packed[i];
            }
            run(cols, col -> {
                double[] a = unpack(col.packedGram, d);
                col.packedGram = null;
                factorFull(col, a, d);
                return work.apply(col);
            }, sink);
        }
    }

    /** Whether the class is every sample with weight 1 (the coding rate R itself): its Gram is Z^T Z. */
    private static boolean isAllOnes(Col col, int m) {
        if (col.rows.length != m) {
            return false;
        }
        for (double x : col.w) {
            if (x != 1) {
                return false;
            }
        }
        return true;
    }

    /** Parallel over the classes of a chunk; results delivered in order; factors released after use. */
    @SuppressWarnings("unchecked")
    private static <T> void run(java.util.List<Col> cols, ColumnWork<T> work, ColumnSink<T> sink) {
        Object[] res = new Object[cols.size()];
        IntStream.range(0, cols.size()).parallel().forEach(i -> {
            res[i] = work.apply(cols.get(i));
            cols.get(i).factor = null;
        });
        for (int i = 0; i < res.length; i++) {
            sink.accept(cols.get(i), (T) res[i]);
        }
    }

    /** M = I_s + c W^1/2 Z_S Z_S^T W^1/2, factored; logdet stored. {@code gram}: Z Z^T (m x m) or null. */
    private static void factorGram(Feat f, Col col, double[] gram) {
        int s = col.rows.length;
        int d = f.d;
        double[] a = new double[s * s];
        double[] sw = new double[s];
        double[] zv = gram != null ? null : f.v();
        for (int i = 0; i < s; i++) {
            sw[i] = Math.sqrt(col.w[i]);
        }
        for (int i = 0; i < s; i++) {
            int ri = col.rows[i] * d;
            for (int k = 0; k <= i; k++) {
                int rk = col.rows[k] * d;
                double dot = gram != null ? gram[col.rows[i] * f.m + col.rows[k]] : Cholesky.dot(zv, ri, rk, d);
                a[i * s + k] = col.c * sw[i] * sw[k] * dot + (i == k ? 1 : 0);
            }
        }
        Cholesky.factor(a, s);
        col.factor = a;
        col.logdet = Cholesky.logdet(a, s);
    }

    /** A = I_d + c G from the Gram G (lower triangle read), factored in place; logdet stored. */
    private static void factorFull(Col col, double[] g, int d) {
        for (int i = 0; i < d; i++) {
            for (int k = 0; k <= i; k++) {
                g[i * d + k] = col.c * g[i * d + k] + (i == k ? 1 : 0);
            }
        }
        Cholesky.factor(g, d);
        col.factor = g;
        col.logdet = Cholesky.logdet(g, d);
    }

    /** G = Z_S^T W Z_S by one ND4J GEMM in Z's data type; returned row-major d x d in double. */
    private static double[] gramByGemm(Feat f, Col col) {
        int s = col.rows.length;
        int d = f.d;
        double[] zs = new double[s * d];
        double[] wzT = new double[d * s]; // built transposed: a c-ordered GEMM operand is faster than a view
        double[] zv = f.v();
        for (int a = 0; a < s; a++) {
            int r = col.rows[a] * d;
            for (int b = 0; b < d; b++) {
                zs[a * d + b] = zv[r + b];
                wzT[b * s + a] = col.w[a] * zv[r + b];
            }
        }
        INDArray zsA = Checks.create(zs, s, d, f.type);
        INDArray wzA = Checks.create(wzT, d, s, f.type);
        return Checks.toDoubles(wzA.mmul(zsA));
    }

    private static double[] unpack(double[] packed, int d) {
        double[] a = new double[d * d];
        int q = 0;
        for (int i = 0; i < d; i++) {
            System.arraycopy(packed, q, a, i * d, i + 1);
            q += i + 1;
        }
        return a;
    }

    /**
     * The batched Gram product {@code (Z^T P_j Z)_(a,b) = (P^T Y)[j, (a,b)]}, {@code Y[i,(a,b)] = Z[i,a] Z[i,b]}
     * over the packed lower triangle {@code a >= b}; Y is split into blocks of consecutive packed indices
     * (whole rows {@code a} of the triangle) and kept across chunks of classes when it is a single block.
     */
    private static final class YBlocks {
        private final Feat f;
        private final int[] rowStart; // block q covers triangle rows [rowStart[q], rowStart[q+1])
        private final INDArray[] cached;

        YBlocks(Feat f, boolean reuse, long blockBytes) {
            this.f = f;
            int bytes = f.type == DataType.FLOAT ? 4 : 8;
            long perBlock = Math.max(1, blockBytes / bytes / f.m);
            java.util.List<Integer> starts = new java.util.ArrayList<>();
            int a = 0;
            starts.add(0);
            long acc = 0;
            while (a < f.d) {
                acc += a + 1;
                a++;
                if (acc >= perBlock && a < f.d) {
                    starts.add(a);
                    acc = 0;
                }
            }
            starts.add(f.d);
            rowStart = starts.stream().mapToInt(Integer::intValue).toArray();
            cached = reuse && rowStart.length == 2 ? new INDArray[1] : null;
        }

        double[][] grams(java.util.List<Col> cols, int m) {
            int nc = cols.size();
            int d = f.d;
            long npairs = (long) d * (d + 1) / 2;
            double[] pt = new double[nc * m];
            for (int c = 0; c < nc; c++) {
                Col col = cols.get(c);
                for (int a = 0; a < col.rows.length; a++) {
                    pt[c * m + col.rows[a]] = col.w[a];
                }
            }
            INDArray ptA = Checks.create(pt, nc, m, f.type);
            double[][] out = new double[nc][(int) npairs];
            for (int q = 0; q + 1 < rowStart.length; q++) {
                INDArray y = cached != null && cached[0] != null ? cached[0] : build(rowStart[q], rowStart[q + 1]);
                if (cached != null) {
                    cached[0] = y;
                }
                double[] r = Checks.toDoubles(ptA.mmul(y));
                int off = rowStart[q] * (rowStart[q] + 1) / 2;
                int len = (int) y.columns();
                for (int c = 0; c < nc; c++) {
                    System.arraycopy(r, c * len, out[c], off, len);
                }
            }
            return out;
        }

        private INDArray build(int a0, int a1) {
            int m = f.m;
            int d = f.d;
            int len = a1 * (a1 + 1) / 2 - a0 * (a0 + 1) / 2;
            double[] v = f.v();
            if (f.type == DataType.FLOAT) {
                float[] y = new float[m * len];
                for (int i = 0; i < m; i++) {
                    int zi = i * d;
                    int q = i * len;
                    for (int a = a0; a < a1; a++) {
                        float za = (float) v[zi + a];
                        for (int b = 0; b <= a; b++) {
                            y[q++] = za * (float) v[zi + b];
                        }
                    }
                }
                return Nd4j.create(y, new long[]{m, len}, 'c');
            }
            double[] y = new double[m * len];
            for (int i = 0; i < m; i++) {
                int zi = i * d;
                int q = i * len;
                for (int a = a0; a < a1; a++) {
                    double za = v[zi + a];
                    for (int b = 0; b <= a; b++) {
                        y[q++] = za * v[zi + b];
                    }
                }
            }
            return Nd4j.create(y, new long[]{m, len}, 'c');
        }
    }
}
