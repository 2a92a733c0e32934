package org.umm4j.eval;

/**
 * Top-1 and top-5 accuracy of a classifier on a labelled set, as fractions in [0, 1].
 *
 * @param top1 fraction of samples whose highest-scoring class is the label
 * @param top5 fraction whose label is among the five highest-scoring classes (1.0 when there are at most
 *             five classes)
 * @param n    number of evaluated samples
 */
public record Accuracy(double top1, double top5, int n) {
    /** Validates ranges. */
    public Accuracy {
        if (n <= 0) {
            throw new IllegalArgumentException("n must be positive, got " + n);
        }
        if (!(top1 >= 0 && top1 <= 1) || !(top5 >= 0 && top5 <= 1) || top5 < top1) {
            throw new IllegalArgumentException("need 0 <= top1 <= top5 <= 1, got top1=" + top1 + " top5=" + top5);
        }
    }

    /**
     * Computes accuracy from per-class scores.
     *
     * @param scores [n][classes] scores, higher is better
     * @param labels n labels in [0, classes)
     */
    public static Accuracy fromScores(double[][] scores, int[] labels) {
        if (scores.length != labels.length || scores.length == 0) {
            throw new IllegalArgumentException("scores has " + scores.length + " rows but labels has " + labels.length);
        }
        int hit1 = 0;
        int hit5 = 0;
        for (int i = 0; i < scores.length; i++) {
            double[] s = scores[i];
            int y = labels[i];
            if (y < 0 || y >= s.length) {
                throw new IllegalArgumentException("labels[" + i + "] = " + y + " is outside [0, " + s.length + ")");
            }
            // rank of the true class: classes scoring strictly higher, ties counted against it
            int higher = 0;
            for (int c = 0; c < s.length; c++) {
                if (c != y && (s[c] > s[y] || (s[c] == s[y] && c < y))) {
                    higher++;
                }
            }
            if (higher == 0) {
                hit1++;
            }
            if (higher < 5) {
                hit5++;
            }
        }
        return new Accuracy((double) hit1 / labels.length, (double) hit5 / labels.length, labels.length);
    }
}
