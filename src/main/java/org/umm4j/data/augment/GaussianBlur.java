package org.umm4j.data.augment;

import java.util.random.RandomGenerator;

/**
 * Random Gaussian blur (SimCLR, arXiv 2002.05709, Appendix A: kernel 10% of the image side, {@code sigma ~ U[0.1,
 * 2.0]}, probability 0.5; BYOL, arXiv 2006.07733, Table 6: kernel 23 on 224 px, probabilities 1.0 / 0.1 for the two
 * views).
 *
 * <p>With probability {@code p}, draws {@code sigma ~ U[sigmaMin, sigmaMax]} and convolves every channel with the
 * separable kernel {@code k(t) = exp(-t^2 / (2 sigma^2)) / Z}, {@code t = -(K-1)/2 .. (K-1)/2}, normalised to sum 1
 * ({@code torchvision.transforms.GaussianBlur}). Borders use reflect padding without repeating the edge pixel
 * ({@code dcba|abcd|dcba} becomes {@code ...c b|a b c d|c b...}), as torchvision, so a constant image is preserved
 * exactly and the total mass of any image whose content is farther than {@code (K-1)/2} from the border is preserved.
 *
 * @param kernelSize odd kernel side {@code K} &ge; 1
 * @param sigmaMin   lower bound of sigma, &gt; 0
 * @param sigmaMax   upper bound of sigma, &ge; sigmaMin
 * @param p          probability of applying, in [0, 1]
 */
public record GaussianBlur(int kernelSize, double sigmaMin, double sigmaMax, double p) implements Transform {

    /** Validates the fields; errors name them. */
    public GaussianBlur {
        if (kernelSize < 1 || kernelSize % 2 == 0) {
            throw new IllegalArgumentException("kernelSize must be odd and positive, got " + kernelSize);
        }
        if (!(sigmaMin > 0 && sigmaMin <= sigmaMax && Double.isFinite(sigmaMax))) {
            throw new IllegalArgumentException("sigma range must satisfy 0 < sigmaMin <= sigmaMax < inf, got ["
                    + sigmaMin + ", " + sigmaMax + "]");
        }
        Transform.checkProbability("p", p);
    }

    /**
     * SimCLR's rule: the odd kernel size nearest above 10% of {@code imageSize} (23 for 224), sigma in [0.1, 2.0].
     */
    public static GaussianBlur simclr(int imageSize, double p) {
        int k = (int) Math.round(0.1 * imageSize);
        if (k % 2 == 0) {
            k += 1;
        }
        return new GaussianBlur(Math.max(1, k), 0.1, 2.0, p);
    }

    @Override
    public FloatImage apply(FloatImage image, RandomGenerator rng) {
        if (Transform.coin(rng, p)) {
            double sigma = Transform.uniform(rng, sigmaMin, sigmaMax);
            blur(image, kernel(kernelSize, sigma));
        }
        return image;
    }

    /** @return the normalised 1-D Gaussian kernel of odd size {@code size} and standard deviation {@code sigma} */
    public static float[] kernel(int size, double sigma) {
        if (size < 1 || size % 2 == 0) {
            throw new IllegalArgumentException("size must be odd and positive, got " + size);
        }
        if (!(sigma > 0)) {
            throw new IllegalArgumentException("sigma must be positive, got " + sigma);
        }
        double[] w = new double[size];
        int r = size / 2;
        double sum = 0;
        for (int i = 0; i < size; i++) {
            double t = (i - r) / sigma;
            w[i] = StrictMath.exp(-0.5 * t * t); // bit-reproducible across platforms
            sum += w[i];
        }
        float[] k = new float[size];
        for (int i = 0; i < size; i++) {
            k[i] = (float) (w[i] / sum);
        }
        return k;
    }

    /**
     * Convolves every channel of {@code image} in place with the separable kernel {@code k} (rows, then columns),
     * reflect padding at the borders.
     */
    public static void blur(FloatImage image, float[] k) {
        int r = k.length / 2;
        int h = image.height();
        int w = image.width();
        float[] d = image.data();
        // One padded row buffer and one plane buffer per call.
        float[] line = new float[w + 2 * r];
        float[] tmp = new float[h * w];
        int[] padW = reflectTable(w, r);
        int[] padH = reflectTable(h, r);
        for (int c = 0; c < image.channels(); c++) {
            int base = c * h * w;
            // Horizontal pass: d -> tmp.
            for (int y = 0; y < h; y++) {
                int row = base + y * w;
                for (int i = 0; i < padW.length; i++) {
                    line[i] = d[row + padW[i]];
                }
                int o = y * w;
                for (int x = 0; x < w; x++) {
                    float acc = 0f;
                    for (int t = 0; t < k.length; t++) {
                        acc += k[t] * line[x + t];
                    }
                    tmp[o + x] = acc;
                }
            }
            // Vertical pass: tmp -> d, as weighted sums of whole rows (contiguous, vectorisable, cache-friendly).
            for (int y = 0; y < h; y++) {
                int o = base + y * w;
                java.util.Arrays.fill(d, o, o + w, 0f);
                for (int t = 0; t < k.length; t++) {
                    float kt = k[t];
                    int src = padH[y + t] * w;
                    for (int x = 0; x < w; x++) {
                        d[o + x] += kt * tmp[src + x];
                    }
                }
            }
        }
    }

    /** Source index of each of the {@code n + 2r} padded positions under reflect padding (edge not repeated). */
    static int[] reflectTable(int n, int r) {
        int[] idx = new int[n + 2 * r];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = reflect(i - r, n);
        }
        return idx;
    }

    /** Reflects {@code i} into [0, n) without repeating the edge; periodic, so a kernel wider than the image works. */
    static int reflect(int i, int n) {
        if (n == 1) {
            return 0;
        }
        int period = 2 * (n - 1);
        int m = Math.floorMod(i, period);
        return m < n ? m : period - m;
    }
}
