package org.umm4j.data;

import java.util.List;

/**
 * A finite, indexable set of same-sized images with optional integer labels.
 *
 * <p>Pixels are unsigned bytes (0..255) in channel-major (CHW) order: image {@code i} occupies
 * {@code channels * height * width} bytes, channel 0 first, rows top to bottom. This is the layout of
 * the CIFAR binary files and of ND4J's NCHW tensors, so no transposition is needed downstream.
 * Unlabelled images (e.g. STL-10's unlabelled split) report label {@value #UNLABELLED}.
 */
public interface ImageDataset {
    /** Label of an image that has none. */
    int UNLABELLED = -1;

    /** @return a short human-readable name, e.g. {@code cifar10-train} */
    String name();

    /** @return the number of images */
    int size();

    /** @return channels per image (1 or 3) */
    int channels();

    /** @return image height in pixels */
    int height();

    /** @return image width in pixels */
    int width();

    /** @return class names in label order; empty when the dataset has no labels */
    List<String> classNames();

    /** @return the number of classes ({@code classNames().size()}) */
    default int numClasses() {
        return classNames().size();
    }

    /** @return the label of image {@code index}, or {@link #UNLABELLED} */
    int label(int index);

    /**
     * Copies image {@code index} into {@code dst} starting at {@code offset} ({@link #imageBytes()} bytes, CHW).
     */
    void copyImage(int index, byte[] dst, int offset);

    /** @return bytes per image, {@code channels * height * width} */
    default int imageBytes() {
        return channels() * height() * width();
    }

    /** @return a fresh copy of image {@code index} (CHW, unsigned bytes) */
    default byte[] image(int index) {
        byte[] out = new byte[imageBytes()];
        copyImage(index, out, 0);
        return out;
    }
}
