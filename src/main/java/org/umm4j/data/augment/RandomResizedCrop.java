package org.umm4j.data.augment;

import java.util.random.RandomGenerator;

/**
 * Random resized crop (Szegedy et al. 2015, "Going deeper with convolutions"; the Inception-style crop used by
 * SimCLR, BYOL, Barlow Twins, VICReg and SwAV), with the sampling rule of {@code torchvision.transforms.RandomResizedCrop}.
 *
 * <p>For an input of {@code H x W} pixels, up to 10 attempts draw a target area {@code A = H W s} with
 * {@code s ~ U[scaleMin, scaleMax]} and an aspect ratio {@code r = exp(u)}, {@code u ~ U[log ratioMin, log ratioMax]}
 * (log-uniform, so {@code r} and {@code 1/r} are equally likely), then the box
 * {@code w = rint(sqrt(A r))}, {@code h = rint(sqrt(A / r))} (round half to even, as Python's {@code round}). The first
 * box that fits ({@code 0 < w <= W}, {@code 0 < h <= H}) is placed uniformly at random. If none fits, the fallback is
 * a centre crop of the whole image clamped to the ratio range. The box is then resized to
 * {@code outHeight x outWidth} by bilinear interpolation with half-pixel centres ({@code align_corners = false}, no
 * antialiasing), so a box equal to the output size is copied exactly.
 *
 * @param outHeight output height in pixels
 * @param outWidth  output width in pixels
 * @param scaleMin  lower bound of the area fraction, in (0, 1]
 * @param scaleMax  upper bound of the area fraction, in [scaleMin, 1]
 * @param ratioMin  lower bound of the aspect ratio w/h, positive
 * @param ratioMax  upper bound of the aspect ratio, at least ratioMin
 */
