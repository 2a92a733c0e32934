package org.umm4j.data.augment;

import java.util.List;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Applies transforms in sequence, as {@code torchvision.transforms.Compose}: {@code t_n(...t_2(t_1(x)))}, all drawing
 * from the same generator in order.
 *
 * @param transforms the steps, first applied first (copied; must not be empty or contain null)
 */
public record Compose(List<Transform> transforms) implements Transform {

    /** Validates and copies the list. */
    public Compose {
        Objects.requireNonNull(transforms, "transforms");
        if (transforms.isEmpty()) {
            throw new IllegalArgumentException("transforms must not be empty");
        }
        for (int i = 0; i < transforms.size(); i++) {
            if (transforms.get(i) == null) {
                throw new IllegalArgumentException("transforms[" + i + "] is null");
            }
        }
        transforms = List.copyOf(transforms);
    }

    /** @return a composition of the given steps */
    public static Compose of(Transform... transforms) {
        return new Compose(List.of(transforms));
    }

    @Override
    public FloatImage apply(FloatImage image, RandomGenerator rng) {
        FloatImage out = image;
        for (Transform t : transforms) {
            out = t.apply(out, rng);
        }
        return out;
    }
}
