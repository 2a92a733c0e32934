package org.umm4j.spark;

import org.umm4j.data.augment.Normalize;
import org.umm4j.data.augment.Recipe;
import org.umm4j.data.augment.Recipes;

import java.io.Serializable;
import java.util.function.Supplier;

/**
 * A serialisable recipe maker: Spark ships this (a few bytes) to every worker, which builds its own
 * {@link Recipe} once per partition. {@link Recipe} and its transforms are not {@code Serializable}, so the recipe
 * itself never travels. A lambda is enough: {@code RecipeFactory f = () -> Recipes.simclrCifar();}.
 */
@FunctionalInterface
public interface RecipeFactory extends Supplier<Recipe>, Serializable {

    /**
     * The SimCLR recipe at any image size (crop scale [0.2, 1], jitter s = 0.5, grey 0.2, no blur) with a
     * per-channel normalisation to about zero mean and unit spread for 0..1 pixels (mean 0.5, std 0.25 per
     * channel), for datasets without published statistics.
     *
     * @param size     output side of both views
     * @param channels image channels (1 or 3)
     */
    static RecipeFactory simclr(int size, int channels) {
        if (size < 4) {
            throw new IllegalArgumentException("size must be >= 4, got " + size);
        }
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
        }
        return () -> {
            float[] mean = new float[channels];
            float[] std = new float[channels];
            java.util.Arrays.fill(mean, 0.5f);
            java.util.Arrays.fill(std, 0.25f);
            return Recipes.simclr("simclr-" + size, size, 0.2, 0.5, 0.0, new Normalize(mean, std));
        };
    }
}
