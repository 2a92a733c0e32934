/**
 * The pretraining loop: optimisers, learning-rate schedules, atomic checkpoints, run manifests and metrics logs.
 *
 * <h2>Assembling a training run</h2>
 * <pre>{@code
 * OptimizerConfig opt = OptimizerConfig.lars(0.3 * batch / 256, 0.9, 1e-6)
 *         .withSchedule(new WarmupCosineSchedule(0.3 * batch / 256, 0, warmupSteps, totalSteps));
 * RunDirectory run = RunDirectory.create(out, configMap, seed, "cifar10", checksum);   // or RunDirectory.open(out)
 * TrainingLoop loop = TrainingLoop.builder()
 *         .setRun(run)
 *         .setGraphFactory(() -> { ComputationGraphConfiguration c = ...; opt.applyTo(c);
 *                                  ComputationGraph g = new ComputationGraph(c); g.init(); return g; })
 *         .setStepFunction((graph, ctx) -> { ... draw the batch from ctx.rng(); graph.fit(...);
 *                                            return StepResult.of(loss, batchSize).withExtra("dR", dr); })
 *         .optExtraState(emaAndQueue)                      // EMA target, MoCo queue: saved with checkpoints
 *         .optProgress(ProgressBar.forConsole(System.out, 50))   // CLI only
 *         .setConfig(new TrainingConfig(epochs, stepsPerEpoch, seed, saveEvery, keepLast, List.of("dR")))
 *         .build();
 * TrainingLoop.Result r = loop.runOrResume();
 * }</pre>
 * Exact resume rests on one rule: every random number a step uses comes from {@link org.umm4j.train.StepRandom}
 * streams of {@code (seed, epoch, step)} (the step's {@code ctx.rng()}, or ND4J's generator, which the loop reseeds
 * before each step), never from a generator carried across steps.
 */
package org.umm4j.train;
