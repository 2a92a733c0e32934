package org.umm4j.data.augment;

import java.util.SplittableRandom;

/**
 * Derives independent per-sample, per-view random streams from {@code (seed, epoch, sample index, view)}.
 *
 * <p>Why: a view must not depend on which worker thread produced it or on what was drawn before it, so nothing
 * shares a generator. Each coordinate is folded in with the SplitMix64 finaliser (Steele, Lea and Flood 2014,
 * "Fast splittable pseudorandom number generators"), {@code h <- mix(h ^ mix(part + GOLDEN))}, which decorrelates
 * neighbouring indices; the result seeds a {@link SplittableRandom}.
 */
public final class SampleSeeds {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private SampleSeeds() {
    }

    /** The SplitMix64 output function: a bijective 64-bit mixer. */
    public static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** @return a 64-bit seed derived from {@code seed} and the ordered coordinates {@code parts} */
    public static long derive(long seed, long... parts) {
        long h = mix64(seed + GOLDEN);
        for (long p : parts) {
            h = mix64(h ^ mix64(p + GOLDEN));
        }
        return h;
    }

    /** @return the generator for view {@code view} of sample {@code index} in epoch {@code epoch} */
    public static SplittableRandom viewRng(long seed, long epoch, long index, int view) {
        return new SplittableRandom(derive(seed, epoch, index, view));
    }

    /** @return the generator that shuffles the sample order of epoch {@code epoch} */
    public static SplittableRandom shuffleRng(long seed, long epoch) {
        // A negative "index" coordinate keeps this stream disjoint in construction from every view stream.
        return new SplittableRandom(derive(seed, epoch, -1L, -1L));
    }
}
