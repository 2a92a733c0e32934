package org.umm4j.data.augment;

import java.util.random.RandomGenerator;

/**
 * Random solarisation, as used by BYOL (Grill et al. 2020, arXiv 2006.07733, Table 6) and its successors: with
 * probability {@code p}, every value {@code v >= threshold} becomes {@code 1 - v}; values below are untouched
 * ({@code torchvision.transforms.RandomSolarize} on [0, 1] images). In place.
 *
 * @param threshold values at or above it are inverted (0.5 in BYOL, i.e. 128/255 on uint8 images)
 * @param p         probability of applying, in [0, 1]
 */
public record Solarize(double threshold, double p) implements Transform {

    /** Validates the fields. */
    public Solarize {
        if (!Double.isFinite(threshold)) {
            throw new IllegalArgumentException("threshold must be finite, got " + threshold);
        }
        Transform.checkProbability("p", p);
    }

    /** Solarisation at threshold 0.5 with probability {@code p}. */
    public static Solarize withProbability(double p) {
        return new Solarize(0.5, p);
    }

    @Override
    public FloatImage apply(FloatImage image, RandomGenerator rng) {
        if (Transform.coin(rng, p)) {
            solarize(image, (float) threshold);
        }
        return image;
    }

    /** Inverts, in place, every value at or above {@code threshold}. */
    public static void solarize(FloatImage image, float threshold) {
        float[] d = image.data();
        for (int i = 0; i < d.length; i++) {
            if (d[i] >= threshold) {
                d[i] = 1f - d[i];
            }
        }
    }
}
