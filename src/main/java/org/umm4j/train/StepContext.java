package org.umm4j.train;

import java.util.SplittableRandom;

/**
 * What the {@link TrainingLoop} tells a {@link StepFunction} about the step to perform.
 *
 * @param epoch       0-based epoch
 * @param step        0-based step within the epoch
 * @param globalStep  0-based step over the whole run ({@code epoch * stepsPerEpoch + step}); also the graph's
 *                    iteration count during the step, which learning-rate schedules read
 * @param rng         this step's generator, derived from {@code (seed, epoch, globalStep)} ({@link StepRandom}):
 *                    draw batches, augmentations and noise from it (never from a generator kept across steps)
 *                    so that a resumed run is bit-identical
 * @param runSeed     the run's master seed, for deriving further streams with {@link StepRandom#seed}
 */
public record StepContext(int epoch, int step, long globalStep, SplittableRandom rng, long runSeed) {
}
