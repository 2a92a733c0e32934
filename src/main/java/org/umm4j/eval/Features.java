package org.umm4j.eval;

import org.nd4j.linalg.api.ndarray.INDArray;

/** Argument checks shared by the feature-based evaluators. */
final class Features {
    private Features() {
    }

    static void checkMatrix(String name, INDArray x) {
        if (x == null || x.rank() != 2 || x.rows() == 0 || x.columns() == 0) {
            throw new IllegalArgumentException(name + " must be a non-empty [n, d] matrix, got "
                    + (x == null ? "null" : java.util.Arrays.toString(x.shape())));
        }
        if (x.isInfinite().any() || x.isNaN().any()) {
            throw new IllegalArgumentException(name + " contains NaN or infinite values");
        }
    }

    static void checkLabels(String name, int[] labels, long rows, int numClasses) {
        if (labels.length != rows) {
            throw new IllegalArgumentException(name + " has " + labels.length + " labels for " + rows + " feature rows");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= numClasses) {
                throw new IllegalArgumentException(name + "[" + i + "] = " + labels[i] + " is outside [0, "
                        + numClasses + ")");
            }
        }
    }
}
