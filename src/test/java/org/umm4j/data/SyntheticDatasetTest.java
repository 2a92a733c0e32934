package org.umm4j.data;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

class SyntheticDatasetTest {
    @Test
    void sameSeedSameBytesDifferentSeedDifferentBytes() {
        var cfg = new SyntheticDataset.Config(10, 6, 32, 3, 123);
        InMemoryImageDataset a = SyntheticDataset.generate(cfg);
        InMemoryImageDataset b = SyntheticDataset.generate(cfg);
        InMemoryImageDataset c = SyntheticDataset.generate(new SyntheticDataset.Config(10, 6, 32, 3, 124));
        assertArrayEquals(a.pixels(), b.pixels());
        assertArrayEquals(a.labels(), b.labels());
        assertFalse(Arrays.equals(a.pixels(), c.pixels()));
        assertEquals(DatasetChecksum.sha256(a), DatasetChecksum.sha256(b));
        assertNotEquals(DatasetChecksum.sha256(a), DatasetChecksum.sha256(c));
    }

    @Test
    void shapeLabelsAndBalance() {
        InMemoryImageDataset d = SyntheticDataset.generate(new SyntheticDataset.Config(4, 5, 16, 1, 7));
        assertEquals(20, d.size());
        assertEquals(1, d.channels());
        assertEquals(16, d.height());
        assertEquals(SyntheticDataset.SHAPES.subList(0, 4), d.classNames());
        assertArrayEquals(new int[]{5, 5, 5, 5}, Subsets.classCounts(d));
        for (int i = 0; i < d.size(); i++) {
            assertEquals(i % 4, d.label(i));
        }
    }

    @Test
    void imagesAreNotConstantAndUseTheRange() {
        InMemoryImageDataset d = SyntheticDataset.generate(SyntheticDataset.Config.cifarLike(2, 5));
        for (int i = 0; i < d.size(); i++) {
            byte[] img = d.image(i);
            int min = 255, max = 0;
            for (byte v : img) {
                min = Math.min(min, v & 0xFF);
                max = Math.max(max, v & 0xFF);
            }
            // foreground and background differ by >= 150 in L1 over RGB, so some channel spans >= 50
            assertTrue(max - min >= 50, "image " + i + " range " + min + ".." + max);
        }
    }

    /**
     * Colour is a nuisance factor: a nearest-class-mean classifier on the mean RGB of each image, fit on
     * one seed and scored on another, must be near chance (0.1), while the same classifier on the
     * scale- and translation-invariant descriptors of the images' foreground masks must do far better (measured: 0.07 and 0.91).
     */
    @Test
    void classesAreNotSeparableByColourButByShape() {
        var train = SyntheticDataset.generate(SyntheticDataset.Config.cifarLike(60, 11));
        var test = SyntheticDataset.generate(SyntheticDataset.Config.cifarLike(30, 12));
        double colourAcc = nearestMeanAccuracy(featuresColour(train), train, featuresColour(test), test);
        double[][] mTr = featuresMask(train);
        double[][] mTe = featuresMask(test);
        double shapeAcc = nearestMeanAccuracy(standardise(mTr, mTr), train, standardise(mTe, mTr), test);
        String msg = "mean-colour accuracy " + colourAcc + ", shape accuracy " + shapeAcc;
        assertTrue(colourAcc < 0.22, msg);
        assertTrue(shapeAcc > 0.7, msg);
    }

    @Test
    void paletteModeDrawsColoursFromThePaletteAndKeepsShapeTheSignal() {
        var cfg = new SyntheticDataset.Config(10, 60, 32, 3, 11, 8);
        var train = SyntheticDataset.generate(cfg);
        var test = SyntheticDataset.generate(new SyntheticDataset.Config(10, 30, 32, 3, 12, 8));
        assertFalse(Arrays.equals(train.pixels(), SyntheticDataset.generate(SyntheticDataset.Config.cifarLike(60, 11)).pixels()));
        // the centre pixel of a circle is foreground: a palette colour up to the pixel noise (sigma 6)
        int plane = 32 * 32;
        java.util.Set<Integer> used = new java.util.HashSet<>();
        for (int i = 0; i < train.size(); i += 10) {
            byte[] img = train.image(i);
            int best = -1;
            int bestDist = Integer.MAX_VALUE;
            for (int q = 0; q < 8; q++) {
                int[] c = SyntheticDataset.PALETTE.get(q);
                int dist = 0;
                for (int ch = 0; ch < 3; ch++) {
                    dist = Math.max(dist, Math.abs((img[ch * plane + 16 * 32 + 16] & 0xFF) - c[ch]));
                }
                if (dist < bestDist) {
                    bestDist = dist;
                    best = q;
                }
            }
            assertTrue(bestDist <= 30, "image " + i + " centre is " + bestDist + " from every palette colour");
            used.add(best);
        }
        assertTrue(used.size() >= 6, "foreground colours used: " + used);
        double colourAcc = nearestMeanAccuracy(featuresColour(train), train, featuresColour(test), test);
        double[][] mTr = featuresMask(train);
        double shapeAcc = nearestMeanAccuracy(standardise(mTr, mTr), train, standardise(featuresMask(test), mTr), test);
        assertTrue(colourAcc < 0.22, "mean-colour accuracy " + colourAcc);
        assertTrue(shapeAcc > 0.7, "shape accuracy " + shapeAcc);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SyntheticDataset.Config(10, 1, 32, 3, 1, 1));
        assertTrue(e.getMessage().contains("palette"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new SyntheticDataset.Config(10, 1, 32, 3, 1, SyntheticDataset.PALETTE.size() + 1));
    }

