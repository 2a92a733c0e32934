package org.umm4j.data.augment;

import java.util.random.RandomGenerator;

/**
 * Colour jitter with the semantics of {@code torchvision.transforms.ColorJitter}, wrapped in a random application
 * with probability {@code p} (SimCLR, Chen et al. 2020, arXiv 2002.05709, Appendix A: "colour distortion" =
 * jitter with probability 0.8 followed by grayscale with probability 0.2).
 *
 * <p>When applied, the four adjustments run in a uniformly random order (a random permutation, as torchvision)
 * with factors drawn once per call:
 * <ul>
 *   <li>brightness {@code f_b ~ U[max(0, 1 - brightness), 1 + brightness]}: {@code v <- clamp(f_b v)};</li>
 *   <li>contrast {@code f_c ~ U[max(0, 1 - contrast), 1 + contrast]}: {@code v <- clamp(f_c v + (1 - f_c) m)},
 *       {@code m} the mean luma of the whole image;</li>
 *   <li>saturation {@code f_s ~ U[max(0, 1 - saturation), 1 + saturation]}:
 *       {@code v <- clamp(f_s v + (1 - f_s) Y)}, {@code Y} the pixel's luma (BT.601 0.299/0.587/0.114);</li>
 *   <li>hue {@code f_h ~ U[-hue, hue]}: the HSV hue is rotated by {@code f_h} (a fraction of the colour circle,
 *       modulo 1) and converted back to RGB.</li>
 * </ul>
 * {@code clamp} is to [0, 1]. An adjustment whose strength is 0 is skipped (no draw), as torchvision's {@code None}.
 * Saturation and hue leave single-channel images unchanged. In place.
 *
 * @param brightness brightness strength, &ge; 0
 * @param contrast   contrast strength, &ge; 0
 * @param saturation saturation strength, &ge; 0
 * @param hue        hue strength, in [0, 0.5]
 * @param p          probability of applying the jitter at all, in [0, 1]
 */
