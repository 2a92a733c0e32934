package org.umm4j.eval;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.umm4j.crr.CodingRate;
import org.umm4j.crr.Memberships;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Rate reduction of frozen features as an evaluation signal (UMM paper, arXiv 2410.00772; MCR^2, Yu et al. 2020).
 *
 * <p>Convention: rows are L2-normalised to the unit sphere first (MCR^2 normalises its features, and without it dR
 * scales with the feature norm, which drifts over training and differs between layers, so curves of different
 * checkpoints and taps would not be comparable), then {@code dR = R(Z) - Rc(Z|P)} with {@link CodingRate} in
 * FLOAT (GEMMs in float, factorisations in double), eps 0.5. Two memberships:
 * <ul>
 *   <li>label: {@code P} one-hot from the labels ({@link Memberships#fromLabels}),</li>
 *   <li>instance (label-free): {@code P[i, j] = softmax_{j != i}(cos(z_i, z_j) / tau)}, tau 0.5
 *       ({@link Memberships#instance}), or its top-k sparsification ({@link Memberships#instanceTopK}).</li>
 * </ul>
 */
public final class FeatureRates {
    /** Default temperature of the instance membership. */
    public static final double DEFAULT_TAU = 0.5;

    private FeatureRates() {
    }

    /** @return a FLOAT copy of {@code z} with unit-norm rows (a zero row stays zero) */
    public static INDArray l2Rows(INDArray z) {
        Features.checkMatrix("z", z);
        INDArray f = z.castTo(DataType.FLOAT).dup('c');
        INDArray norms = f.norm2(1).reshape(f.rows(), 1).addi(1e-12);
        return f.diviColumnVector(norms);
    }

    /** dR of L2-normalised {@code z} under the one-hot label membership. */
    public static double labelRateReduction(CodingRate cr, INDArray z, int[] labels, int numClasses) {
        Features.checkLabels("labels", labels, z.rows(), numClasses);
        INDArray zn = l2Rows(z);
        return cr.rateReduction(zn, Memberships.fromLabels(labels, numClasses, DataType.FLOAT));
    }

    /** dR of L2-normalised {@code z} under the dense instance membership with temperature {@code tau}. */
    public static double instanceRateReduction(CodingRate cr, INDArray z, double tau) {
        INDArray zn = l2Rows(z);
        return cr.rateReduction(zn, Memberships.instance(zn, tau));
    }

    /** dR of L2-normalised {@code z} under the top-{@code k} instance membership. */
    public static double instanceRateReductionTopK(CodingRate cr, INDArray z, double tau, int k) {
        Features.checkMatrix("z", z);
        return cr.instanceRateReductionTopK(z.castTo(DataType.FLOAT), tau, k);
    }

    /**
     * A seeded subset of {@code min(m, n)} distinct indices of {@code [0, n)}, sorted (partial Fisher-Yates).
     *
     * @throws IllegalArgumentException if {@code n <= 0} or {@code m <= 0}
     */
    public static int[] subset(int n, int m, long seed) {
        if (n <= 0 || m <= 0) {
            throw new IllegalArgumentException("need n > 0 and m > 0, got n=" + n + ", m=" + m);
        }
        int k = Math.min(n, m);
        int[] all = new int[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
        }
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < k; i++) {
            int j = i + rng.nextInt(n - i);
            int t = all[i];
            all[i] = all[j];
            all[j] = t;
        }
        int[] out = Arrays.copyOf(all, k);
        Arrays.sort(out);
        return out;
    }
}
