package org.umm4j.data.augment;

import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * One step of a view pipeline: maps a {@link FloatImage} to a (possibly randomly) transformed image.
 *
 * <p>Contract: {@code apply} may overwrite {@code image} and return it (pixel-wise transforms do, to avoid
 * allocation) or return a new image (geometric transforms whose output size differs). Callers must therefore
 * treat the input as consumed. All randomness comes from {@code rng}, and a transform draws the same number of
 * values in the same order for the same input shape and draws, so a seeded generator reproduces a view exactly.
 * Implementations are immutable and safe to share between threads (only the image and the generator are
 * per-call state).
 */
@FunctionalInterface
public interface Transform {

    /**
     * Transforms {@code image}.
     *
     * @param image the input (may be modified in place)
     * @param rng   source of all randomness for this call
     * @return the transformed image (possibly {@code image} itself)
     */
    FloatImage apply(FloatImage image, RandomGenerator rng);

    /** @return a transform that applies this one, then {@code next} */
    default Transform andThen(Transform next) {
        Objects.requireNonNull(next, "next");
        return new Compose(java.util.List.of(this, next));
    }

    /** Checks a probability parameter; the error names the field. */
    static double checkProbability(String field, double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException(field + " must be a probability in [0, 1], got " + p);
        }
        return p;
    }

    /** Draws a Bernoulli(p) decision; always draws exactly one value so the stream stays aligned. */
    static boolean coin(RandomGenerator rng, double p) {
        return rng.nextDouble() < p;
    }

    /** Uniform draw on [a, b] that (unlike {@link RandomGenerator#nextDouble(double, double)}) accepts a == b. */
    static double uniform(RandomGenerator rng, double a, double b) {
        return a + (b - a) * rng.nextDouble();
    }
}
