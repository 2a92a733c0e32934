/**
 * View transforms (random resized crop, flip, colour jitter, grayscale, blur, solarisation, normalisation, multi-crop),
 * per-method recipes and a prefetching multi-view iterator.
 *
 * <p>Images are {@link org.umm4j.data.augment.FloatImage}s (CHW floats in [0, 1], decoded from the uint8 images of
 * {@link org.umm4j.data.ImageDataset}). A {@link org.umm4j.data.augment.Transform} maps an image and a random generator
 * to an image; a {@link org.umm4j.data.augment.Recipe} holds one transform pipeline per view, and
 * {@link org.umm4j.data.augment.Recipes} names those of SimCLR, BYOL, Barlow Twins, VICReg and SwAV.
 * {@link org.umm4j.data.augment.MultiViewBatchIterator} turns a dataset into batches of NCHW FLOAT arrays, one per view,
 * augmented on worker threads. Every random draw comes from a generator derived from
 * (seed, epoch, sample index, view) ({@link org.umm4j.data.augment.SampleSeeds}), so results do not depend on the
 * number of threads or their scheduling.
 */
package org.umm4j.data.augment;
