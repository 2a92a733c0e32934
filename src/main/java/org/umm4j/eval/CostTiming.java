package org.umm4j.eval;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.umm4j.crr.CodingRate;

import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Wall-clock cost of the three evaluation signals on the same features (the UMM paper's Table 9, arXiv
 * 2410.00772: on CIFAR-10, CRR 4.03 s, k-NN 13.63 s, linear probe 92.76 s):
 * <ul>
 *   <li>CRR: {@code dR} of the {@code n} training features under the dense instance membership, and under its top-k
 *       sparsification ({@link FeatureRates}; includes building the membership);</li>
 *   <li>k-NN: 5-NN majority vote of every test feature against all {@code n} training features (the paper's
 *       protocol; {@link KnnClassifier});</li>
 *   <li>linear probe: {@link LinearProbe} trained on the training features for {@code probeEpochs} epochs and scored
 *       on the test features.</li>
 * </ul>
 * Each is run {@code repeats} times after {@code warmups} untimed runs and the median is reported (the steady cost,
 * as in a long-lived evaluation JVM), together with the first run's seconds (the cost in a fresh JVM, JIT compilation
 * included). Default warm-up 10: on 2 cores the JIT needs about that many top-k dR runs at 1000 x 512 to compile the
 * CRR code (measured run by run: 390, 150-200, 100-150 ms for runs 2-10, 55-80 ms from about run 15), while the
 * compiler threads compete with the measured code for the cores. Nothing is slowed down or sped up for the comparison:
 * each method runs as it would in an evaluation, and all three get the same warm-up.
 *
 * @param crrDenseSeconds median seconds of dense instance dR
 * @param crrTopKSeconds  median seconds of top-k instance dR
 * @param knnSeconds      median seconds of 5-NN over the test set
 * @param probeSeconds    median seconds of the linear probe
 * @param crrDense        dR value (dense), to show the work was done
 * @param crrTopK         dR value (top-k)
 * @param knnTop1         k-NN top-1 accuracy
 * @param probeTop1       probe top-1 accuracy
 * @param firstRun        seconds of each method's first run in this JVM (same components, values NaN)
 */
