package org.umm4j.data.augment;

import java.util.ArrayList;
import java.util.List;

/**
 * Named augmentation recipes of the self-supervised methods, as published. Every view ends with {@link Normalize}
 * (ImageNet constants for the ImageNet recipes, CIFAR-10 constants for the CIFAR recipes). Crops use the aspect-ratio
 * range [3/4, 4/3] and flips probability 0.5 throughout.
 *
 * <table>
 *   <caption>Recipes and their sources</caption>
 *   <tr><th>recipe</th><th>views</th><th>crop scale</th><th>jitter b/c/s/h, p</th><th>gray</th>
 *       <th>blur p</th><th>solarise p</th><th>source</th></tr>
 *   <tr><td>SimCLR ImageNet</td><td>2 x 224</td><td>[0.08, 1]</td><td>0.4/0.4/0.4/0.1, 0.8</td><td>0.2</td>
 *       <td>0.5 (kernel 23, sigma [0.1, 2])</td><td>0</td>
 *       <td>Chen et al. 2020, "A Simple Framework for Contrastive Learning of Visual Representations",
 *       arXiv 2002.05709, Appendix A</td></tr>
 *   <tr><td>SimCLR CIFAR</td><td>2 x 32</td><td>[0.2, 1]</td><td>0.4/0.4/0.4/0.1, 0.8</td><td>0.2</td>
 *       <td>none</td><td>0</td><td>ibid., Appendix B.9 (no blur on CIFAR); the paper keeps scale 0.08, the
 *       lower bound 0.2 is the common CIFAR reproduction setting</td></tr>
 *   <tr><td>BYOL</td><td>2 (asymmetric)</td><td>[0.08, 1]</td><td>0.4/0.4/0.2/0.1, 0.8</td><td>0.2</td>
 *       <td>1.0 / 0.1</td><td>0 / 0.2</td><td>Grill et al. 2020, "Bootstrap Your Own Latent", arXiv 2006.07733,
 *       Table 6</td></tr>
 *   <tr><td>Barlow Twins</td><td colspan="6">as BYOL</td><td>Zbontar et al. 2021, arXiv 2103.03230,
 *       Appendix "Image augmentations"</td></tr>
 *   <tr><td>VICReg</td><td colspan="6">as BYOL</td><td>Bardes, Ponce and LeCun 2022, arXiv 2105.04906,
 *       Appendix C.1</td></tr>
 *   <tr><td>SwAV</td><td>2 x 224 + 6 x 96</td><td>[0.14, 1] / [0.05, 0.14]</td><td>0.8/0.8/0.8/0.2, 0.8</td>
 *       <td>0.2</td><td>0.5</td><td>0</td><td>Caron et al. 2020, "Unsupervised Learning of Visual Features by
 *       Contrasting Cluster Assignments", arXiv 2006.09882, Section 3.2 and Appendix A</td></tr>
 * </table>
 *
 * <p>Choices where the papers are silent or which follow common practice rather than the paper:
 * <ul>
 *   <li>SimCLR uses jitter strength {@code s = 0.5} (0.4/0.4/0.4/0.1, the usual CIFAR and reproduction setting);
 *       the ImageNet paper's default is {@code s = 1}: use {@link #simclr} with strength 1.0 for it.</li>
 *   <li>The CIFAR variants of BYOL, Barlow Twins and VICReg keep the asymmetric solarisation (0 / 0.2) but drop the
 *       blur, which on 32 px images mostly destroys content (the CIFAR practice of the published reproductions).</li>
 *   <li>SwAV on CIFAR: 2 x 32 px global views (scale [0.14, 1]) and {@code numLocal} x 16 px local views
 *       (scale [0.05, 0.14]), no blur.</li>
 * </ul>
 */
public final class Recipes {
    /** Torchvision's default aspect-ratio range lower bound. */
    public static final double RATIO_MIN = 3.0 / 4.0;
    /** Torchvision's default aspect-ratio range upper bound. */
    public static final double RATIO_MAX = 4.0 / 3.0;
    /** BYOL's blur kernel on 224 px images. */
    public static final int BYOL_BLUR_KERNEL = 23;

    private Recipes() {
    }

    /** SimCLR, ImageNet: 224 px, scale [0.08, 1], jitter s = 0.5 with p 0.8, gray 0.2, blur p 0.5. */
    public static Recipe simclrImageNet() {
        return simclr("simclr-imagenet", 224, 0.08, 0.5, 0.5, Normalize.imageNet());
    }

    /** SimCLR, CIFAR: 32 px, scale [0.2, 1], jitter s = 0.5 with p 0.8, gray 0.2, no blur. */
    public static Recipe simclrCifar() {
        return simclr("simclr-cifar", 32, 0.2, 0.5, 0.0, Normalize.cifar10());
    }

    /**
     * A SimCLR recipe: two views of {@code crop(size, [scaleMin, 1]) -> flip 0.5 -> jitter(s) p 0.8 -> gray 0.2 ->
     * blur (kernel 10% of size, sigma [0.1, 2]) with probability blurP -> normalise}.
     *
     * @param name             recipe name
     * @param size             output side
     * @param scaleMin         crop scale lower bound
     * @param jitterStrength   SimCLR's {@code s}: jitter (0.8 s, 0.8 s, 0.8 s, 0.2 s)
     * @param blurP            blur probability (0 disables the step)
     * @param normalize        final normalisation
     */
    public static Recipe simclr(String name, int size, double scaleMin, double jitterStrength, double blurP,
                                Normalize normalize) {
        List<Transform> steps = new ArrayList<>();
        steps.add(RandomResizedCrop.square(size, scaleMin, 1.0));
        steps.add(new HorizontalFlip(0.5));
        steps.add(ColorJitter.simclr(jitterStrength, 0.8));
        steps.add(new RandomGrayscale(0.2));
        if (blurP > 0) {
            steps.add(GaussianBlur.simclr(size, blurP));
        }
        steps.add(normalize);
        Transform view = new Compose(steps);
        return new Recipe(name, List.of(view, view));
    }