    private static double[][] featuresColour(ImageDataset d) {
        double[][] f = new double[d.size()][3];
        int plane = d.height() * d.width();
        for (int i = 0; i < d.size(); i++) {
            byte[] img = d.image(i);
            for (int c = 0; c < 3; c++) {
                for (int j = 0; j < plane; j++) {
                    f[i][c] += (img[c * plane + j] & 0xFF) / (double) plane;
                }
            }
        }
        return f;
    }

    /**
     * Translation- and scale-invariant shape descriptors of each image's foreground mask. The mask comes
     * from 2-means clustering of the pixel colours (seeded with the corner pixel and the pixel farthest
     * from it); the foreground is the cluster not holding the corner. Descriptors over the mask's
     * bounding box: fill ratio, mean 0-to-1 transitions per row and per column, fill of the central
     * third, fill along the two diagonals and the two mid-lines, and the share of the area in the top half.
     */
    private static double[][] featuresMask(ImageDataset d) {
        int h = d.height();
        int w = d.width();
        int plane = h * w;
        double[][] f = new double[d.size()][];
        for (int i = 0; i < d.size(); i++) {
            byte[] img = d.image(i);
            boolean[] m = twoMeansForeground(img, plane);
            int x0 = w, x1 = -1, y0 = h, y1 = -1, area = 0, top = 0;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    if (m[y * w + x]) {
                        x0 = Math.min(x0, x);
                        x1 = Math.max(x1, x);
                        y0 = Math.min(y0, y);
                        y1 = Math.max(y1, y);
                        area++;
                    }
                }
            }
            if (area == 0) {
                f[i] = new double[9];
                continue;
            }
            int bw = x1 - x0 + 1, bh = y1 - y0 + 1;
            for (int y = y0; y <= y1; y++) {
                for (int x = x0; x <= x1; x++) {
                    if (m[y * w + x] && (y - y0) * 2 < bh) {
                        top++;
                    }
                }
            }
            double rowTr = 0, colTr = 0, centre = 0, centreN = 0;
            for (int y = y0; y <= y1; y++) {
                for (int x = x0 + 1; x <= x1; x++) {
                    rowTr += (!m[y * w + x - 1] && m[y * w + x]) ? 1 : 0;
                }
            }
            for (int x = x0; x <= x1; x++) {
                for (int y = y0 + 1; y <= y1; y++) {
                    colTr += (!m[(y - 1) * w + x] && m[y * w + x]) ? 1 : 0;
                }
            }
            for (int y = y0 + bh / 3; y < y0 + 2 * bh / 3; y++) {
                for (int x = x0 + bw / 3; x < x0 + 2 * bw / 3; x++) {
                    centre += m[y * w + x] ? 1 : 0;
                    centreN++;
                }
            }
            double diag1 = 0, diag2 = 0, midH = 0, midV = 0;
            int steps = 32;
            for (int s = 0; s < steps; s++) {
                double t = (s + 0.5) / steps;
                int xs = x0 + (int) (t * bw), ys = y0 + (int) (t * bh);
                diag1 += m[ys * w + xs] ? 1 : 0;
                diag2 += m[ys * w + (x1 - (int) (t * bw))] ? 1 : 0;
                midH += m[(y0 + bh / 2) * w + xs] ? 1 : 0;
                midV += m[ys * w + x0 + bw / 2] ? 1 : 0;
            }
            f[i] = new double[]{area / (double) (bw * bh), rowTr / bh, colTr / bw, centreN == 0 ? 0 : centre / centreN,
                    diag1 / steps, diag2 / steps, midH / steps, midV / steps, top / (double) area};
        }
        return f;
    }

    private static boolean[] twoMeansForeground(byte[] img, int plane) {
        double[] a = new double[3];
        double[] b = new double[3];
        int far = 0;
        double farD = -1;
        for (int j = 0; j < plane; j++) {
            double dd = 0;
            for (int c = 0; c < 3; c++) {
                dd += Math.abs((img[c * plane + j] & 0xFF) - (img[c * plane] & 0xFF));
            }
            if (dd > farD) {
                farD = dd;
                far = j;
            }
        }
        for (int c = 0; c < 3; c++) {
            a[c] = img[c * plane] & 0xFF;
            b[c] = img[c * plane + far] & 0xFF;
        }
        boolean[] inB = new boolean[plane];
        for (int it = 0; it < 10; it++) {
            double[] sa = new double[3], sb = new double[3];
            int na = 0, nb = 0;
            for (int j = 0; j < plane; j++) {
                double da = 0, db = 0;
                for (int c = 0; c < 3; c++) {
                    double v = img[c * plane + j] & 0xFF;
                    da += (v - a[c]) * (v - a[c]);
                    db += (v - b[c]) * (v - b[c]);
                }
                inB[j] = db < da;
                for (int c = 0; c < 3; c++) {
                    if (inB[j]) {
                        sb[c] += img[c * plane + j] & 0xFF;
                    } else {
                        sa[c] += img[c * plane + j] & 0xFF;
                    }
                }
                if (inB[j]) {
                    nb++;
                } else {
                    na++;
                }
            }
            for (int c = 0; c < 3; c++) {
                a[c] = na == 0 ? a[c] : sa[c] / na;
                b[c] = nb == 0 ? b[c] : sb[c] / nb;
            }
        }
        if (inB[0]) { // the corner is background: make the foreground the other cluster
            for (int j = 0; j < plane; j++) {
                inB[j] = !inB[j];
            }
        }
        return inB;
    }

    /** Divides every feature by its standard deviation over {@code ref}. */
    private static double[][] standardise(double[][] x, double[][] ref) {
        int dim = ref[0].length;
        double[] sd = new double[dim];
        for (int j = 0; j < dim; j++) {
            double mean = 0, sq = 0;
            for (double[] r : ref) {
                mean += r[j] / ref.length;
            }
            for (double[] r : ref) {
                sq += (r[j] - mean) * (r[j] - mean) / ref.length;
            }
            sd[j] = Math.sqrt(sq) + 1e-12;
        }
        double[][] out = new double[x.length][dim];
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < dim; j++) {
                out[i][j] = x[i][j] / sd[j];
            }
        }
        return out;
    }

    private static double nearestMeanAccuracy(double[][] ftr, ImageDataset tr, double[][] fte, ImageDataset te) {
        int k = tr.numClasses();
        int dim = ftr[0].length;
        double[][] mean = new double[k][dim];
        int[] n = new int[k];
        for (int i = 0; i < ftr.length; i++) {
            n[tr.label(i)]++;
            for (int j = 0; j < dim; j++) {
                mean[tr.label(i)][j] += ftr[i][j];
            }
        }
        for (int c = 0; c < k; c++) {
            for (int j = 0; j < dim; j++) {
                mean[c][j] /= n[c];
            }
        }
        int correct = 0;
        for (int i = 0; i < fte.length; i++) {
            int best = -1;
            double bestD = Double.MAX_VALUE;
            for (int c = 0; c < k; c++) {
                double dd = 0;
                for (int j = 0; j < dim; j++) {
                    double t = fte[i][j] - mean[c][j];
                    dd += t * t;
                }
                if (dd < bestD) {
                    bestD = dd;
                    best = c;
                }
            }
            correct += best == te.label(i) ? 1 : 0;
        }
        return correct / (double) fte.length;
    }

    @Test
    void configValidationNamesTheField() {
        var e = assertThrows(IllegalArgumentException.class, () -> new SyntheticDataset.Config(1, 5, 32, 3, 0));
        assertTrue(e.getMessage().contains("numClasses"));
        e = assertThrows(IllegalArgumentException.class, () -> new SyntheticDataset.Config(13, 5, 32, 3, 0));
        assertTrue(e.getMessage().contains("numClasses"));
        e = assertThrows(IllegalArgumentException.class, () -> new SyntheticDataset.Config(3, 0, 32, 3, 0));
        assertTrue(e.getMessage().contains("perClass"));
        e = assertThrows(IllegalArgumentException.class, () -> new SyntheticDataset.Config(3, 1, 4, 3, 0));
        assertTrue(e.getMessage().contains("size"));
        e = assertThrows(IllegalArgumentException.class, () -> new SyntheticDataset.Config(3, 1, 32, 2, 0));
        assertTrue(e.getMessage().contains("channels"));
    }
}