public record CostTiming(double crrDenseSeconds, double crrTopKSeconds, double knnSeconds, double probeSeconds,
                         double crrDense, double crrTopK, double knnTop1, double probeTop1, FirstRun firstRun) {

    /**
     * Seconds of each method's first run (the first warm-up, or the first timed run without warm-up).
     *
     * @param crrDenseSeconds dense CRR (NaN when not timed)
     * @param crrTopKSeconds  top-k CRR
     * @param knnSeconds      k-NN
     * @param probeSeconds    linear probe
     */
    public record FirstRun(double crrDenseSeconds, double crrTopKSeconds, double knnSeconds, double probeSeconds) {
    }

    /**
     * Times the three signals.
     *
     * @param train       [n, d] training features
     * @param trainLabels n labels
     * @param test        [nTest, d] test features
     * @param testLabels  nTest labels
     * @param numClasses  classes
     * @param probeEpochs linear-probe epochs (the paper: 100 in this comparison's default, 500 for its accuracies)
     * @param topK        neighbours per row of the sparse membership
     * @param repeats     timed repetitions, &gt;= 1
     * @param seed        probe seed
     * @param dense       whether to time the dense membership too ({@code O(m d^2)} Grams for each of m classes:
     *                    minutes at m = 1000, d = 512); when false its fields are NaN
     */
    public static CostTiming measure(INDArray train, int[] trainLabels, INDArray test, int[] testLabels,
                                     int numClasses, int probeEpochs, int topK, int repeats, long seed,
                                     boolean dense) {
        return measure(train, trainLabels, test, testLabels, numClasses, probeEpochs, topK, repeats, seed, dense, 0);
    }

    /**
     * As {@link #measure(INDArray, int[], INDArray, int[], int, int, int, int, long, boolean)}, with CRR on a seeded
     * subset of {@code crrSubset} training rows (the monitor's setting: a fixed subset, while k-NN and the probe use
     * the whole training set, as in the paper's protocol); {@code crrSubset <= 0} or {@code >= n} uses all rows.
     */
    public static CostTiming measure(INDArray train, int[] trainLabels, INDArray test, int[] testLabels,
                                     int numClasses, int probeEpochs, int topK, int repeats, long seed,
                                     boolean dense, int crrSubset) {
        return measure(train, trainLabels, test, testLabels, numClasses, probeEpochs, topK, repeats, seed, dense,
                crrSubset, DEFAULT_WARMUPS);
    }

    /** Untimed runs of each method before the timed ones (see the class comment). */
    public static final int DEFAULT_WARMUPS = 10;

    /** As above, with {@code warmups >= 0} untimed runs of each method before the timed ones. */
    public static CostTiming measure(INDArray train, int[] trainLabels, INDArray test, int[] testLabels,
                                     int numClasses, int probeEpochs, int topK, int repeats, long seed,
                                     boolean dense, int crrSubset, int warmups) {
        Objects.requireNonNull(train, "train");
        if (warmups < 0) {
            throw new IllegalArgumentException("warmups must be >= 0, got " + warmups);
        }
        INDArray crrRows = crrSubset <= 0 || crrSubset >= train.rows() ? train
                : train.getRows(FeatureRates.subset((int) train.rows(), crrSubset, seed));
        if (repeats < 1) {
            throw new IllegalArgumentException("repeats must be >= 1, got " + repeats);
        }
        CodingRate cr = CodingRate.withDefaults();
        double tau = FeatureRates.DEFAULT_TAU;
        double[] crrDense = new double[1];
        double[] crrTopK = new double[1];
        double[] knn = new double[1];
        double[] probe = new double[1];
        crrDense[0] = Double.NaN;
        double[] tDense = dense ? time(warmups, repeats,
                () -> crrDense[0] = FeatureRates.instanceRateReduction(cr, crrRows, tau)) : new double[]{Double.NaN, Double.NaN};
        double[] tTopK = time(warmups, repeats, () -> crrTopK[0] = FeatureRates.instanceRateReductionTopK(cr, crrRows, tau, topK));
        double[] tKnn = time(warmups, repeats, () -> knn[0] = KnnClassifier.majority(5)
                .evaluate(train, trainLabels, test, testLabels, numClasses).top1());
        LinearProbe lp = LinearProbe.defaults(seed).withEpochs(probeEpochs);
        double[] tProbe = time(warmups, repeats, () -> probe[0] = lp.evaluate(train, trainLabels, test, testLabels, numClasses)
                .top1());
        return new CostTiming(tDense[0], tTopK[0], tKnn[0], tProbe[0], crrDense[0], crrTopK[0], knn[0], probe[0],
                new FirstRun(tDense[1], tTopK[1], tKnn[1], tProbe[1]));
    }

    /** @return {median seconds of the timed runs, seconds of the very first run} */
    private static double[] time(int warmups, int repeats, Runnable r) {
        double first = Double.NaN;
        for (int i = 0; i < warmups; i++) {
            long t0 = System.nanoTime();
            r.run();
            if (i == 0) {
                first = (System.nanoTime() - t0) / 1e9;
            }
        }
        double[] t = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        if (warmups == 0) {
            first = t[0];
        }
        java.util.Arrays.sort(t);
        return new double[]{t[repeats / 2], first};
    }

    /**
     * Random class-structured features for timing without a model: class means drawn from N(0, 1), each sample its
     * class mean plus N(0, noise^2) noise, labels balanced (i mod classes).
     *
     * @return {@code [n, dim]} FLOAT features; labels written into {@code labelsOut} (length n)
     */
    public static INDArray randomFeatures(int n, int dim, int classes, double noise, long seed, int[] labelsOut) {
        if (n <= 0 || dim <= 0 || classes <= 0 || labelsOut.length != n) {
            throw new IllegalArgumentException("need n, dim, classes > 0 and labelsOut of length n; got n=" + n
                    + ", dim=" + dim + ", classes=" + classes + ", labelsOut=" + labelsOut.length);
        }
        SplittableRandom rng = new SplittableRandom(seed);
        double[][] means = new double[classes][dim];
        for (double[] m : means) {
            for (int j = 0; j < dim; j++) {
                m[j] = gaussian(rng);
            }
        }
        float[] x = new float[n * dim];
        for (int i = 0; i < n; i++) {
            int y = i % classes;
            labelsOut[i] = y;
            for (int j = 0; j < dim; j++) {
                x[i * dim + j] = (float) (means[y][j] + noise * gaussian(rng));
            }
        }
        return Nd4j.create(x, new long[]{n, dim}, 'c');
    }

    private static double gaussian(SplittableRandom rng) {
        double u = 1 - rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextDouble());
    }

    /** @return probe seconds / dense CRR seconds */
    public double probeOverCrrDense() {
        return probeSeconds / crrDenseSeconds;
    }

    /** @return k-NN seconds / dense CRR seconds */
    public double knnOverCrrDense() {
        return knnSeconds / crrDenseSeconds;
    }

    /** @return probe seconds / top-k CRR seconds */
    public double probeOverCrrTopK() {
        return probeSeconds / crrTopKSeconds;
    }

    /** @return k-NN seconds / top-k CRR seconds */
    public double knnOverCrrTopK() {
        return knnSeconds / crrTopKSeconds;
    }

    /** @return first-run probe seconds / first-run top-k CRR seconds (fresh-JVM cost, JIT compilation included) */
    public double firstRunProbeOverCrrTopK() {
        return firstRun.probeSeconds() / firstRun.crrTopKSeconds();
    }

    /** @return first-run k-NN seconds / first-run top-k CRR seconds */
    public double firstRunKnnOverCrrTopK() {
        return firstRun.knnSeconds() / firstRun.crrTopKSeconds();
    }
}
