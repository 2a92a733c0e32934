/**
 * Backbones and heads as DL4J {@code ComputationGraph}s.
 *
 * <ul>
 *   <li>{@link org.umm4j.nn.ResNetConfig} (+ {@link org.umm4j.nn.Stem}) describes a ResNet-18/50 with a
 *       CIFAR or ImageNet stem and a width multiplier; {@link org.umm4j.nn.ResNets} builds it (or hands out
 *       a graph builder to extend).</li>
 *   <li>{@link org.umm4j.nn.Taps}: the vertex names of the stem, stage and pool outputs, with the UMM
 *       defaults {@code EARLY_DEFAULT = STAGE2} and {@code LAST = POOL}.</li>
 *   <li>{@link org.umm4j.nn.Backbone}: graph + config + heads; features at several taps in one pass,
 *       {@link org.umm4j.nn.Backbone#split split} into a frozen f_e and a trainable f_l
 *       ({@link org.umm4j.nn.SplitBackbone}), atomic save/load.</li>
 *   <li>{@link org.umm4j.nn.MlpHeadConfig} and {@link org.umm4j.nn.Heads}: projection/prediction MLPs with
 *       the SimCLR, BYOL, SimSiam, Barlow Twins and VICReg sizes.</li>
 *   <li>{@link org.umm4j.nn.ExternalGradients}: train a loss-free graph from an external dL/dz.</li>
 *   <li>{@link org.umm4j.nn.WorkspaceBackprop}: the same for a batch-level objective of one or more outputs (and
 *       inner activations it reads), through DL4J's training path with its workspaces and forward cache on (a twin
 *       graph sharing the parameters and gradients).</li>
 *   <li>{@link org.umm4j.nn.InferenceGraph}: an inference-only copy of a graph with BatchNorm folded into the
 *       convolutions and ReLUs fused (into the convolutions, and with residual sums into
 *       {@link org.umm4j.nn.AddReluVertex}), for feature extraction.</li>
 *   <li>{@link org.umm4j.nn.ParamCounts}: trainable parameter counts comparable with PyTorch's.</li>
 * </ul>
 */
package org.umm4j.nn;
