package org.umm4j.data.augment;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

class TransformsTest {

    /** A 3 x h x w image with distinct values v = (c * 100 + y * 10 + x) / 1000. */
    static FloatImage ramp(int c, int h, int w) {
        FloatImage img = new FloatImage(c, h, w);
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    img.set(ch, y, x, (ch * 100 + y * 10 + x) / 1000f);
                }
            }
        }
        return img;
    }

    static FloatImage random(int c, int h, int w, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        FloatImage img = new FloatImage(c, h, w);
        float[] d = img.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) r.nextDouble();
        }
        return img;
    }

    /** A generator whose nextDouble always returns {@code v} (to force or forbid a coin). */
    static RandomGenerator constant(double v) {
        return new RandomGenerator() {
            @Override
            public long nextLong() {
                return 0L;
            }

            @Override
            public double nextDouble() {
                return v;
            }
        };
    }

    @Test
    void fromUint8ScalesTo01() {
        FloatImage img = FloatImage.fromUint8(new byte[] {0, (byte) 255, (byte) 128, 51}, 0, 1, 2, 2);
        assertArrayEquals(new float[] {0f, 1f, 128f / 255f, 0.2f}, img.data(), 1e-7f);
        assertThrows(IllegalArgumentException.class, () -> FloatImage.fromUint8(new byte[3], 0, 1, 2, 2));
    }

    @Test
    void flipReversesColumns() {
        FloatImage img = ramp(3, 2, 5);
        FloatImage orig = img.copy();
        new HorizontalFlip(1.0).apply(img, new SplittableRandom(1));
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 2; y++) {
                for (int x = 0; x < 5; x++) {
                    assertEquals(orig.get(c, y, 4 - x), img.get(c, y, x));
                }
            }
        }
        FloatImage same = ramp(3, 2, 5);
        new HorizontalFlip(0.0).apply(same, new SplittableRandom(1));
        assertArrayEquals(orig.data(), same.data());
    }

    @Test
    void grayscaleEqualisesChannelsWithBt601Luma() {
        FloatImage img = random(3, 3, 4, 7);
        FloatImage orig = img.copy();
        new RandomGrayscale(1.0).apply(img, new SplittableRandom(1));
        for (int y = 0; y < 3; y++) {
            for (int x = 0; x < 4; x++) {
                double luma = 0.299 * orig.get(0, y, x) + 0.587 * orig.get(1, y, x) + 0.114 * orig.get(2, y, x);
                for (int c = 0; c < 3; c++) {
                    assertEquals(luma, img.get(c, y, x), 1e-6);
                }
            }
        }
        FloatImage mono = random(1, 2, 2, 3);
        FloatImage monoOrig = mono.copy();
        new RandomGrayscale(1.0).apply(mono, new SplittableRandom(1));
        assertArrayEquals(monoOrig.data(), mono.data());
    }

    @Test
    void solarizeInvertsOnlyAtOrAboveThreshold() {
        FloatImage img = new FloatImage(1, 1, 5, new float[] {0.1f, 0.49f, 0.5f, 0.7f, 1.0f});
        Solarize.withProbability(1.0).apply(img, new SplittableRandom(1));
        assertArrayEquals(new float[] {0.1f, 0.49f, 0.5f, 0.3f, 0.0f}, img.data(), 1e-7f);
        FloatImage untouched = new FloatImage(1, 1, 2, new float[] {0.9f, 0.2f});
        Solarize.withProbability(0.0).apply(untouched, new SplittableRandom(1));
        assertArrayEquals(new float[] {0.9f, 0.2f}, untouched.data());
    }

    @Test
    void normalizeUsesPerChannelConstants() {
        FloatImage img = new FloatImage(3, 1, 2, new float[] {0f, 1f, 0.5f, 0.25f, 0.4465f, 1f});
        Normalize.cifar10().apply(img, new SplittableRandom(1));
        double[] expected = {
            (0 - 0.4914) / 0.2470, (1 - 0.4914) / 0.2470,
            (0.5 - 0.4822) / 0.2435, (0.25 - 0.4822) / 0.2435,
            0.0, (1 - 0.4465) / 0.2616};
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], img.data()[i], 1e-5);
        }
        FloatImage in = new FloatImage(3, 1, 1, new float[] {0.485f, 0.456f + 0.224f, 0f});
        Normalize.imageNet().apply(in, null);
        assertArrayEquals(new float[] {0f, 1f, (float) (-0.406 / 0.225)}, in.data(), 1e-5f);
        assertThrows(IllegalArgumentException.class, () -> Normalize.imageNet().apply(new FloatImage(1, 2, 2), null));
        assertThrows(IllegalArgumentException.class, () -> new Normalize(new float[] {0f}, new float[] {0f}));
    }

    @Test
    void fullCropWithUnitScaleAndRatioIsIdentity() {
        FloatImage img = random(3, 8, 8, 11);
        FloatImage out = new RandomResizedCrop(8, 8, 1.0, 1.0, 1.0, 1.0).apply(img.copy(), new SplittableRandom(5));
        assertArrayEquals(img.data(), out.data(), 1e-7f);
    }

    @Test
    void cropFallsBackToCentreCropWhenNoBoxFits() {
        // ratio 2 with the full area needs an 11 x 6 box, which never fits an 8 x 8 image.
        RandomResizedCrop crop = new RandomResizedCrop(4, 8, 1.0, 1.0, 2.0, 2.0);
        assertArrayEquals(new int[] {2, 0, 4, 8}, crop.sampleBox(8, 8, new SplittableRandom(3)));
        FloatImage img = ramp(1, 8, 8);
        FloatImage out = crop.apply(img.copy(), new SplittableRandom(3));
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 8; x++) {
                assertEquals(img.get(0, y + 2, x), out.get(0, y, x), 1e-7f);
            }
        }
    }

    @Test
    void cropBoxesRespectScaleAndRatio() {
        RandomResizedCrop crop = new RandomResizedCrop(16, 16, 0.2, 0.6, 3.0 / 4.0, 4.0 / 3.0);
        SplittableRandom rng = new SplittableRandom(9);
        for (int t = 0; t < 500; t++) {
            int[] b = crop.sampleBox(64, 48, rng);
            assertTrue(b[0] >= 0 && b[1] >= 0 && b[0] + b[2] <= 64 && b[1] + b[3] <= 48, "box inside image");
            double area = (double) b[2] * b[3] / (64 * 48);
            // rounding of w and h moves the area by at most about one row and column
            assertTrue(area > 0.2 - 0.06 && area < 0.6 + 0.06, "area fraction " + area);
            double ratio = (double) b[3] / b[2];
            assertTrue(ratio > 0.75 * 0.85 && ratio < 4.0 / 3.0 * 1.15, "ratio " + ratio);
        }
    }

    @Test
    void bilinearHalvingAveragesPixelPairs() {
        // Half-pixel centres: output x samples source 2x + 0.5, the mean of columns 2x and 2x + 1 (same for rows).
        FloatImage img = ramp(1, 4, 4);
        FloatImage out = RandomResizedCrop.resizeBilinear(img, 0, 0, 4, 4, 2, 2);
        for (int y = 0; y < 2; y++) {
            for (int x = 0; x < 2; x++) {
                double mean = (img.get(0, 2 * y, 2 * x) + img.get(0, 2 * y, 2 * x + 1)
                        + img.get(0, 2 * y + 1, 2 * x) + img.get(0, 2 * y + 1, 2 * x + 1)) / 4;
                assertEquals(mean, out.get(0, y, x), 1e-6);
            }
        }
        // Upsampling 2 -> 4 columns: source coordinates -0.25 (clamped to 0), 0.25, 0.75, 1.25 (right edge clamped).
        FloatImage row = new FloatImage(1, 1, 2, new float[] {0f, 1f});
        FloatImage up = RandomResizedCrop.resizeBilinear(row, 0, 0, 1, 2, 1, 4);
        assertArrayEquals(new float[] {0f, 0.25f, 0.75f, 1f}, up.data(), 1e-7f);
        assertThrows(IllegalArgumentException.class, () -> RandomResizedCrop.resizeBilinear(row, 0, 1, 1, 2, 1, 4));
    }

    @Test
    void brightnessFactorOneIsIdentityAndClamps() {
        FloatImage img = random(3, 4, 4, 2);
        FloatImage orig = img.copy();
        ColorJitter.adjustBrightness(img, 1f);
        assertArrayEquals(orig.data(), img.data());
        ColorJitter.adjustBrightness(img, 1.5f);
        for (int i = 0; i < img.size(); i++) {
            assertEquals(Math.min(1.0, 1.5 * orig.data()[i]), img.data()[i], 1e-6);
        }
        // A jitter with every strength 0 draws factors of 1 and changes nothing.
        FloatImage j = orig.copy();
        new ColorJitter(0, 0, 0, 0, 1.0).apply(j, new SplittableRandom(4));
        assertArrayEquals(orig.data(), j.data());
    }

    @Test
    void contrastAndSaturationBlendTowardsLuma() {
        FloatImage img = random(3, 3, 3, 5);
        int plane = 9;
        double mean = 0;
        for (int i = 0; i < plane; i++) {
            mean += 0.299 * img.data()[i] + 0.587 * img.data()[plane + i] + 0.114 * img.data()[2 * plane + i];
        }
        mean /= plane;
        FloatImage c = img.copy();
        ColorJitter.adjustContrast(c, 0.6f);
        for (int i = 0; i < img.size(); i++) {
            double ref = Math.max(0, Math.min(1, 0.6 * img.data()[i] + 0.4 * mean));
            assertEquals(ref, c.data()[i], 1e-6);
        }
        FloatImage s = img.copy();
        ColorJitter.adjustSaturation(s, 0f);
        FloatImage g = img.copy();
        RandomGrayscale.toGrayscale(g);
        assertArrayEquals(g.data(), s.data(), 1e-6f);
        FloatImage s1 = img.copy();
        ColorJitter.adjustSaturation(s1, 1f);
        assertArrayEquals(img.data(), s1.data(), 1e-6f);
    }

    @Test
    void hueRotationMatchesColorsysReference() {
        // Reference: Python colorsys, float64:
        //   h, s, v = rgb_to_hsv(r, g, b); hsv_to_rgb((h + shift) % 1, s, v)
        float[][] px = {{0.9f, 0.2f, 0.1f}, {0.1f, 0.5f, 0.3f}, {0.3f, 0.3f, 0.8f}, {0.6f, 0.6f, 0.6f}};
        double[][] ref25 = {{0.4, 0.9, 0.1}, {0.1, 0.1, 0.5}, {0.8, 0.3, 0.55}, {0.6, 0.6, 0.6}};
        double[][] refM40 = {{0.1, 0.32, 0.9}, {0.5, 0.14, 0.1}, {0.5, 0.8, 0.3}, {0.6, 0.6, 0.6}};
        checkHue(px, 0.25f, ref25);
        checkHue(px, -0.4f, refM40);
        // Wrap-around below hue 0 and the largest shift.
        float[][] magenta = {{0.8f, 0.2f, 0.25f}};
        checkHue(magenta, -0.1f, new double[][] {{0.8, 0.2, 0.61}});
        checkHue(magenta, 0.5f, new double[][] {{0.2, 0.8, 0.75}});
        checkHue(px, 0f, new double[][] {{0.9, 0.2, 0.1}, {0.1, 0.5, 0.3}, {0.3, 0.3, 0.8}, {0.6, 0.6, 0.6}});
    }

    private static void checkHue(float[][] px, float shift, double[][] ref) {
        FloatImage img = new FloatImage(3, 1, px.length);
        for (int x = 0; x < px.length; x++) {
            for (int c = 0; c < 3; c++) {
                img.set(c, 0, x, px[x][c]);
            }
        }
        ColorJitter.adjustHue(img, shift);
        for (int x = 0; x < px.length; x++) {
            for (int c = 0; c < 3; c++) {
                assertEquals(ref[x][c], img.get(c, 0, x), 1e-5, "pixel " + x + " channel " + c + " shift " + shift);
            }
        }
    }

    @Test
    void jitterStaysInUnitRangeAndRespectsProbability() {
        ColorJitter jitter = ColorJitter.simclr(1.0, 1.0);
        FloatImage img = random(3, 8, 8, 13);
        FloatImage out = jitter.apply(img.copy(), new SplittableRandom(21));
        boolean changed = false;
        for (int i = 0; i < out.size(); i++) {
            assertTrue(out.data()[i] >= 0f && out.data()[i] <= 1f);
            changed |= out.data()[i] != img.data()[i];
        }
        assertTrue(changed, "a full-strength jitter changes the image");
        FloatImage skipped = new ColorJitter(0.4, 0.4, 0.4, 0.1, 0.8).apply(img.copy(), constant(0.9));
        assertArrayEquals(img.data(), skipped.data());
    }

    @Test
    void blurPreservesConstantImageAndInteriorMass() {
        FloatImage constant = new FloatImage(3, 9, 7);
        java.util.Arrays.fill(constant.data(), 0.37f);
        GaussianBlur.blur(constant, GaussianBlur.kernel(5, 1.3));
        for (float v : constant.data()) {
            assertEquals(0.37f, v, 1e-6f);
        }
        // A kernel wider than the image reflects repeatedly and still preserves a constant.
        FloatImage tiny = new FloatImage(1, 2, 3);
        java.util.Arrays.fill(tiny.data(), 0.8f);
        GaussianBlur.blur(tiny, GaussianBlur.kernel(9, 2.0));
        for (float v : tiny.data()) {
            assertEquals(0.8f, v, 1e-6f);
        }
        assertEquals(1, GaussianBlur.reflect(-5, 3));
        assertEquals(1, GaussianBlur.reflect(3, 3));
        assertEquals(0, GaussianBlur.reflect(4, 3));
        // An impulse at least (K-1)/2 from the border: mass preserved and the result is the outer product of kernels.
        FloatImage impulse = new FloatImage(1, 11, 11);
        impulse.set(0, 5, 5, 1f);
        float[] k = GaussianBlur.kernel(7, 1.1);
        GaussianBlur.blur(impulse, k);
        double mass = 0;
        for (int y = 0; y < 11; y++) {
            for (int x = 0; x < 11; x++) {
                mass += impulse.get(0, y, x);
                double ref = (Math.abs(y - 5) <= 3 && Math.abs(x - 5) <= 3) ? (double) k[y - 5 + 3] * k[x - 5 + 3] : 0;
                assertEquals(ref, impulse.get(0, y, x), 1e-7);
            }
        }
        assertEquals(1.0, mass, 1e-6);
    }

    @Test
    void blurMatchesDirect2dConvolutionWithReflectPadding() {
        FloatImage img = random(2, 6, 5, 17);
        double sigma = 0.9;
        int ks = 5;
        FloatImage out = img.copy();
        GaussianBlur.blur(out, GaussianBlur.kernel(ks, sigma));
        // Independent float64 reference: 2-D (non-separable) sum with explicit reflection.
        double[] g = new double[ks];
        double z = 0;
        for (int i = 0; i < ks; i++) {
            g[i] = Math.exp(-0.5 * Math.pow((i - 2) / sigma, 2));
            z += g[i];
        }
        for (int c = 0; c < 2; c++) {
            for (int y = 0; y < 6; y++) {
                for (int x = 0; x < 5; x++) {
                    double acc = 0;
                    for (int dy = -2; dy <= 2; dy++) {
                        for (int dx = -2; dx <= 2; dx++) {
                            int yy = reflectRef(y + dy, 6);
                            int xx = reflectRef(x + dx, 5);
                            acc += g[dy + 2] * g[dx + 2] / (z * z) * img.get(c, yy, xx);
                        }
                    }
                    assertEquals(acc, out.get(c, y, x), 1e-6);
                }
            }
        }
    }

    private static int reflectRef(int i, int n) {
        if (i < 0) {
            return -i;
        }
        if (i >= n) {
            return 2 * (n - 1) - i;
        }
        return i;
    }

    @Test
    void simclrKernelIsTenPercentRoundedToOdd() {
        assertEquals(23, GaussianBlur.simclr(224, 0.5).kernelSize());
        assertEquals(3, GaussianBlur.simclr(32, 0.5).kernelSize());
        assertThrows(IllegalArgumentException.class, () -> new GaussianBlur(4, 0.1, 2.0, 0.5));
    }

    @Test
    void composeAppliesInOrder() {
        FloatImage img = new FloatImage(1, 1, 3, new float[] {0.2f, 0.6f, 0.9f});
        Transform t = new HorizontalFlip(1.0).andThen(Solarize.withProbability(1.0));
        FloatImage out = t.apply(img, new SplittableRandom(0));
        assertArrayEquals(new float[] {0.1f, 0.4f, 0.2f}, out.data(), 1e-6f);
    }

    @Test
    void invalidParametersNameTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new HorizontalFlip(1.5));
        assertTrue(e.getMessage().contains("p"));
        e = assertThrows(IllegalArgumentException.class, () -> new RandomResizedCrop(8, 8, 0.0, 1.0, 0.75, 1.33));
        assertTrue(e.getMessage().contains("scale"));
        e = assertThrows(IllegalArgumentException.class, () -> new ColorJitter(0.4, 0.4, 0.4, 0.7, 0.8));
        assertTrue(e.getMessage().contains("hue"));
    }
}
