package org.umm4j.eval;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.SplittableRandom;

/**
 * Linear probe: a softmax classifier trained on frozen features, the standard SSL evaluation.
 *
 * <p>Protocol (as in the UMM paper and solo-learn): features standardised with the training set's
 * per-dimension mean and standard deviation, logits {@code X W + b}, cross-entropy, mini-batch SGD with
 * momentum 0.9 (heavy-ball, {@code v = mu v + g + wd w; w -= lr v}), learning rate decayed by a cosine schedule
 * over all steps to zero, batch 256, optional L2 weight decay on W. The paper trains 500 epochs; the default
 * here is 100 so that the probe finishes quickly on a CPU. Runs in double precision on plain arrays
 * (a [d, classes] weight matrix is small; ND4J's per-op overhead would dominate). Seeded: the same seed and
 * inputs give the same accuracy.
 *
 * @param epochs      passes over the training features
 * @param batchSize   mini-batch size
 * @param lr          initial learning rate
 * @param momentum    heavy-ball momentum
 * @param weightDecay L2 coefficient on W
 * @param seed        shuffling seed
 */
public record LinearProbe(int epochs, int batchSize, double lr, double momentum, double weightDecay, long seed) {
    /** Validates every field; the error names it. */
    public LinearProbe {
        if (epochs <= 0) {
            throw new IllegalArgumentException("epochs must be positive, got " + epochs);
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
        }
        if (!(lr > 0)) {
            throw new IllegalArgumentException("lr must be positive, got " + lr);
        }
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        }
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("weightDecay must be >= 0, got " + weightDecay);
        }
    }

    /** @return 100 epochs, batch 256, lr 0.1, momentum 0.9, no weight decay */
    public static LinearProbe defaults(long seed) {
        return new LinearProbe(100, 256, 0.1, 0.9, 0.0, seed);
    }

    /** @return a copy with another number of epochs */
    public LinearProbe withEpochs(int e) {
        return new LinearProbe(e, batchSize, lr, momentum, weightDecay, seed);
    }

    /**
     * Trains on {@code train} and reports accuracy on {@code test}.
     *
     * @return top-1/top-5 test accuracy
     */
    public Accuracy evaluate(INDArray train, int[] trainLabels, INDArray test, int[] testLabels, int numClasses) {
        Features.checkMatrix("train", train);
        Features.checkMatrix("test", test);
        Features.checkLabels("trainLabels", trainLabels, train.rows(), numClasses);
        Features.checkLabels("testLabels", testLabels, test.rows(), numClasses);
        if (train.columns() != test.columns()) {
            throw new IllegalArgumentException("train has " + train.columns() + " feature columns but test has "
                    + test.columns());
        }
        int n = (int) train.rows();
        int d = (int) train.columns();
        double[] x = flat(train);
        double[] xt = flat(test);
        standardise(x, xt, n, d);

        int c = numClasses;
        double[] w = new double[d * c];
        double[] b = new double[c];
        double[] vw = new double[d * c];
        double[] vb = new double[c];
        double[] gw = new double[d * c];
        double[] gb = new double[c];
        double[] p = new double[c];
        int stepsPerEpoch = (n + batchSize - 1) / batchSize;
        long total = (long) epochs * stepsPerEpoch;
        long step = 0;
        SplittableRandom rng = new SplittableRandom(seed);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int e = 0; e < epochs; e++) {
            for (int i = n - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            for (int s = 0; s < stepsPerEpoch; s++, step++) {
                int from = s * batchSize;
                int to = Math.min(n, from + batchSize);
                java.util.Arrays.fill(gw, 0);
                java.util.Arrays.fill(gb, 0);
                double inv = 1.0 / (to - from);
                for (int r = from; r < to; r++) {
                    int row = order[r];
                    int off = row * d;
                    softmaxRow(x, off, d, w, b, c, p);
                    p[trainLabels[row]] -= 1.0;
                    for (int k = 0; k < c; k++) {
                        double g = p[k] * inv;
                        gb[k] += g;
                    }
                    for (int j = 0; j < d; j++) {
                        double xj = x[off + j] * inv;
                        int wo = j * c;
                        for (int k = 0; k < c; k++) {
                            gw[wo + k] += xj * p[k];
                        }
                    }
                }
                double lrNow = 0.5 * lr * (1 + Math.cos(Math.PI * step / total));
                for (int i = 0; i < gw.length; i++) {
                    vw[i] = momentum * vw[i] + gw[i] + weightDecay * w[i];
                    w[i] -= lrNow * vw[i];
                }
                for (int k = 0; k < c; k++) {
                    vb[k] = momentum * vb[k] + gb[k];
                    b[k] -= lrNow * vb[k];
                }
            }
        }
        int m = (int) test.rows();
        double[][] scores = new double[m][c];
        for (int i = 0; i < m; i++) {
            logitsRow(xt, i * d, d, w, b, c, scores[i]);
        }
        return Accuracy.fromScores(scores, testLabels);
    }

    private static double[] flat(INDArray a) {
        return a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
    }

    /** Standardises train and test with the training mean and (biased) standard deviation. */
    private static void standardise(double[] x, double[] xt, int n, int d) {
        for (int j = 0; j < d; j++) {
            double mean = 0;
            for (int i = 0; i < n; i++) {
                mean += x[i * d + j];
            }
            mean /= n;
            double var = 0;
            for (int i = 0; i < n; i++) {
                double v = x[i * d + j] - mean;
                var += v * v;
            }
            double sd = Math.sqrt(var / n) + 1e-8;
            for (int i = 0; i < n; i++) {
                x[i * d + j] = (x[i * d + j] - mean) / sd;
            }
            for (int i = j; i < xt.length; i += d) {
                xt[i] = (xt[i] - mean) / sd;
            }
        }
    }

    private static void logitsRow(double[] x, int off, int d, double[] w, double[] b, int c, double[] out) {
        System.arraycopy(b, 0, out, 0, c);
        for (int j = 0; j < d; j++) {
            double xj = x[off + j];
            int wo = j * c;
            for (int k = 0; k < c; k++) {
                out[k] += xj * w[wo + k];
            }
        }
    }

    private static void softmaxRow(double[] x, int off, int d, double[] w, double[] b, int c, double[] p) {
        logitsRow(x, off, d, w, b, c, p);
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < c; k++) {
            max = Math.max(max, p[k]);
        }
        double sum = 0;
        for (int k = 0; k < c; k++) {
            p[k] = Math.exp(p[k] - max);
            sum += p[k];
        }
        for (int k = 0; k < c; k++) {
            p[k] /= sum;
        }
    }
}
