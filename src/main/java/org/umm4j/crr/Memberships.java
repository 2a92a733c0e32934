package org.umm4j.crr;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Membership matrices {@code P} ({@code m x k}, row {@code i} = how sample {@code i} is shared among
 * {@code k} classes, rows sum to 1) for the class-conditional coding rate {@link CodingRate#classRate}.
 *
 * <ul>
 *   <li>{@link #fromLabels}: one-hot rows, {@code P[i, y_i] = 1} (MCR^2, Yu et al., NeurIPS 2020).</li>
 *   <li>{@link #instance}: the label-free "instance" membership of the UMM paper (Qiang, Song et al.,
 *       arXiv 2410.00772): with {@code cos(z_i, z_j) = z_i.z_j / (|z_i| |z_j|)},
 *       <pre>P[i, j] = exp(cos(z_i, z_j)/tau) / sum_{l != i} exp(cos(z_i, z_l)/tau)  (j != i),   P[i, i] = 0,   k = m.</pre>
 *       Each sample is its own class, softly shared with its neighbours.</li>
 *   <li>{@link #instanceTopK}: the same softmax restricted to the {@code k} nearest neighbours of each
 *       row (largest cosine, ties to the smaller index), i.e. the {@code k} largest entries of the
 *       dense row, <b>renormalised to sum to 1</b> (equivalently, a softmax over those {@code k}
 *       neighbours only). Every column then has few non-zeros (on average {@code k}), which lets
 *       {@link CodingRate} use Sylvester's identity on each column's support. With
 *       {@code k = m - 1} it equals {@link #instance}. It is a sharper membership, not a numerical
 *       approximation of the dense one: when dense rows are nearly uniform (unclustered features, large
 *       {@code tau}) every dense column covers almost all samples and {@code Rc} approaches {@code R}
 *       ({@code dR} near 0), whereas top-k columns hold about {@code k} samples and {@code Rc} stays
 *       small. Compare monitor values only within one membership and one {@code k}.</li>
 * </ul>
 * The instance membership depends on {@code Z}; {@link CodingRate}'s gradients treat {@code P} as fixed,
 * and {@link #instanceBackward} carries a gradient with respect to {@code P} back to {@code Z}.
 * Softmax and cosines are computed in double (the cosine Gram matrix {@code N N^T} in the input's type).
 */
public final class Memberships {
    /** Allowed deviation of a membership row sum from 1. */
    public static final double ROW_SUM_TOLERANCE = 1e-6;

    private Memberships() {
    }

    /**
     * One-hot membership, {@code DOUBLE}.
     *
     * @param labels class of each sample, in {@code [0, k)}
     * @param k      number of classes
     * @return {@code m x k} one-hot matrix
     */
    public static INDArray fromLabels(int[] labels, int k) {
        return fromLabels(labels, k, DataType.DOUBLE);
    }

    /**
     * One-hot membership.
     *
     * @param labels class of each sample, in {@code [0, k)}
     * @param k      number of classes
     * @param type   DOUBLE or FLOAT
     * @return {@code m x k} one-hot matrix, {@code P[i, labels[i]] = 1}
     */
    public static INDArray fromLabels(int[] labels, int k, DataType type) {
        if (labels == null || labels.length == 0) {
            throw new IllegalArgumentException("labels: expected at least one label");
        }
        if (k < 1) {
            throw new IllegalArgumentException("k: expected at least 1 class, got " + k);
        }
        double[] v = new double[labels.length * k];
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= k) {
                throw new IllegalArgumentException("labels: expected values in [0, " + k + "), got "
                        + labels[i] + " at index " + i);
            }
            v[i * k + labels[i]] = 1;
        }
        return Checks.create(v, labels.length, k, type);
    }

    /**
     * Dense label-free instance membership {@code P[i, j] = softmax_{j != i}(cos(z_i, z_j)/tau)},
     * {@code P[i, i] = 0}.
     *
     * @param z   {@code m x d} features, {@code m >= 2}, no zero rows
     * @param tau temperature {@code > 0}
     * @return {@code m x m} membership in {@code z}'s data type
     */
    public static INDArray instance(INDArray z, double tau) {
        double[] cos = cosines(z, tau);
        int m = (int) z.rows();
        double[] p = new double[m * m];
        for (int i = 0; i < m; i++) {
            softmaxRowExcludingDiagonal(cos, p, i, m, tau);
        }
        return Checks.create(p, m, m, z.dataType());
    }

    /**
     * Top-k sparsified instance membership: row {@code i} keeps its {@code k} nearest neighbours
     * {@code N_k(i)} (largest cosine, ties to the smaller index) with
     * {@code P[i, j] = exp(cos(z_i, z_j)/tau) / sum_{l in N_k(i)} exp(cos(z_i, z_l)/tau)}.
     *
     * @param z   {@code m x d} features, {@code m >= 2}, no zero rows
     * @param tau temperature {@code > 0}
     * @param k   neighbours per row, {@code 1 <= k <= m - 1}
     * @return the {@code m x m} membership by columns
     */
    public static SparseMembership instanceTopK(INDArray z, double tau, int k) {
        double[] cos = cosines(z, tau);
        return topKFromCosines(cos, (int) z.rows(), tau, k);
    }

    /**
     * {@link #instanceTopK} from the {@code m x m} cosine matrix (row-major; read-only); rows are processed in
     * parallel (each row's neighbours and weights are independent), columns assembled in row order.
     */
    static SparseMembership topKFromCosines(double[] cos, int m, double tau, int k) {
        Checks.positive("tau", tau);
        Checks.neighbours(k, m);
        int[][] nbr = new int[m][];
        double[][] nw = new double[m][];
        java.util.stream.IntStream.range(0, m).parallel().forEach(i -> {
            int[] idx = topK(cos, i, m, k);
            double mx = Double.NEGATIVE_INFINITY;
            for (int j : idx) {
                mx = Math.max(mx, cos[i * m + j]);
            }
            double[] w = new double[k];
            double s = 0;
            for (int t = 0; t < k; t++) {
                w[t] = Math.exp((cos[i * m + idx[t]] - mx) / tau);
                s += w[t];
            }
            for (int t = 0; t < k; t++) {
                w[t] /= s;
            }
            nbr[i] = idx;
            nw[i] = w;
        });
        int[] colCount = new int[m];
        for (int i = 0; i < m; i++) {
            for (int j : nbr[i]) {
                colCount[j]++;
            }
        }
        int[][] sup = new int[m][];
        double[][] wts = new double[m][];
        for (int j = 0; j < m; j++) {
            sup[j] = new int[colCount[j]];
            wts[j] = new double[colCount[j]];
        }
        int[] fill = new int[m];
        for (int i = 0; i < m; i++) { // rows in increasing order keep each column's support sorted
            for (int t = 0; t < k; t++) {
                int j = nbr[i][t];
                sup[j][fill[j]] = i;
                wts[j][fill[j]++] = nw[i][t];
            }
        }
        return new SparseMembership(m, m, sup, wts);
    }

    /**
     * Back-propagates a gradient {@code G = dL/dP} ({@code m x m}) through the dense instance
     * membership to {@code dL/dZ}. With {@code n_i = z_i/|z_i|}, {@code C = N N^T}:
     * <pre>
     *   dL/dS[i, j] = P[i, j] (G[i, j] - sum_l P[i, l] G[i, l])  (j != i; 0 on the diagonal),  S = C / tau
     *   dL/dN       = (dL/dC + dL/dC^T) N,                       dL/dC = dL/dS / tau
     *   dL/dz_i     = (dL/dn_i - (dL/dn_i . n_i) n_i) / |z_i|
     * </pre>
     *
     * @param z   {@code m x d} features
     * @param tau temperature
     * @param p   {@link #instance}{@code (z, tau)}
     * @param g   {@code dL/dP}, {@code m x m}
     * @return {@code dL/dZ}, {@code m x d} in {@code z}'s data type
     */
    public static INDArray instanceBackward(INDArray z, double tau, INDArray p, INDArray g) {
        Checks.matrix("Z", z);
        Checks.positive("tau", tau);
        int m = (int) z.rows();
        int d = (int) z.columns();
        Checks.matrix("P", p);
        Checks.matrix("dL/dP", g);
        if (p.rows() != m || p.columns() != m || g.rows() != m || g.columns() != m) {
            throw new IllegalArgumentException("P, dL/dP: expected " + m + " x " + m + " matrices");
        }
        double[] zv = Checks.finiteDoubles("Z", z);
        double[] pv = Checks.finiteDoubles("P", p);
        double[] gv = Checks.finiteDoubles("dL/dP", g);
        double[] norm = new double[m];
        double[] n = normalise(zv, m, d, norm);
        double[] gc = new double[m * m];
        for (int i = 0; i < m; i++) {
            double dotPG = 0;
            for (int j = 0; j < m; j++) {
                dotPG += pv[i * m + j] * gv[i * m + j];
            }
            for (int j = 0; j < m; j++) {
                gc[i * m + j] = j == i ? 0 : pv[i * m + j] * (gv[i * m + j] - dotPG) / tau;
            }
        }
        double[] out = new double[m * d];
        for (int i = 0; i < m; i++) {
            double[] dn = new double[d];
            for (int j = 0; j < m; j++) {
                double a = gc[i * m + j] + gc[j * m + i];
                if (a != 0) {
                    for (int c = 0; c < d; c++) {
                        dn[c] += a * n[j * d + c];
                    }
                }
            }
            double proj = 0;
            for (int c = 0; c < d; c++) {
                proj += dn[c] * n[i * d + c];
            }
            for (int c = 0; c < d; c++) {
                out[i * d + c] = (dn[c] - proj * n[i * d + c]) / norm[i];
            }
        }
        return Checks.create(out, m, d, z.dataType());
    }

    /** Row-normalised copy of {@code z}; rejects zero rows (their cosine is undefined). */
    static double[] normalise(double[] z, int m, int d, double[] normOut) {
        double[] n = new double[m * d];
        for (int i = 0; i < m; i++) {
            double s = 0;
            for (int c = 0; c < d; c++) {
                s += z[i * d + c] * z[i * d + c];
            }
            double r = Math.sqrt(s);
            if (!(r > 0)) {
                throw new IllegalArgumentException("Z: expected non-zero rows for cosine similarity, row " + i + " is zero");
            }
            normOut[i] = r;
            for (int c = 0; c < d; c++) {
                n[i * d + c] = z[i * d + c] / r;
            }
        }
        return n;
    }

    /** m x m cosine matrix, row-major double; the O(m^2 d) product runs in ND4J in z's data type. */
    private static double[] cosines(INDArray z, double tau) {
        Checks.instanceInput(z, tau);
        int m = (int) z.rows();
        int d = (int) z.columns();
        double[] zv = Checks.finiteDoubles("Z", z);
        double[] n = normalise(zv, m, d, new double[m]);
        double[] nt = new double[d * m]; // both GEMM operands c-ordered (faster than a transposed view)
        for (int i = 0; i < m; i++) {
            for (int c = 0; c < d; c++) {
                nt[c * m + i] = n[i * d + c];
            }
        }
        INDArray nn = Checks.create(n, m, d, z.dataType());
        INDArray c = nn.mmul(Checks.create(nt, d, m, z.dataType()));
        return Checks.toDoubles(c);
    }

    private static void softmaxRowExcludingDiagonal(double[] cos, double[] p, int i, int m, double tau) {
        double mx = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < m; j++) {
            if (j != i) {
                mx = Math.max(mx, cos[i * m + j]);
            }
        }
        double s = 0;
        for (int j = 0; j < m; j++) {
            double e = j == i ? 0 : Math.exp((cos[i * m + j] - mx) / tau);
            p[i * m + j] = e;
            s += e;
        }
        for (int j = 0; j < m; j++) {
            p[i * m + j] /= s;
        }
    }

    /** Indices of the k largest cos[i, j], j != i, ties to the smaller index; returned in decreasing order. */
    private static int[] topK(double[] cos, int i, int m, int k) {
        int[] idx = new int[k];
        double[] val = new double[k];
        int n = 0;
        for (int j = 0; j < m; j++) {
            if (j == i) {
                continue;
            }
            double v = cos[i * m + j];
            if (n == k && !(v > val[k - 1])) {
                continue; // not strictly better than the current k-th: earlier index wins the tie
            }
            int pos = n < k ? n++ : k - 1;
            while (pos > 0 && v > val[pos - 1]) { // insertion keeps the list sorted, stable for ties
                val[pos] = val[pos - 1];
                idx[pos] = idx[pos - 1];
                pos--;
            }
            val[pos] = v;
            idx[pos] = j;
        }
        return idx;
    }
}
