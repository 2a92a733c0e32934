package org.umm4j.data.augment;

import java.util.Arrays;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Per-channel standardisation {@code v <- (v - mean[c]) / std[c]} ({@code torchvision.transforms.Normalize}), the
 * deterministic last step of every recipe. In place.
 *
 * <p>Constants: ImageNet mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225) (the torchvision model-zoo values);
 * CIFAR-10 mean (0.4914, 0.4822, 0.4465), std (0.2470, 0.2435, 0.2616), the per-channel pixel statistics of the
 * 50 000 training images (not the frequently copied 0.2023/0.1994/0.2010, which are averages of per-image stds).
 *
 * @param mean per-channel mean (copied)
 * @param std  per-channel standard deviation, positive (copied)
 */
public record Normalize(float[] mean, float[] std) implements Transform {

    /** Validates and copies the arrays; errors name the field. */
    public Normalize {
        Objects.requireNonNull(mean, "mean");
        Objects.requireNonNull(std, "std");
        if (mean.length == 0 || mean.length != std.length) {
            throw new IllegalArgumentException("mean and std must have the same non-zero length, got "
                    + mean.length + " and " + std.length);
        }
        for (int i = 0; i < std.length; i++) {
            if (!(std[i] > 0) || !Float.isFinite(std[i]) || !Float.isFinite(mean[i])) {
                throw new IllegalArgumentException("std[" + i + "] must be positive and mean[" + i
                        + "] finite, got std=" + std[i] + ", mean=" + mean[i]);
            }
        }
        mean = mean.clone();
        std = std.clone();
    }

    /** @return ImageNet normalisation (3 channels) */
    public static Normalize imageNet() {
        return new Normalize(new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f});
    }

    /** @return CIFAR-10 normalisation (3 channels) */
    public static Normalize cifar10() {
        return new Normalize(new float[] {0.4914f, 0.4822f, 0.4465f}, new float[] {0.2470f, 0.2435f, 0.2616f});
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    @Override
    public FloatImage apply(FloatImage image, RandomGenerator rng) {
        if (image.channels() != mean.length) {
            throw new IllegalArgumentException("Normalize has " + mean.length + " channel constants but the image is "
                    + image);
        }
        float[] d = image.data();
        int plane = image.height() * image.width();
        for (int c = 0; c < mean.length; c++) {
            float m = mean[c];
            float inv = 1f / std[c];
            int end = (c + 1) * plane;
            for (int i = c * plane; i < end; i++) {
                d[i] = (d[i] - m) * inv;
            }
        }
        return image;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Normalize n && Arrays.equals(mean, n.mean) && Arrays.equals(std, n.std);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(mean) + Arrays.hashCode(std);
    }

    @Override
    public String toString() {
        return "Normalize[mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + "]";
    }
}
