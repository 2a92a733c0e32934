package org.umm4j.eval;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

class EvalTest {

    /** Gaussian blobs: class c centred at 3 e_c (plus noise) in d dimensions. */
    private static INDArray blobs(int n, int d, int classes, int[] labels, long seed, double noise) {
        Random r = new Random(seed);
        double[][] x = new double[n][d];
        for (int i = 0; i < n; i++) {
            labels[i] = i % classes;
            for (int j = 0; j < d; j++) {
                x[i][j] = noise * r.nextGaussian() + (j == labels[i] ? 3.0 : 0.0);
            }
        }
        return Nd4j.create(x);
    }

    @Test
    void accuracyFromScoresCountsTop1AndTop5() {
        double[][] s = {
                {0.9, 0.1, 0, 0, 0, 0, 0},   // label 0: top-1
                {0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.6}, // label 4: rank 5 (0-based 4) -> top-5 only
                {0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.6}, // label 5: rank 6 -> neither
        };
        Accuracy a = Accuracy.fromScores(s, new int[]{0, 3, 5});
        assertEquals(1.0 / 3, a.top1(), 1e-15);
        assertEquals(2.0 / 3, a.top5(), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> Accuracy.fromScores(s, new int[]{0, 1}));
        assertThrows(IllegalArgumentException.class, () -> Accuracy.fromScores(s, new int[]{0, 1, 7}));
    }

    /** Independent brute-force k-NN: full sort of cosine similarities. */
    private static int[] bruteNeighbours(double[] q, double[][] train, int k) {
        double qn = Math.sqrt(Arrays.stream(q).map(v -> v * v).sum());
        double[] sim = new double[train.length];
        for (int i = 0; i < train.length; i++) {
            double dot = 0;
            double tn = 0;
            for (int j = 0; j < q.length; j++) {
                dot += q[j] * train[i][j];
                tn += train[i][j] * train[i][j];
            }
            sim[i] = dot / (qn * Math.sqrt(tn));
        }
        return IntStream.range(0, train.length).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> -sim[i])).limit(k).mapToInt(i -> i).toArray();
    }

    @Test
    void knnMajorityMatchesBruteForceVote() {
        int[] ytr = new int[60];
        int[] yte = new int[25];
        INDArray tr = blobs(60, 6, 4, ytr, 1, 1.5);
        INDArray te = blobs(25, 6, 4, yte, 2, 1.5);
        double[][] trm = tr.toDoubleMatrix();
        double[][] tem = te.toDoubleMatrix();
        double[][] scores = KnnClassifier.majority(5).scores(tr, ytr, te, 4);
        for (int i = 0; i < tem.length; i++) {
            int[] votes = new int[4];
            for (int j : bruteNeighbours(tem[i], trm, 5)) {
                votes[ytr[j]]++;
            }
            for (int c = 0; c < 4; c++) {
                // score = votes + a tie-breaker below 1
                assertEquals(votes[c], Math.floor(scores[i][c] + 1e-12), 1e-9, "query " + i + " class " + c);
            }
        }
    }

    @Test
    void knnWeightedMatchesIndependentFormula() {
        int[] ytr = new int[40];
        int[] yte = new int[10];
        INDArray tr = blobs(40, 5, 3, ytr, 3, 1.0);
        INDArray te = blobs(10, 5, 3, yte, 4, 1.0);
        double[][] trm = tr.toDoubleMatrix();
        double[][] tem = te.toDoubleMatrix();
        double[][] scores = KnnClassifier.weighted(7, 0.1).scores(tr, ytr, te, 3);
        for (int i = 0; i < tem.length; i++) {
            double[] want = new double[3];
            double qn = Math.sqrt(Arrays.stream(tem[i]).map(v -> v * v).sum());
            for (int j : bruteNeighbours(tem[i], trm, 7)) {
                double dot = 0;
                double tn = 0;
                for (int c = 0; c < 5; c++) {
                    dot += tem[i][c] * trm[j][c];
                    tn += trm[j][c] * trm[j][c];
                }
                want[ytr[j]] += Math.exp(dot / (qn * Math.sqrt(tn)) / 0.1);
            }
            assertArrayEquals(want, scores[i], 1e-9 * Arrays.stream(want).max().getAsDouble());
        }
    }

    @Test
    void knnSeparatesEasyClustersAndRejectsBadInput() {
        int[] ytr = new int[80];
        int[] yte = new int[40];
        INDArray tr = blobs(80, 8, 4, ytr, 5, 0.3);
        INDArray te = blobs(40, 8, 4, yte, 6, 0.3);
        assertEquals(1.0, KnnClassifier.paperDefault().evaluate(tr, ytr, te, yte, 4).top1(), 1e-12);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KnnClassifier.majority(5).evaluate(tr, ytr, te.getColumns(0, 1), yte, 4));
        assertTrue(e.getMessage().contains("columns"));
        INDArray bad = tr.dup();
        bad.putScalar(3, 2, Double.NaN);
        assertThrows(IllegalArgumentException.class, () -> KnnClassifier.majority(5).evaluate(bad, ytr, te, yte, 4));
        assertThrows(IllegalArgumentException.class, () -> KnnClassifier.majority(0));
    }

    @Test
    void linearProbeLearnsSeparableClassesDeterministically() {
        int[] ytr = new int[200];
        int[] yte = new int[100];
        INDArray tr = blobs(200, 10, 5, ytr, 7, 0.8);
        INDArray te = blobs(100, 10, 5, yte, 8, 0.8);
        LinearProbe probe = new LinearProbe(30, 64, 0.1, 0.9, 0.0, 42);
        Accuracy a = probe.evaluate(tr, ytr, te, yte, 5);
        assertTrue(a.top1() > 0.9, "top-1 " + a.top1());
        assertEquals(1.0, a.top5(), 1e-12);
        assertEquals(a, probe.evaluate(tr, ytr, te, yte, 5));
        // chance level on shuffled labels: the probe cannot invent signal on the test set
        int[] shuffled = ytr.clone();
        Random r = new Random(1);
        for (int i = shuffled.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = shuffled[i];
            shuffled[i] = shuffled[j];
            shuffled[j] = t;
        }
        assertTrue(probe.evaluate(tr, shuffled, te, yte, 5).top1() < 0.5);
    }

    @Test
    void linearProbeValidatesConfigAndInput() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LinearProbe(10, 256, -1, 0.9, 0, 1));
        assertTrue(e.getMessage().startsWith("lr"));
        int[] y = new int[4];
        INDArray x = Nd4j.rand(DataType.DOUBLE, 4, 3);
        IllegalArgumentException l = assertThrows(IllegalArgumentException.class,
                () -> LinearProbe.defaults(1).evaluate(x, new int[]{0, 1, 2, 9}, x, y, 3));
        assertTrue(l.getMessage().contains("trainLabels[3]"));
    }

    @Test
    void pearsonMatchesNumpy() {
        // numpy.corrcoef([1,2,3,4,5],[2,4,5,4,5])[0,1]
        assertEquals(0.7745966692414834, Pearson.correlation(new double[]{1, 2, 3, 4, 5},
                new double[]{2, 4, 5, 4, 5}), 1e-14);
        assertEquals(-1.0, Pearson.correlation(new double[]{1, 2, 3}, new double[]{3, 2, 1}), 1e-15);
        assertTrue(Double.isNaN(Pearson.correlation(new double[]{1, 1}, new double[]{1, 2})));
        assertThrows(IllegalArgumentException.class, () -> Pearson.correlation(new double[]{1}, new double[]{1}));
    }
}
