package org.umm4j.data;

import java.util.List;
import java.util.Objects;

/**
 * A view of chosen images of another dataset, in the given index order (no pixels copied).
 *
 * @param name    the subset's name
 * @param base    the underlying dataset
 * @param indices indices into {@code base}, each in {@code [0, base.size())}; duplicates allowed
 */
public record Subset(String name, ImageDataset base, int[] indices) implements ImageDataset {
    /** Validates indices; the error names the offending position. */
    public Subset {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(base, "base");
        indices = Objects.requireNonNull(indices, "indices").clone();
        for (int i = 0; i < indices.length; i++) {
            if (indices[i] < 0 || indices[i] >= base.size()) {
                throw new IllegalArgumentException("indices[" + i + "] = " + indices[i] + " is outside [0, "
                        + base.size() + ") of dataset " + base.name());
            }
        }
    }

    /** @return a copy of the indices into {@link #base()} */
    @Override
    public int[] indices() {
        return indices.clone();
    }

    /** @return the index into {@link #base()} of image {@code index} of this subset */
    public int baseIndex(int index) {
        return indices[Objects.checkIndex(index, indices.length)];
    }

    @Override
    public int size() {
        return indices.length;
    }

    @Override
    public int channels() {
        return base.channels();
    }

    @Override
    public int height() {
        return base.height();
    }

    @Override
    public int width() {
        return base.width();
    }

    @Override
    public List<String> classNames() {
        return base.classNames();
    }

    @Override
    public int label(int index) {
        return base.label(baseIndex(index));
    }

    @Override
    public void copyImage(int index, byte[] dst, int offset) {
        base.copyImage(baseIndex(index), dst, offset);
    }
}