public record RandomResizedCrop(int outHeight, int outWidth, double scaleMin, double scaleMax,
                                double ratioMin, double ratioMax) implements Transform {

    /** Number of rejection-sampling attempts before the centre-crop fallback, as torchvision. */
    public static final int MAX_ATTEMPTS = 10;

    /** Validates every field; errors name the field. */
    public RandomResizedCrop {
        if (outHeight <= 0 || outWidth <= 0) {
            throw new IllegalArgumentException("outHeight and outWidth must be positive, got " + outHeight + "x" + outWidth);
        }
        if (!(scaleMin > 0 && scaleMin <= scaleMax && scaleMax <= 1)) {
            throw new IllegalArgumentException("scale range must satisfy 0 < scaleMin <= scaleMax <= 1, got ["
                    + scaleMin + ", " + scaleMax + "]");
        }
        if (!(ratioMin > 0 && ratioMin <= ratioMax && Double.isFinite(ratioMax))) {
            throw new IllegalArgumentException("ratio range must satisfy 0 < ratioMin <= ratioMax < inf, got ["
                    + ratioMin + ", " + ratioMax + "]");
        }
    }

    /** A square output with torchvision's default ratio range [3/4, 4/3]. */
    public static RandomResizedCrop square(int size, double scaleMin, double scaleMax) {
        return new RandomResizedCrop(size, size, scaleMin, scaleMax, 3.0 / 4.0, 4.0 / 3.0);
    }

    @Override
    public FloatImage apply(FloatImage image, RandomGenerator rng) {
        int[] box = sampleBox(image.height(), image.width(), rng);
        return resizeBilinear(image, box[0], box[1], box[2], box[3], outHeight, outWidth);
    }

    /**
     * Draws a crop box for an {@code height x width} image.
     *
     * @return {@code {top, left, boxHeight, boxWidth}}
     */
    public int[] sampleBox(int height, int width, RandomGenerator rng) {
        double area = (double) height * width;
        // StrictMath: the box must be bit-identical on every platform for a seed (Math.exp/log may use intrinsics).
        double logRatioMin = StrictMath.log(ratioMin);
        double logRatioMax = StrictMath.log(ratioMax);
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            double targetArea = area * Transform.uniform(rng, scaleMin, scaleMax);
            double aspect = StrictMath.exp(Transform.uniform(rng, logRatioMin, logRatioMax));
            int w = (int) Math.rint(Math.sqrt(targetArea * aspect));
            int h = (int) Math.rint(Math.sqrt(targetArea / aspect));
            if (w > 0 && w <= width && h > 0 && h <= height) {
                int top = rng.nextInt(height - h + 1);
                int left = rng.nextInt(width - w + 1);
                return new int[] {top, left, h, w};
            }
        }
        // Fallback: the whole image, trimmed to the nearest admissible aspect ratio, centred.
        double inRatio = (double) width / height;
        int w;
        int h;
        if (inRatio < ratioMin) {
            w = width;
            h = Math.max(1, Math.min(height, (int) Math.rint(w / ratioMin)));
        } else if (inRatio > ratioMax) {
            h = height;
            w = Math.max(1, Math.min(width, (int) Math.rint(h * ratioMax)));
        } else {
            w = width;
            h = height;
        }
        return new int[] {(height - h) / 2, (width - w) / 2, h, w};
    }

    /**
     * Resizes the box {@code [top, top + boxHeight) x [left, left + boxWidth)} of {@code src} to
     * {@code outHeight x outWidth} by bilinear interpolation with half-pixel centres: output pixel {@code x} samples
     * source coordinate {@code max(0, (x + 0.5) boxWidth / outWidth - 0.5)}, and neighbours past the box edge are
     * clamped to it (as PyTorch's {@code interpolate(mode="bilinear", align_corners=False)}).
     *
     * @return a new image of shape {@code channels x outHeight x outWidth}
     */
    public static FloatImage resizeBilinear(FloatImage src, int top, int left, int boxHeight, int boxWidth,
                                            int outHeight, int outWidth) {
        if (boxHeight <= 0 || boxWidth <= 0 || top < 0 || left < 0
                || top + boxHeight > src.height() || left + boxWidth > src.width()) {
            throw new IllegalArgumentException("crop box (top=" + top + ", left=" + left + ", " + boxHeight + "x"
                    + boxWidth + ") does not fit in " + src);
        }
        if (outHeight <= 0 || outWidth <= 0) {
            throw new IllegalArgumentException("output size must be positive, got " + outHeight + "x" + outWidth);
        }
        // Precompute the source columns/rows and weights once per call: the inner loop is then pure arithmetic.
        int[] x0 = new int[outWidth];
        int[] x1 = new int[outWidth];
        float[] fx = new float[outWidth];
        interpolationTable(boxWidth, outWidth, left, x0, x1, fx);
        int[] y0 = new int[outHeight];
        int[] y1 = new int[outHeight];
        float[] fy = new float[outHeight];
        interpolationTable(boxHeight, outHeight, top, y0, y1, fy);

        int c = src.channels();
        int srcW = src.width();
        int srcH = src.height();
        float[] in = src.data();
        FloatImage dst = new FloatImage(c, outHeight, outWidth);
        float[] out = dst.data();
        for (int ch = 0; ch < c; ch++) {
            int inPlane = ch * srcH * srcW;
            int outPlane = ch * outHeight * outWidth;
            for (int y = 0; y < outHeight; y++) {
                int row0 = inPlane + y0[y] * srcW;
                int row1 = inPlane + y1[y] * srcW;
                float wy = fy[y];
                int o = outPlane + y * outWidth;
                for (int x = 0; x < outWidth; x++) {
                    float wx = fx[x];
                    float a = in[row0 + x0[x]];
                    float top0 = a + (in[row0 + x1[x]] - a) * wx;
                    float b = in[row1 + x0[x]];
                    float bot = b + (in[row1 + x1[x]] - b) * wx;
                    out[o + x] = top0 + (bot - top0) * wy;
                }
            }
        }
        return dst;
    }

    private static void interpolationTable(int inSize, int outSize, int offset, int[] i0, int[] i1, float[] frac) {
        double scale = (double) inSize / outSize;
        for (int o = 0; o < outSize; o++) {
            double s = (o + 0.5) * scale - 0.5;
            if (s < 0) {
                s = 0;
            }
            int lo = Math.min((int) s, inSize - 1);
            int hi = Math.min(lo + 1, inSize - 1);
            i0[o] = offset + lo;
            i1[o] = offset + hi;
            frac[o] = (float) (s - lo);
        }
    }
}
