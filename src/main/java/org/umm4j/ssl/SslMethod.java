package org.umm4j.ssl;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.umm4j.nn.Backbone;

import java.util.List;
import java.util.Map;

/**
 * A self-supervised method: a backbone with heads (the online network), an {@link Objective}, and optional
 * auxiliary state (an EMA target network, a queue of negatives).
 *
 * <p>The online graph is owned by the caller (the trainer restores it from checkpoints), so every call takes it
 * as an argument; the method keeps only its auxiliary state, which it exposes for checkpoints through
 * {@link #auxiliaryGraphs()} / {@link #auxiliaryArrays()} and takes back with {@link #restoreAuxiliary}.
 *
 * <p>One step on a batch of V augmented views {@code [N, C, H, W]} each: the views are stacked into one
 * {@code [V N, C, H, W]} batch and passed through the online network once (so BatchNorm sees all views, as in
 * lightly's and solo-learn's CIFAR recipes), the objective turns the outputs into a loss and dL/dz, the
 * gradient is back-propagated as an external error and the graph's own updater takes the step; then the
 * auxiliary state is updated (EMA, queue). Methods are built by {@link Methods}.
 */
public interface SslMethod {
    /** @return the registry name, e.g. {@code simclr} */
    String name();

    /** @return the objective scoring the embeddings */
    Objective objective();

    /** @return a freshly initialised online network (backbone + heads) with a placeholder updater */
    Backbone createOnline();

    /**
     * The graph a trainer steps: by default {@code createOnline().graph()}. Methods whose objective needs several
     * network outputs (VICRegL's local feature maps, SuperInfo's mean and log-variance heads) return a graph with
     * several outputs here; its backbone vertices carry the same names as {@link #createOnline()}'s, so pooled
     * features are read from {@code org.umm4j.nn.Taps#POOL} either way.
     */
    default ComputationGraph createOnlineGraph() {
        return createOnline().graph();
    }

    /**
     * @param numViews views per batch of an augmentation recipe
     * @return whether {@link #step} takes that many views (default: exactly 2; SwAV takes any V &gt;= 2)
     */
    default boolean acceptsViews(int numViews) {
        return numViews == 2;
    }

    /**
     * Prepares the auxiliary state for {@code online} (e.g. the EMA target starts as a copy of it). Called
     * once before the first step of a new run; a resumed run calls {@link #restoreAuxiliary} instead.
     */
    void attach(ComputationGraph online);

    /**
     * One optimisation step.
     *
     * @param online    the online graph (updated in place)
     * @param views     the V views of one batch, each {@code [N, C, H, W]}
     * @param iteration global step (for schedules and the EMA rate)
     * @param epoch     epoch
     * @return the loss and its named parts
     */
    StepOutput step(ComputationGraph online, List<INDArray> views, long iteration, int epoch);

    /** @return auxiliary graphs to checkpoint, by name (empty when none) */
    Map<String, ComputationGraph> auxiliaryGraphs();

    /** @return auxiliary arrays to checkpoint, by name (empty when none) */
    Map<String, INDArray> auxiliaryArrays();

    /** Restores the auxiliary state from a checkpoint written from {@link #auxiliaryGraphs()} and {@link #auxiliaryArrays()}. */
    void restoreAuxiliary(Map<String, ComputationGraph> graphs, Map<String, INDArray> arrays);

    /**
     * The result of a step.
     *
     * @param loss  the objective's loss
     * @param parts named loss parts (may be empty)
     */
    record StepOutput(double loss, Map<String, Double> parts) {
        /** Copies the parts. */
        public StepOutput {
            parts = Map.copyOf(parts);
        }
    }
}
