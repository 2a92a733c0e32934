package org.umm4j.data.augment;

import java.util.List;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One batch of augmented views.
 *
 * @param batchIndex position of this batch in the epoch (0-based)
 * @param views      one FLOAT array per view, NCHW {@code [n, channels, viewHeight, viewWidth]}; row {@code i} of
 *                   every view comes from sample {@code indices[i]}
 * @param labels     the dataset labels of the samples ({@link org.umm4j.data.ImageDataset#UNLABELLED} allowed),
 *                   length n
 * @param indices    the dataset indices of the samples, length n
 */
public record MultiViewBatch(int batchIndex, List<INDArray> views, int[] labels, int[] indices) {

    /** Validates lengths. */
    public MultiViewBatch {
        Objects.requireNonNull(views, "views");
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(indices, "indices");
        views = List.copyOf(views);
        if (labels.length != indices.length) {
            throw new IllegalArgumentException("labels (" + labels.length + ") and indices (" + indices.length
                    + ") must have the same length");
        }
        for (int v = 0; v < views.size(); v++) {
            if (views.get(v).size(0) != indices.length) {
                throw new IllegalArgumentException("views[" + v + "] has " + views.get(v).size(0)
                        + " rows, expected " + indices.length);
            }
        }
    }

    /** @return the number of samples n */
    public int size() {
        return indices.length;
    }

    /** @return the number of views */
    public int numViews() {
        return views.size();
    }

    /** @return the NCHW array of view {@code v} */
    public INDArray view(int v) {
        return views.get(v);
    }
}
