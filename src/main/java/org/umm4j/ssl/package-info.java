/**
 * Self-supervised objectives (one class each, returning the loss and dL/dz per view) and the methods that compose
 * backbone, heads, objective and an optional EMA target.
 *
 * <p>Objectives are pure ND4J maths on embeddings with hand-derived gradients ({@link org.umm4j.ssl.Objective},
 * {@link org.umm4j.ssl.ObjectiveInput}, {@link org.umm4j.ssl.LossAndGradients}): {@link org.umm4j.ssl.SimClr},
 * {@link org.umm4j.ssl.Byol}, {@link org.umm4j.ssl.BarlowTwins}, {@link org.umm4j.ssl.VicReg},
 * {@link org.umm4j.ssl.VicRegL}, {@link org.umm4j.ssl.SimSiam}, {@link org.umm4j.ssl.MocoV2} (with
 * {@link org.umm4j.ssl.NegativeQueue}), {@link org.umm4j.ssl.WMse}, {@link org.umm4j.ssl.SwAV} and
 * {@link org.umm4j.ssl.SuperInfo}; {@link org.umm4j.ssl.Objectives} builds them by name,
 * {@link org.umm4j.ssl.MomentumSchedule} drives EMA targets, and {@link org.umm4j.ssl.SslLossFunction} puts the
 * stacked-batch objectives on a DL4J {@code LossLayer}.
 */
package org.umm4j.ssl;
