package org.umm4j.data.augment;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A multi-view augmentation recipe: one {@link Transform} pipeline per view. View {@code v} of a sample is
 * {@code views.get(v).apply(copy(x), rng(seed, epoch, index, v))} with the generator of {@link SampleSeeds}, so a
 * view is a pure function of {@code (image, seed, epoch, sample index, view)}.
 *
 * <p>Two views with the same pipeline give SimCLR-style symmetric pairs; different pipelines give BYOL-style
 * asymmetric pairs; {@link #multiCrop} builds SwAV's multi-crop (Caron et al. 2020, arXiv 2006.09882): 2 global views
 * at high resolution and N local views of small crops at low resolution. Views may differ in output size.
 * See {@link Recipes} for the named recipes of each method.
 *
 * @param name  short name for logs, e.g. {@code simclr-cifar}
 * @param views per-view pipelines (copied; at least one)
 */
public record Recipe(String name, List<Transform> views) {

    /** Validates and copies. */
    public Recipe {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(views, "views");
        if (views.isEmpty()) {
            throw new IllegalArgumentException("views must hold at least one transform (recipe " + name + ")");
        }
        for (int i = 0; i < views.size(); i++) {
            if (views.get(i) == null) {
                throw new IllegalArgumentException("views[" + i + "] is null (recipe " + name + ")");
            }
        }
        views = List.copyOf(views);
    }

    /** @return number of views per sample */
    public int numViews() {
        return views.size();
    }

    /** @return the pipeline of view {@code v} */
    public Transform view(int v) {
        return views.get(Objects.checkIndex(v, views.size()));
    }

    /**
     * Computes view {@code v} of a sample; {@code source} is not modified.
     *
     * @param source the decoded sample image
     * @param seed   run seed
     * @param epoch  epoch number
     * @param index  sample index in the dataset
     * @param v      view number
     */
    public FloatImage applyView(FloatImage source, long seed, long epoch, long index, int v) {
        return view(v).apply(source.copy(), SampleSeeds.viewRng(seed, epoch, index, v));
    }

    /** @return all views of a sample, in view order; {@code source} is not modified */
    public List<FloatImage> apply(FloatImage source, long seed, long epoch, long index) {
        List<FloatImage> out = new ArrayList<>(views.size());
        for (int v = 0; v < views.size(); v++) {
            out.add(applyView(source, seed, epoch, index, v));
        }
        return out;
    }

    /**
     * SwAV multi-crop: {@code numGlobal} views {@code globalCrop -> post}, then {@code numLocal} views
     * {@code localCrop -> post}.
     *
     * @param name       recipe name
     * @param globalCrop crop of the global views (SwAV: 224 px, scale [0.14, 1])
     * @param numGlobal  number of global views (SwAV: 2)
     * @param localCrop  crop of the local views (SwAV: 96 px, scale [0.05, 0.14])
     * @param numLocal   number of local views (SwAV: 6), may be 0
     * @param post       photometric pipeline after the crop (flip, jitter, grayscale, blur, normalise)
     */
    public static Recipe multiCrop(String name, RandomResizedCrop globalCrop, int numGlobal, RandomResizedCrop localCrop,
                                   int numLocal, Transform post) {
        Objects.requireNonNull(globalCrop, "globalCrop");
        Objects.requireNonNull(localCrop, "localCrop");
        Objects.requireNonNull(post, "post");
        if (numGlobal < 1) {
            throw new IllegalArgumentException("numGlobal must be >= 1, got " + numGlobal);
        }
        if (numLocal < 0) {
            throw new IllegalArgumentException("numLocal must be >= 0, got " + numLocal);
        }
        List<Transform> views = new ArrayList<>(numGlobal + numLocal);
        Transform global = Compose.of(globalCrop, post);
        Transform local = Compose.of(localCrop, post);
        for (int i = 0; i < numGlobal; i++) {
            views.add(global);
        }
        for (int i = 0; i < numLocal; i++) {
            views.add(local);
        }
        return new Recipe(name, views);
    }
}
