package org.umm4j.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded label subsets of a labelled dataset: class-balanced fractions (the 1 % / 10 % semi-supervised
 * protocols of SimCLR, Chen et al. 2020), long-tailed subsets (CIFAR-10-LT, Cao et al. 2019, "LDAM")
 * and stratified train/held-out splits.
 *
 * <p>All selections shuffle each class's indices with a Fisher-Yates shuffle driven by one
 * {@link SplittableRandom}{@code (seed)} (classes in label order), take a prefix, and return the chosen
 * indices in increasing order, so results are reproducible and independent of the JVM. Unlabelled
 * images ({@link ImageDataset#UNLABELLED}) are never selected; an error is raised when a dataset has none
 * labelled.
 */
public final class Subsets {
    private Subsets() {
    }

    /** @return for each class, the indices of its images in increasing order */
    public static int[][] indicesByClass(ImageDataset ds) {
        int k = ds.numClasses();
        int[] counts = new int[k];
        for (int i = 0; i < ds.size(); i++) {
            int l = ds.label(i);
            if (l != ImageDataset.UNLABELLED) {
                counts[l]++;
            }
        }
        int[][] out = new int[k][];
        for (int c = 0; c < k; c++) {
            out[c] = new int[counts[c]];
        }
        int[] fill = new int[k];
        for (int i = 0; i < ds.size(); i++) {
            int l = ds.label(i);
            if (l != ImageDataset.UNLABELLED) {
                out[l][fill[l]++] = i;
            }
        }
        return out;
    }

    /** @return images per class ({@code numClasses} entries; unlabelled images not counted) */
    public static int[] classCounts(ImageDataset ds) {
        int[][] by = indicesByClass(ds);
        int[] out = new int[by.length];
        for (int c = 0; c < by.length; c++) {
            out[c] = by[c].length;
        }
        return out;
    }

    /**
     * A class-balanced fraction: from each class c with n_c images, exactly {@code floor(fraction * n_c)}
     * (floor, computed with a 1e-9 tolerance so that 0.1 * 5000 gives 500) chosen uniformly at random.
     *
     * @param ds       a labelled dataset
     * @param fraction in (0, 1], e.g. 0.01 or 0.1
     * @param seed     shuffle seed
     * @return the subset, named {@code <name>-frac<fraction>-s<seed>}
     * @throws IllegalArgumentException when the fraction is out of range or leaves some class with no image
     */
    public static Subset classBalancedFraction(ImageDataset ds, double fraction, long seed) {
        if (!(fraction > 0 && fraction <= 1)) {
            throw new IllegalArgumentException("fraction must be in (0, 1], got " + fraction);
        }
        int[][] by = requireLabelled(ds);
        int[] take = new int[by.length];
        for (int c = 0; c < by.length; c++) {
            take[c] = (int) Math.floor(fraction * by[c].length + 1e-9);
            if (take[c] == 0) {
                throw new IllegalArgumentException("fraction " + fraction + " of class " + c + " ("
                        + ds.classNames().get(c) + ", " + by[c].length + " images) of dataset " + ds.name()
                        + " is floor(" + fraction * by[c].length + ") = 0 images");
            }
        }
        return new Subset(ds.name() + "-frac" + fraction + "-s" + seed, ds, choose(by, take, seed));
    }

    /**
     * Exactly {@code perClass} images of every class, chosen uniformly at random.
     *
     * @throws IllegalArgumentException when a class has fewer than {@code perClass} images
     */
    public static Subset perClass(ImageDataset ds, int perClass, long seed) {
        if (perClass < 1) {
            throw new IllegalArgumentException("perClass must be >= 1, got " + perClass);
        }
        int[][] by = requireLabelled(ds);
        int[] take = new int[by.length];
        for (int c = 0; c < by.length; c++) {
            if (by[c].length < perClass) {
                throw new IllegalArgumentException("perClass = " + perClass + " but class " + c + " ("
                        + ds.classNames().get(c) + ") of dataset " + ds.name() + " has only " + by[c].length + " images");
            }
            take[c] = perClass;
        }
        return new Subset(ds.name() + "-per" + perClass + "-s" + seed, ds, choose(by, take, seed));
    }

    /**
     * The per-class counts of a long-tailed subset:
     * {@code n_c = floor(nMax * (1/imbalance)^(c/(C-1)))} for c = 0..C-1, so class 0 keeps {@code nMax}
     * and class C-1 keeps {@code floor(nMax / imbalance)} (as in CIFAR-10-LT, Cao et al. 2019).
     *
     * @param numClasses C >= 2
     * @param nMax       images of the head class, >= 1
     * @param imbalance  n_max / n_min ratio, >= 1 (100 and 10 in the literature)
     * @return the C counts
     */
    public static int[] longTailCounts(int numClasses, int nMax, double imbalance) {
        if (numClasses < 2) {
            throw new IllegalArgumentException("numClasses must be >= 2, got " + numClasses);
        }
        if (nMax < 1) {
            throw new IllegalArgumentException("nMax must be >= 1, got " + nMax);
        }
        if (!(imbalance >= 1) || Double.isInfinite(imbalance)) {
            throw new IllegalArgumentException("imbalance must be a finite ratio >= 1, got " + imbalance);
        }
        int[] out = new int[numClasses];
        for (int c = 0; c < numClasses; c++) {
            out[c] = (int) Math.floor(nMax * Math.pow(1.0 / imbalance, c / (numClasses - 1.0)) + 1e-9);
        }
        return out;
    }

    /**
     * A long-tailed subset with {@code nMax} = the smallest class count of {@code ds} (so every class can
     * supply its quota; for full CIFAR-10 that is 5000, the CIFAR-10-LT value).
     *
     * @see #longTailed(ImageDataset, int, double, long)
     */
    public static Subset longTailed(ImageDataset ds, double imbalance, long seed) {
        int[] counts = classCounts(ds);
        int nMax = Arrays.stream(counts).min().orElse(0);
        return longTailed(ds, nMax, imbalance, seed);
    }

    /**
     * A long-tailed subset with {@link #longTailCounts} images per class, chosen uniformly at random.
     *
     * @throws IllegalArgumentException when a class has fewer images than its quota, or a quota is 0
     */
    public static Subset longTailed(ImageDataset ds, int nMax, double imbalance, long seed) {
        int[][] by = requireLabelled(ds);
        int[] take = longTailCounts(by.length, nMax, imbalance);
        for (int c = 0; c < by.length; c++) {
            if (take[c] < 1) {
                throw new IllegalArgumentException("long-tail quota of class " + c + " is 0 (nMax " + nMax
                        + ", imbalance " + imbalance + "); use a larger nMax or a smaller imbalance");
            }
            if (by[c].length < take[c]) {
                throw new IllegalArgumentException("class " + c + " (" + ds.classNames().get(c) + ") of dataset "
                        + ds.name() + " has " + by[c].length + " images, fewer than its long-tail quota " + take[c]);
            }
        }
        return new Subset(ds.name() + "-lt" + imbalance + "-s" + seed, ds, choose(by, take, seed));
    }

    /** A stratified split into two disjoint subsets. */
    public record TrainTest(Subset train, Subset test) {
    }

    /**
     * Splits a labelled dataset per class: {@code floor(testFraction * n_c)} images of class c go to the
     * held-out part, the rest to the training part. Unlabelled images go to neither.
     *
     * @param testFraction in (0, 1)
     */
    public static TrainTest stratifiedSplit(ImageDataset ds, double testFraction, long seed) {
        if (!(testFraction > 0 && testFraction < 1)) {
            throw new IllegalArgumentException("testFraction must be in (0, 1), got " + testFraction);
        }
        int[][] by = requireLabelled(ds);
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Integer> train = new ArrayList<>();
        List<Integer> test = new ArrayList<>();
        for (int[] cls : by) {
            int[] idx = cls.clone();
            shuffle(idx, rnd);
            int nTest = (int) Math.floor(testFraction * idx.length + 1e-9);
            for (int j = 0; j < idx.length; j++) {
                (j < nTest ? test : train).add(idx[j]);
            }
        }
        return new TrainTest(new Subset(ds.name() + "-trainpart-s" + seed, ds, sorted(train)),
                new Subset(ds.name() + "-heldout-s" + seed, ds, sorted(test)));
    }

    private static int[][] requireLabelled(ImageDataset ds) {
        if (ds.numClasses() == 0) {
            throw new IllegalArgumentException("dataset " + ds.name() + " has no classes; label subsets need labels");
        }
        int[][] by = indicesByClass(ds);
        if (Arrays.stream(by).mapToInt(a -> a.length).sum() == 0) {
            throw new IllegalArgumentException("dataset " + ds.name() + " has no labelled image");
        }
        return by;
    }

    private static int[] choose(int[][] by, int[] take, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Integer> out = new ArrayList<>();
        for (int c = 0; c < by.length; c++) {
            int[] idx = by[c].clone();
            shuffle(idx, rnd);
            for (int j = 0; j < take[c]; j++) {
                out.add(idx[j]);
            }
        }
        return sorted(out);
    }

    private static int[] sorted(List<Integer> list) {
        int[] a = list.stream().mapToInt(Integer::intValue).toArray();
        Arrays.sort(a);
        return a;
    }

    /** Fisher-Yates: for i = n-1..1 swap a[i] with a[j], j uniform in [0, i]. */
    private static void shuffle(int[] a, SplittableRandom rnd) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
