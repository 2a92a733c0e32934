package org.umm4j.spark;

import org.umm4j.data.ImageDataset;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One training image as it travels through Spark: its index in the dataset (which, with the run seed and the epoch,
 * fixes its augmentations), its uint8 pixels in CHW order and its label (unused by SSL, kept for evaluation).
 * uint8 keeps the shuffled data 4x smaller than the float views, which are made on the workers.
 *
 * @param index  sample index in the source dataset, &gt;= 0
 * @param pixels uint8 CHW pixels (referenced, not copied)
 * @param label  class label (-1 when unknown)
 */
public record ImageRecord(long index, byte[] pixels, int label) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Validates. */
    public ImageRecord {
        if (index < 0) {
            throw new IllegalArgumentException("index must be >= 0, got " + index);
        }
        Objects.requireNonNull(pixels, "pixels");
        if (pixels.length == 0) {
            throw new IllegalArgumentException("pixels must not be empty (image " + index + ")");
        }
    }

    /** @return every image of {@code dataset} as a record (pixels copied), in index order */
    public static List<ImageRecord> fromDataset(ImageDataset dataset) {
        Objects.requireNonNull(dataset, "dataset");
        int n = dataset.size();
        int bytes = dataset.channels() * dataset.height() * dataset.width();
        List<ImageRecord> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            byte[] px = new byte[bytes];
            dataset.copyImage(i, px, 0);
            out.add(new ImageRecord(i, px, dataset.label(i)));
        }
        return out;
    }
}
