package org.umm4j.train;

import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * One training step, supplied by the method being trained (an SSL objective, UMM, a test): draw the batch from
 * {@code ctx.rng()}, compute the loss and update {@code graph} (e.g. {@code graph.fit(batch)} or external errors +
 * the graph's updater), and report the loss. Must be deterministic given the graph's state and {@code ctx} for
 * exact resume. A non-finite loss stops the run ({@link NonFiniteLossException}).
 */
@FunctionalInterface
public interface StepFunction {
    StepResult step(ComputationGraph graph, StepContext ctx) throws Exception;
}
