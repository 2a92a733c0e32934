package org.umm4j.train;

import java.util.SplittableRandom;

/**
 * Random streams derived from {@code (seed, epoch, step)} instead of carried generator state, so a resumed run
 * draws exactly the numbers an uninterrupted run would: the checkpoint needs only the seed and the step counter.
 *
 * <p>The derived seed is {@code mix(mix(mix(mix(seed) + epoch) + step) + stream)}, with {@code mix} the SplitMix64
 * finaliser (Steele, Lea &amp; Flood 2014), a bijection on 64-bit values with full avalanche, so neighbouring
 * steps get unrelated streams. {@code stream} separates independent uses within one step (e.g. 0 for the step
 * function's {@link SplittableRandom}, 1 for ND4J's global generator).
 */
public final class StepRandom {
    /** stream id of the generator handed to the step function */
    public static final long STEP_STREAM = 0;
    /** stream id used to reseed ND4J's global generator before each step (dropout etc.) */
    public static final long ND4J_STREAM = 1;

    private StepRandom() {
    }

    /** @return a 64-bit seed for one stream of one step */
    public static long seed(long runSeed, int epoch, long step, long stream) {
        return mix(mix(mix(mix(runSeed) + epoch) + step) + stream);
    }

    /** @return the step function's generator for {@code (runSeed, epoch, step)} */
    public static SplittableRandom forStep(long runSeed, int epoch, long step) {
        return new SplittableRandom(seed(runSeed, epoch, step, STEP_STREAM));
    }

    static long mix(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
