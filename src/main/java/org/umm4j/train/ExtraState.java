package org.umm4j.train;

/**
 * State a method keeps beside the trained graph (an EMA target network, a MoCo queue, a separately trained head)
 * that must travel with checkpoints for an exact resume. The {@link TrainingLoop} calls {@link #save} when it
 * writes a checkpoint and {@link #restore} when it resumes from one.
 */
public interface ExtraState {
    /** Adds extra graphs ({@code optGraph}), arrays ({@code optArray}) and JSON values ({@code optState}). */
    void save(CheckpointData.Builder checkpoint);

    /** Restores from a checkpoint this object saved. */
    void restore(Checkpoint checkpoint);
}
