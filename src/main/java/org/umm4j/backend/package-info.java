/**
 * Backend selection and the fast CPU path: {@link org.umm4j.backend.Umm4jBackend} turns on DL4J's oneDNN layer helpers
 * (the one place where this is done), decides CPU or GPU ({@link org.umm4j.backend.GpuGuard}), and swaps umm4j's own
 * helpers into graphs: BatchNorm training passes streamed over the buffers ({@code FusedBatchNormHelper},
 * {@code NchwBatchNorm}, optionally with the following ReLU fused) and convolutions on oneDNN called directly through
 * JavaCPP's dnnl preset with cached primitives, Winograd for 3x3 stride-1 layers of 32 channels and more
 * ({@code DnnlConvHelper}, {@code DnnlContext}; the older {@code NarrowConvHelper} routes narrow layers' backward
 * passes through libnd4j's transposed convolutions). In umm4j's training twin the tensors between convolutions,
 * BatchNorms and residual sums stay in oneDNN's blocked layout ({@code BlockedHandoff}, {@code BlockedEdge},
 * {@link org.umm4j.backend.Umm4jBackend#pairResidualStreams}), and residual sums with their ReLU run as one oneDNN pass
 * ({@link org.umm4j.backend.AddReluKernel}). Each has a {@code -Dumm4j.*} switch.
 */
package org.umm4j.backend;
