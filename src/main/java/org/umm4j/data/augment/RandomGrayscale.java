package org.umm4j.data.augment;

import java.util.random.RandomGenerator;

/**
 * Random grayscale conversion ({@code torchvision.transforms.RandomGrayscale}): with probability {@code p}, every
 * channel of an RGB image is replaced by the ITU-R BT.601 luma {@code Y = 0.299 R + 0.587 G + 0.114 B}, so the output
 * keeps 3 identical channels. Single-channel images are returned unchanged. In place.
 *
 * @param p probability of applying, in [0, 1] (0.2 in SimCLR, BYOL, Barlow Twins, VICReg and SwAV)
 */
public record RandomGrayscale(double p) implements Transform {

    /** ITU-R BT.601 luma weight of red. */
    public static final float LUMA_R = 0.299f;
    /** ITU-R BT.601 luma weight of green. */
    public static final float LUMA_G = 0.587f;
    /** ITU-R BT.601 luma weight of blue. */
    public static final float LUMA_B = 0.114f;

    /** Validates {@code p}. */
    public RandomGrayscale {
        Transform.checkProbability("p", p);
    }

    @Override
    public FloatImage apply(FloatImage image, RandomGenerator rng) {
        if (Transform.coin(rng, p)) {
            toGrayscale(image);
        }
        return image;
    }

    /** Replaces each channel of a 3-channel image by its luma, in place; 1-channel images are left as they are.
     *
     * @throws IllegalArgumentException for any other channel count */
    public static void toGrayscale(FloatImage image) {
        if (image.channels() == 1) {
            return;
        }
        if (image.channels() != 3) {
            throw new IllegalArgumentException("grayscale needs a 1- or 3-channel image, got " + image);
        }
        float[] d = image.data();
        int plane = image.height() * image.width();
        for (int i = 0; i < plane; i++) {
            float y = LUMA_R * d[i] + LUMA_G * d[plane + i] + LUMA_B * d[2 * plane + i];
            d[i] = y;
            d[plane + i] = y;
            d[2 * plane + i] = y;
        }
    }
}
