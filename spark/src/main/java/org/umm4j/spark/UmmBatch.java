package org.umm4j.spark;

import java.io.Serializable;
import java.util.List;
import java.util.Objects;

/**
 * One UMM minibatch as it waits on a Spark worker: uint8 images in batch order, and the numbers that fix everything
 * random about its step. View {@code v} of image {@code i} is {@code recipe.applyView(image, seed, epoch, i, v)};
 * the CPA sketch directions are drawn from {@code StepRandom.forStep(seed, epoch, step).nextLong()} (the generator
 * the single-machine {@code UmmFineTuner} hands its step, whose first draw is the sketch seed). So the augmentation
 * and the sketch do not depend on the worker, and a retried task recomputes them identically.
 *
 * @param epoch  epoch of the views
 * @param step   global batch number: {@code epoch * batchesPerEpoch + position of the batch in the epoch}
 * @param images the batch's images in row order (at least 2)
 */
public record UmmBatch(int epoch, long step, List<ImageRecord> images) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Validates and copies the list. */
    public UmmBatch {
        if (epoch < 0 || step < 0) {
            throw new IllegalArgumentException("epoch and step must be >= 0, got " + epoch + " and " + step);
        }
        Objects.requireNonNull(images, "images");
        if (images.size() < 2) {
            throw new IllegalArgumentException("a UMM batch needs at least 2 images, got " + images.size());
        }
        images = List.copyOf(images);
    }
}
