package org.umm4j.data;

/**
 * Which part of a dataset to read.
 *
 * <p>{@link #UNLABELLED} exists only for datasets that ship unlabelled images (STL-10's 100,000
 * {@code unlabeled_X.bin} images); its images report {@link ImageDataset#UNLABELLED} as label.
 */
public enum Split {
    /** the training images */
    TRAIN,
    /** the held-out test images */
    TEST,
    /** images without labels (STL-10 only) */
    UNLABELLED
}