    /** BYOL, ImageNet (asymmetric: blur 1.0 / 0.1, solarise 0 / 0.2). */
    public static Recipe byolImageNet() {
        return asymmetric("byol-imagenet", 224, true, Normalize.imageNet());
    }

    /** BYOL, CIFAR (asymmetric solarise 0 / 0.2, no blur). */
    public static Recipe byolCifar() {
        return asymmetric("byol-cifar", 32, false, Normalize.cifar10());
    }

    /** Barlow Twins, ImageNet: the BYOL augmentations. */
    public static Recipe barlowTwinsImageNet() {
        return asymmetric("barlowtwins-imagenet", 224, true, Normalize.imageNet());
    }

    /** Barlow Twins, CIFAR: the BYOL CIFAR augmentations. */
    public static Recipe barlowTwinsCifar() {
        return asymmetric("barlowtwins-cifar", 32, false, Normalize.cifar10());
    }

    /** VICReg (and VICRegL's global views), ImageNet: the BYOL augmentations. */
    public static Recipe vicregImageNet() {
        return asymmetric("vicreg-imagenet", 224, true, Normalize.imageNet());
    }

    /** VICReg, CIFAR: the BYOL CIFAR augmentations. */
    public static Recipe vicregCifar() {
        return asymmetric("vicreg-cifar", 32, false, Normalize.cifar10());
    }

    /**
     * The BYOL augmentation pair (arXiv 2006.07733, Table 6): both views
     * {@code crop(size, [0.08, 1]) -> flip 0.5 -> jitter(0.4, 0.4, 0.2, 0.1) p 0.8 -> gray 0.2}, then view 1
     * {@code blur p 1.0 -> solarise p 0} and view 2 {@code blur p 0.1 -> solarise p 0.2}, then normalise. Blur: kernel
     * 23 at 224 px (10% of the side otherwise), sigma [0.1, 2].
     *
     * @param name      recipe name
     * @param size      output side
     * @param blur      whether to include the blur step
     * @param normalize final normalisation
     */
    public static Recipe asymmetric(String name, int size, boolean blur, Normalize normalize) {
        return new Recipe(name, List.of(
                asymmetricView(size, blur ? 1.0 : 0.0, 0.0, normalize),
                asymmetricView(size, blur ? 0.1 : 0.0, 0.2, normalize)));
    }

    private static Transform asymmetricView(int size, double blurP, double solarizeP, Normalize normalize) {
        List<Transform> steps = new ArrayList<>();
        steps.add(RandomResizedCrop.square(size, 0.08, 1.0));
        steps.add(new HorizontalFlip(0.5));
        steps.add(new ColorJitter(0.4, 0.4, 0.2, 0.1, 0.8));
        steps.add(new RandomGrayscale(0.2));
        if (blurP > 0) {
            steps.add(size == 224 ? new GaussianBlur(BYOL_BLUR_KERNEL, 0.1, 2.0, blurP) : GaussianBlur.simclr(size, blurP));
        }
        if (solarizeP > 0) {
            steps.add(Solarize.withProbability(solarizeP));
        }
        steps.add(normalize);
        return new Compose(steps);
    }

    /** SwAV, ImageNet: 2 x 224 px (scale [0.14, 1]) + 6 x 96 px (scale [0.05, 0.14]), jitter s = 1, blur p 0.5. */
    public static Recipe swavImageNet() {
        return swav("swav-imagenet", 224, 96, 6, true, Normalize.imageNet());
    }

    /** SwAV, CIFAR: 2 x 32 px (scale [0.14, 1]) + {@code numLocal} x 16 px (scale [0.05, 0.14]), no blur. */
    public static Recipe swavCifar(int numLocal) {
        return swav("swav-cifar", 32, 16, numLocal, false, Normalize.cifar10());
    }

    /**
     * A SwAV multi-crop recipe: 2 global views at {@code globalSize} (scale [0.14, 1]) and {@code numLocal} local
     * views at {@code localSize} (scale [0.05, 0.14]), each followed by
     * {@code flip 0.5 -> jitter(0.8, 0.8, 0.8, 0.2) p 0.8 -> gray 0.2 -> [blur p 0.5] -> normalise}.
     */
    public static Recipe swav(String name, int globalSize, int localSize, int numLocal, boolean blur,
                              Normalize normalize) {
        List<Transform> post = new ArrayList<>();
        post.add(new HorizontalFlip(0.5));
        post.add(ColorJitter.simclr(1.0, 0.8));
        post.add(new RandomGrayscale(0.2));
        if (blur) {
            // One kernel (10% of the global side) for both crop sizes: SwAV draws sigma from the same range for both.
            post.add(GaussianBlur.simclr(globalSize, 0.5));
        }
        post.add(normalize);
        return Recipe.multiCrop(name, RandomResizedCrop.square(globalSize, 0.14, 1.0), 2,
                RandomResizedCrop.square(localSize, 0.05, 0.14), numLocal, new Compose(post));
    }
}
