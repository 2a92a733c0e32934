package org.umm4j.data;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A seeded synthetic image dataset: the embedded default, so demos and tests run without downloads.
 *
 * <p>Each image is a generative model with one class-relevant "content" factor and several nuisance
 * "style" factors, in the spirit of the content/style latent model of von Kugelgen et al. 2021
 * ("Self-Supervised Learning with Data Augmentations Provably Isolates Content from Style"):
 * <ul>
 *   <li>content: the class's shape or pattern, one of {@link #SHAPES} (circle, square, triangle,
 *       plus, ring, horizontal / vertical / diagonal stripes, diamond, X, checkerboard, hollow square);</li>
 *   <li>style, drawn independently of the class: foreground colour (uniform RGB, resampled until its L1
 *       distance to the background is at least 150, so the shape stays visible), background colour,
 *       a linear background gradient (random direction, amplitude up to 40), the shape's centre
 *       (uniform within +-15 % of the side around the middle), its radius (22 % .. 36 % of the side),
 *       the stripe period of pattern classes, and i.i.d. Gaussian pixel noise (sigma 6).</li>
 * </ul>
 * Colour carries no class information, so a classifier must use shape, which augmentations such as
 * crops and colour jitter preserve: the classes are learnable by SSL but not trivially by colour.
 *
 * <p>Images are generated with one {@link SplittableRandom} seeded by {@code seed}, in a fixed order
 * (image {@code i} has label {@code i % numClasses}, so every prefix is nearly class-balanced); the same
 * config gives identical bytes on every JVM. One-channel images are {@code round(0.299 R + 0.587 G +
 * 0.114 B)} of the RGB rendering.
 */
public final class SyntheticDataset {
    /** the content factor of each class, in label order */
    public static final List<String> SHAPES = List.of("circle", "square", "triangle", "plus", "ring",
            "hstripes", "vstripes", "dstripes", "diamond", "x", "checker", "hollow-square");

    /**
     * Generator configuration.
     *
     * @param numClasses number of classes, 2..{@code SHAPES.size()}
     * @param perClass   images per class, >= 1
     * @param size       image side in pixels, >= 8 (32 for CIFAR-like data)
     * @param channels   1 or 3
     * @param seed       random seed; the output is a pure function of this config
     * @param palette    0: foreground and background colours uniform in RGB (every image its own colours);
     *                   2..{@link #PALETTE}.size(): both drawn from the first {@code palette} colours of
     *                   {@link #PALETTE}, so that colour cannot tell one image from another
     */
    public record Config(int numClasses, int perClass, int size, int channels, long seed, int palette) {
        /** Continuous colours (palette 0). */
        public Config(int numClasses, int perClass, int size, int channels, long seed) {
            this(numClasses, perClass, size, channels, seed, 0);
        }

        /** Validates; errors name the field. */
        public Config {
            if (palette != 0 && (palette < 2 || palette > PALETTE.size())) {
                throw new IllegalArgumentException("palette must be 0 or in [2, " + PALETTE.size() + "], got " + palette);
            }
            if (numClasses < 2 || numClasses > SHAPES.size()) {
                throw new IllegalArgumentException("numClasses must be in [2, " + SHAPES.size() + "], got " + numClasses);
            }
            if (perClass < 1) {
                throw new IllegalArgumentException("perClass must be >= 1, got " + perClass);
            }
            if (size < 8) {
                throw new IllegalArgumentException("size must be >= 8, got " + size);
            }
            if (channels != 1 && channels != 3) {
                throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
            }
            if ((long) numClasses * perClass * channels * size * size > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("numClasses * perClass * channels * size^2 is too large for one "
                        + "byte array: " + numClasses + " x " + perClass + " x " + channels + " x " + size + "^2");
            }
        }

        /** @return 10 classes, {@code perClass} images each, 3x32x32, the given seed */
        public static Config cifarLike(int perClass, long seed) {
            return new Config(10, perClass, 32, 3, seed);
        }
    }

    /**
     * The fixed colours of palette mode (RGB), ordered so that every prefix of 2 or more has, for each colour,
     * another at L1 distance of at least 150 (the shape stays visible).
     */
    public static final List<int[]> PALETTE = List.of(new int[] {230, 40, 40}, new int[] {40, 200, 60},
            new int[] {50, 70, 220}, new int[] {240, 220, 50}, new int[] {30, 30, 30}, new int[] {235, 235, 235},
            new int[] {200, 60, 200}, new int[] {60, 200, 210}, new int[] {240, 140, 30}, new int[] {128, 128, 128});

    private SyntheticDataset() {
    }

