package org.umm4j.data;

import java.util.List;
import java.util.Objects;

/**
 * An {@link ImageDataset} held in one byte array (CHW per image, images back to back).
 *
 * @param name       short name for logs and manifests
 * @param channels   1 or 3
 * @param height     image height
 * @param width      image width
 * @param pixels     {@code size * channels * height * width} unsigned bytes
 * @param labels     one label per image ({@link ImageDataset#UNLABELLED} allowed)
 * @param classNames class names in label order (may be empty for unlabelled data)
 */
public record InMemoryImageDataset(String name, int channels, int height, int width, byte[] pixels, int[] labels,
                                   List<String> classNames) implements ImageDataset {

    /** Validates shapes and labels; each error names the field. */
    public InMemoryImageDataset {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(pixels, "pixels");
        Objects.requireNonNull(labels, "labels");
        classNames = List.copyOf(Objects.requireNonNull(classNames, "classNames"));
        if (channels <= 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException("channels, height and width must be positive, got "
                    + channels + "x" + height + "x" + width + " for dataset " + name);
        }
        long per = (long) channels * height * width;
        if ((long) labels.length * per != pixels.length) {
            throw new IllegalArgumentException("pixels has " + pixels.length + " bytes, expected labels.length ("
                    + labels.length + ") x " + per + " for dataset " + name);
        }
        for (int i = 0; i < labels.length; i++) {
            int l = labels[i];
            if (l != UNLABELLED && (l < 0 || (!classNames.isEmpty() && l >= classNames.size()))) {
                throw new IllegalArgumentException("labels[" + i + "] = " + l + " is outside [0, "
                        + classNames.size() + ") for dataset " + name);
            }
        }
    }

    @Override
    public int size() {
        return labels.length;
    }

    @Override
    public int label(int index) {
        return labels[Objects.checkIndex(index, labels.length)];
    }

    @Override
    public void copyImage(int index, byte[] dst, int offset) {
        int per = imageBytes();
        System.arraycopy(pixels, Objects.checkIndex(index, labels.length) * per, dst, offset, per);
    }
}
