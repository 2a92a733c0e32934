package org.umm4j.data.augment;

import java.util.random.RandomGenerator;

/**
 * Random horizontal flip ({@code torchvision.transforms.RandomHorizontalFlip}): with probability {@code p}, column
 * {@code x} becomes column {@code W - 1 - x} in every row and channel. In place.
 *
 * @param p probability of flipping, in [0, 1] (0.5 in every recipe of this package)
 */
public record HorizontalFlip(double p) implements Transform {

    /** Validates {@code p}. */
    public HorizontalFlip {
        Transform.checkProbability("p", p);
    }

    @Override
    public FloatImage apply(FloatImage image, RandomGenerator rng) {
        if (Transform.coin(rng, p)) {
            flip(image);
        }
        return image;
    }

    /** Reverses the columns of {@code image} in place. */
    public static void flip(FloatImage image) {
        float[] d = image.data();
        int w = image.width();
        int rows = image.channels() * image.height();
        for (int r = 0; r < rows; r++) {
            int a = r * w;
            int b = a + w - 1;
            while (a < b) {
                float t = d[a];
                d[a++] = d[b];
                d[b--] = t;
            }
        }
    }
}