    /**
     * @param config the generator configuration
     * @return {@code numClasses * perClass} images named {@code synthetic-<seed>}
     */
    public static InMemoryImageDataset generate(Config config) {
        int k = config.numClasses();
        int n = k * config.perClass();
        int s = config.size();
        int plane = s * s;
        byte[] pixels = new byte[n * config.channels() * plane];
        int[] labels = new int[n];
        int[] rgb = new int[3 * plane];
        SplittableRandom rnd = new SplittableRandom(config.seed());
        for (int i = 0; i < n; i++) {
            int label = i % k;
            labels[i] = label;
            render(label, s, config.palette(), rnd, rgb);
            int off = i * config.channels() * plane;
            if (config.channels() == 3) {
                for (int j = 0; j < 3 * plane; j++) {
                    pixels[off + j] = (byte) rgb[j];
                }
            } else {
                for (int j = 0; j < plane; j++) {
                    pixels[off + j] = (byte) Math.round(0.299 * rgb[j] + 0.587 * rgb[j + plane] + 0.114 * rgb[j + 2 * plane]);
                }
            }
        }
        List<String> names = new ArrayList<>(SHAPES.subList(0, k));
        return new InMemoryImageDataset("synthetic-" + config.seed(), config.channels(), s, s, pixels, labels, names);
    }

    /** Renders one RGB image (CHW ints 0..255) of class {@code label} into {@code out}. */
    private static void render(int label, int s, int palette, SplittableRandom rnd, int[] out) {
        int[] bg = new int[3];
        int[] fg = new int[3];
        if (palette > 0) {
            System.arraycopy(PALETTE.get(rnd.nextInt(palette)), 0, bg, 0, 3);
        } else {
            for (int c = 0; c < 3; c++) {
                bg[c] = rnd.nextInt(256);
            }
        }
        do {
            if (palette > 0) {
                System.arraycopy(PALETTE.get(rnd.nextInt(palette)), 0, fg, 0, 3);
            } else {
                for (int c = 0; c < 3; c++) {
                    fg[c] = rnd.nextInt(256);
                }
            }
        } while (Math.abs(fg[0] - bg[0]) + Math.abs(fg[1] - bg[1]) + Math.abs(fg[2] - bg[2]) < 150);
        double gAngle = rnd.nextDouble() * 2 * Math.PI;
        double gAmp = rnd.nextDouble() * 40;
        double cx = s * (0.5 + (rnd.nextDouble() - 0.5) * 0.3);
        double cy = s * (0.5 + (rnd.nextDouble() - 0.5) * 0.3);
        double r = s * (0.22 + rnd.nextDouble() * 0.14);
        double period = 0.45 + rnd.nextDouble() * 0.2; // stripe period in units of the radius
        double gx = Math.cos(gAngle);
        double gy = Math.sin(gAngle);
        int plane = s * s;
        for (int y = 0; y < s; y++) {
            for (int x = 0; x < s; x++) {
                double u = (x + 0.5 - cx) / r;
                double v = (y + 0.5 - cy) / r;
                boolean in = inside(label, u, v, period);
                double grad = gAmp * (((x + 0.5) / s - 0.5) * gx + ((y + 0.5) / s - 0.5) * gy);
                for (int c = 0; c < 3; c++) {
                    double val = in ? fg[c] : bg[c] + grad;
                    val += rnd.nextGaussian() * 6.0;
                    out[c * plane + y * s + x] = (int) Math.max(0, Math.min(255, Math.round(val)));
                }
            }
        }
    }

    /** The content factor: is (u, v) (shape coordinates, radius 1, y pointing down) inside shape {@code k}? */
    private static boolean inside(int k, double u, double v, double period) {
        double au = Math.abs(u);
        double av = Math.abs(v);
        double box = Math.max(au, av);
        return switch (k) {
            case 0 -> u * u + v * v <= 1.0;
            case 1 -> box <= 0.85;
            case 2 -> v >= -0.85 && v <= 0.85 && au <= (v + 0.85) / 1.7;
            case 3 -> (au <= 0.28 && av <= 0.95) || (av <= 0.28 && au <= 0.95);
            case 4 -> {
                double d = Math.sqrt(u * u + v * v);
                yield d <= 1.0 && d >= 0.55;
            }
            case 5 -> box <= 0.95 && stripe(v, period);
            case 6 -> box <= 0.95 && stripe(u, period);
            case 7 -> box <= 0.95 && stripe((u + v) / Math.sqrt(2), period);
            case 8 -> au + av <= 1.0;
            case 9 -> box <= 0.95 && (Math.abs(u - v) <= 0.35 || Math.abs(u + v) <= 0.35);
            case 10 -> box <= 0.95 && (stripe(u, 2 * period * 0.75) ^ stripe(v, 2 * period * 0.75));
            case 11 -> box <= 0.9 && box >= 0.55;
            default -> throw new IllegalStateException("no shape " + k);
        };
    }

    private static boolean stripe(double t, double period) {
        return Math.floorMod((long) Math.floor((t + 10) / period), 2L) == 0;
    }
}