public record ColorJitter(double brightness, double contrast, double saturation, double hue, double p)
        implements Transform {

    /** Validates the fields; errors name them. */
    public ColorJitter {
        checkStrength("brightness", brightness);
        checkStrength("contrast", contrast);
        checkStrength("saturation", saturation);
        if (!(hue >= 0 && hue <= 0.5)) {
            throw new IllegalArgumentException("hue must be in [0, 0.5], got " + hue);
        }
        Transform.checkProbability("p", p);
    }

    private static void checkStrength(String field, double v) {
        if (!(v >= 0 && Double.isFinite(v))) {
            throw new IllegalArgumentException(field + " must be finite and >= 0, got " + v);
        }
    }

    /**
     * SimCLR's parameterisation by one strength {@code s}: {@code (0.8 s, 0.8 s, 0.8 s, 0.2 s)} (arXiv 2002.05709,
     * Appendix A); {@code s = 0.5} gives the common {@code 0.4/0.4/0.4/0.1}.
     */
    public static ColorJitter simclr(double strength, double p) {
        return new ColorJitter(0.8 * strength, 0.8 * strength, 0.8 * strength, 0.2 * strength, p);
    }

    @Override
    public FloatImage apply(FloatImage image, RandomGenerator rng) {
        if (!Transform.coin(rng, p)) {
            return image;
        }
        // Random order of the four adjustments (Fisher-Yates), then the factors, as torchvision's get_params.
        int[] order = {0, 1, 2, 3};
        for (int i = 3; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        double fb = brightness > 0 ? Transform.uniform(rng, Math.max(0, 1 - brightness), 1 + brightness) : 1;
        double fc = contrast > 0 ? Transform.uniform(rng, Math.max(0, 1 - contrast), 1 + contrast) : 1;
        double fs = saturation > 0 ? Transform.uniform(rng, Math.max(0, 1 - saturation), 1 + saturation) : 1;
        double fh = hue > 0 ? Transform.uniform(rng, -hue, hue) : 0;
        for (int op : order) {
            switch (op) {
                case 0 -> {
                    if (brightness > 0) {
                        adjustBrightness(image, (float) fb);
                    }
                }
                case 1 -> {
                    if (contrast > 0) {
                        adjustContrast(image, (float) fc);
                    }
                }
                case 2 -> {
                    if (saturation > 0) {
                        adjustSaturation(image, (float) fs);
                    }
                }
                default -> {
                    if (hue > 0) {
                        adjustHue(image, (float) fh);
                    }
                }
            }
        }
        return image;
    }

    private static float clamp01(float v) {
        return v < 0f ? 0f : (v > 1f ? 1f : v);
    }

    /** {@code v <- clamp(factor v)} in place; factor 1 is the identity on [0, 1] images. */
    public static void adjustBrightness(FloatImage image, float factor) {
        float[] d = image.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = clamp01(d[i] * factor);
        }
    }

    /** {@code v <- clamp(factor v + (1 - factor) m)} in place, {@code m} the mean luma (mean value for 1 channel). */
    public static void adjustContrast(FloatImage image, float factor) {
        float[] d = image.data();
        int plane = image.height() * image.width();
        double sum = 0;
        if (image.channels() == 3) {
            for (int i = 0; i < plane; i++) {
                sum += RandomGrayscale.LUMA_R * d[i] + RandomGrayscale.LUMA_G * d[plane + i]
                        + RandomGrayscale.LUMA_B * d[2 * plane + i];
            }
        } else {
            requireChannels(image, 1, "contrast");
            for (int i = 0; i < plane; i++) {
                sum += d[i];
            }
        }
        float offset = (1f - factor) * (float) (sum / plane);
        for (int i = 0; i < d.length; i++) {
            d[i] = clamp01(factor * d[i] + offset);
        }
    }

    /** {@code v <- clamp(factor v + (1 - factor) Y)} per pixel, in place; no-op for 1-channel images. */
    public static void adjustSaturation(FloatImage image, float factor) {
        if (image.channels() == 1) {
            return;
        }
        requireChannels(image, 3, "saturation");
        float[] d = image.data();
        int plane = image.height() * image.width();
        float keep = 1f - factor;
        for (int i = 0; i < plane; i++) {
            float r = d[i];
            float g = d[plane + i];
            float b = d[2 * plane + i];
            float y = keep * (RandomGrayscale.LUMA_R * r + RandomGrayscale.LUMA_G * g + RandomGrayscale.LUMA_B * b);
            d[i] = clamp01(factor * r + y);
            d[plane + i] = clamp01(factor * g + y);
            d[2 * plane + i] = clamp01(factor * b + y);
        }
    }

    /**
     * Rotates the HSV hue of every pixel by {@code shift} (fraction of the circle, in [-0.5, 0.5]), in place;
     * gray pixels (max = min) and 1-channel images are unchanged.
     */
    public static void adjustHue(FloatImage image, float shift) {
        if (image.channels() == 1) {
            return;
        }
        requireChannels(image, 3, "hue");
        float[] d = image.data();
        int plane = image.height() * image.width();
        float shift6 = 6f * shift;
        for (int i = 0; i < plane; i++) {
            float r = d[i];
            float g = d[plane + i];
            float b = d[2 * plane + i];
            float max = Math.max(r, Math.max(g, b));
            float min = Math.min(r, Math.min(g, b));
            float delta = max - min;
            if (delta <= 0f) {
                continue; // hue undefined: rotation leaves a gray pixel gray
            }
            // Hue in sextants [0, 6): the usual HSV formula without the final division by 6.
            float inv = 1f / delta;
            float h6;
            if (max == r) {
                h6 = (g - b) * inv;
            } else if (max == g) {
                h6 = (b - r) * inv + 2f;
            } else {
                h6 = (r - g) * inv + 4f;
            }
            // h6 is in [-1, 5) and the shift in [-3, 3]: one wrap each way brings it into [0, 6).
            h6 += shift6;
            if (h6 < 0f) {
                h6 += 6f;
            }
            if (h6 >= 6f) {
                h6 -= 6f; // also catches a float sum rounded up to exactly 6
            }
            int sector = (int) h6;
            float f = h6 - sector;
            // With v = max and s = delta / max: v (1 - s) = min, v (1 - s f) = max - delta f,
            // v (1 - s (1 - f)) = min + delta f, so no division by max is needed.
            float p = min;
            float q = max - delta * f;
            float t = min + delta * f;
            float v = max;
            switch (sector) {
                case 0 -> { r = v; g = t; b = p; }
                case 1 -> { r = q; g = v; b = p; }
                case 2 -> { r = p; g = v; b = t; }
                case 3 -> { r = p; g = q; b = v; }
                case 4 -> { r = t; g = p; b = v; }
                default -> { r = v; g = p; b = q; }
            }
            d[i] = r;
            d[plane + i] = g;
            d[2 * plane + i] = b;
        }
    }

    private static void requireChannels(FloatImage image, int expected, String op) {
        if (image.channels() != expected) {
            throw new IllegalArgumentException(op + " adjustment needs a 1- or 3-channel image, got " + image);
        }
    }
}
