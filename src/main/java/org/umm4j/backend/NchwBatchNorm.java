package org.umm4j.backend;

import java.nio.FloatBuffer;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * Training-mode BatchNorm kernels on the row-major buffers of NCHW FLOAT tensors [N, C, H, W] (M = N H W values per
 * channel), for {@link FusedBatchNormHelper}.
 *
 * <pre>
 *   forward:   mean_c = (1/M) sum x,   var_c = (1/M) sum (x - mean_c)^2   (biased, as DL4J and PyTorch normalise)
 *              y = gamma_c (x - mean_c) r_c + beta_c,   r_c = 1 / sqrt(var_c + eps)
 *   backward:  dL/dbeta_c = sum dy,   dL/dgamma_c = r_c sum dy (x - mean_c)
 *              dL/dx = gamma_c r_c (dy - dL/dbeta_c / M - (x - mean_c) r_c dL/dgamma_c / M)
 * </pre>
 *
 * <p>Why these exist: libnd4j's moments/variance reductions walk the tensor per channel ("TADs"), oneDNN's plain-layout
 * BatchNorm and libnd4j's {@code batchnorm_bp} are scalar loops; at width 16 they were a third of an SSL step. Here
 * every pass streams each sample's contiguous [C, H, W] block once (the samples split over the common fork-join pool
 * in contiguous ranges), copies at most {@value #CHUNK} floats at a time into a small Java array and runs loops the
 * JIT unrolls, accumulating in float over at most {@value #BLOCK} values and in double beyond. Statistics are sums of
 * {@code x - s_c} with a per-channel shift {@code s_c} (the channel's first value), which keeps the one-pass variance
 * accurate when |mean| is large against the standard deviation. The affine pass can apply a ReLU and the backward
 * passes can mask the gradient by it (a BatchNorm + ReLU pair fused in the training twin). Measured through the
 * helper on [256, 16, 32, 32], 2 threads ({@code LayerKernelBenchmark}, benchmarks/README.md): forward 9 vs 36 ms,
 * backward 12 vs 35 ms for DL4J's oneDNN helper.
 */
final class NchwBatchNorm {
    /** Floats copied per bulk read: whole channel planes of one sample, at least one plane. */
    static final int CHUNK = 1 << 15;
    /** Values summed in float before the partial sum moves to double. */
    static final int BLOCK = 1024;

    private NchwBatchNorm() {
    }

    /**
     * 1 for {@code v > 0}, 0 for {@code v <= 0} (NaN for NaN), without a branch or a select, which C2 would not
     * vectorise and which mispredicts on the signs of activations: {@code v 2^254} reaches 1 for every positive
     * float (the smallest subnormal gives 2^105) and saturates to infinity, then clamps to [0, 1].
     */
    static float step(float v) {
        return Math.min(Math.max(v * 0x1p127f * 0x1p127f, 0f), 1f);
    }

    /** What one pass does with a chunk of whole planes (channels c0 .. c0 + planes - 1 of one sample). */
    private interface ChunkPass {
        void run(float[] a, float[] b, int c0, int planes, double[] acc);
    }

    /**
     * Runs {@code pass} over every sample's planes, in parallel over contiguous sample ranges; each worker gets
     * its own {@code accSize} doubles, returned summed.
     */
    private static double[] forEachChunk(FloatBuffer x, FloatBuffer y, FloatBuffer out, int n, int c, int hw,
                                         int accSize, ChunkPass pass) {
        int workers = Math.max(1, Math.min(n, ForkJoinPool.getCommonPoolParallelism() + 1));
        double[][] acc = new double[workers][accSize];
        int perChunk = Math.max(1, Math.min(c, CHUNK / hw));
        IntStream.range(0, workers).parallel().forEach(w -> {
            float[] a = new float[perChunk * hw];
            float[] b = y == null ? null : new float[perChunk * hw];
            int s1 = (int) ((long) n * (w + 1) / workers);
            for (int s = (int) ((long) n * w / workers); s < s1; s++) {
                for (int c0 = 0; c0 < c; c0 += perChunk) {
                    int planes = Math.min(perChunk, c - c0);
                    int off = (s * c + c0) * hw;
                    x.get(off, a, 0, planes * hw);
                    if (y != null) {
                        y.get(off, b, 0, planes * hw);
                    }
                    pass.run(a, b, c0, planes, acc[w]);
                    if (out != null) {
                        out.put(off, a, 0, planes * hw);
                    }
                }
            }
        });
        double[] sum = new double[accSize];
        for (double[] part : acc) {
            for (int i = 0; i < accSize; i++) {
                sum[i] += part[i];
            }
        }
        return sum;
    }

    /**
     * Batch mean and biased variance per channel, in double.
     *
     * @param x    the input's buffer, [n, c, hw] row-major
     * @param mean out: c means
     * @param var  out: c biased variances
     */
    static void statistics(FloatBuffer x, int n, int c, int hw, double[] mean, double[] var) {
        float[] shift = new float[c];
        for (int ch = 0; ch < c; ch++) {
            shift[ch] = x.get(ch * hw);
        }
        double[] sums = forEachChunk(x, null, null, n, c, hw, 2 * c, (a, b, c0, planes, acc) -> {
            for (int p = 0; p < planes; p++) {
                float k = shift[c0 + p];
                int end = (p + 1) * hw;
                for (int i0 = p * hw; i0 < end; i0 += BLOCK) {
                    int i1 = Math.min(end, i0 + BLOCK);
                    float s0 = 0, s1 = 0, s2 = 0, s3 = 0, q0 = 0, q1 = 0, q2 = 0, q3 = 0;
                    int i = i0;
                    for (; i + 3 < i1; i += 4) { // four independent sums: no serial dependency per add
                        float v0 = a[i] - k, v1 = a[i + 1] - k, v2 = a[i + 2] - k, v3 = a[i + 3] - k;
                        s0 += v0;
                        s1 += v1;
                        s2 += v2;
                        s3 += v3;
                        q0 += v0 * v0;
                        q1 += v1 * v1;
                        q2 += v2 * v2;
                        q3 += v3 * v3;
                    }
                    for (; i < i1; i++) {
                        float v = a[i] - k;
                        s0 += v;
                        q0 += v * v;
                    }
                    acc[c0 + p] += (s0 + s1) + (s2 + s3);
                    acc[c + c0 + p] += (q0 + q1) + (q2 + q3);
                }
            }
        });
        double m = (double) n * hw;
        for (int ch = 0; ch < c; ch++) {
            double d = sums[ch] / m;
            mean[ch] = shift[ch] + d;
            var[ch] = Math.max(0, sums[c + ch] / m - d * d);
        }
    }

    /**
     * {@code out = scale_c (x - center_c) + shift_c} per channel (the normalisation with gamma and beta folded in;
     * centred first, so a large mean costs no precision), followed by {@code max(out, 0)} when {@code relu}
     * (NaN passes through, as in DL4J's ReLU; -0 becomes +0).
     */
    static void affine(FloatBuffer x, FloatBuffer out, int n, int c, int hw, float[] center, float[] scale,
                       float[] shift, boolean relu) {
        forEachChunk(x, null, out, n, c, hw, 0, (a, b, c0, planes, acc) -> {
            for (int p = 0; p < planes; p++) {
                float k = center[c0 + p];
                float s = scale[c0 + p];
                float t = shift[c0 + p];
                int end = (p + 1) * hw;
                if (relu) {
                    for (int i = p * hw; i < end; i++) {
                        a[i] = Math.max(s * (a[i] - k) + t, 0f); // branch-free (C2 vectorises max, not a select)
                    }
                } else {
                    for (int i = p * hw; i < end; i++) {
                        a[i] = s * (a[i] - k) + t;
                    }
                }
            }
        });
    }

    /**
     * Per-channel sums for the backward pass: {@code sumDy[c] = sum g}, {@code sumDyXc[c] = sum g (x - mean_c)},
     * where {@code g = dy}, or with a ReLU after the normalisation ({@code reluScale != null}) {@code g = dy step(v)},
     * {@code v = reluScale_c (x - center_c) + reluShift_c} (the forward's output before its ReLU, recomputed with the
     * same float operations, so the same elements pass), {@link #step} = [v > 0].
     */
    static void gradientSums(FloatBuffer x, FloatBuffer dy, int n, int c, int hw, double[] mean, double[] sumDy,
                             double[] sumDyXc, float[] center, float[] reluScale, float[] reluShift) {
        double[] sums = forEachChunk(x, dy, null, n, c, hw, 2 * c, (a, b, c0, planes, acc) -> {
            for (int p = 0; p < planes; p++) {
                float k = (float) mean[c0 + p];
                int end = (p + 1) * hw;
                if (reluScale != null) { // zero the gradient where the ReLU was off, in place (b is a private copy)
                    float rk = center[c0 + p];
                    float rs = reluScale[c0 + p];
                    float rt = reluShift[c0 + p];
                    for (int i = p * hw; i < end; i++) {
                        b[i] *= step(rs * (a[i] - rk) + rt);
                    }
                }
                for (int i0 = p * hw; i0 < end; i0 += BLOCK) {
                    int i1 = Math.min(end, i0 + BLOCK);
                    float s0 = 0, s1 = 0, s2 = 0, s3 = 0, q0 = 0, q1 = 0, q2 = 0, q3 = 0;
                    int i = i0;
                    for (; i + 3 < i1; i += 4) {
                        float d0 = b[i], d1 = b[i + 1], d2 = b[i + 2], d3 = b[i + 3];
                        s0 += d0;
                        s1 += d1;
                        s2 += d2;
                        s3 += d3;
                        q0 += d0 * (a[i] - k);
                        q1 += d1 * (a[i + 1] - k);
                        q2 += d2 * (a[i + 2] - k);
                        q3 += d3 * (a[i + 3] - k);
                    }
                    for (; i < i1; i++) {
                        s0 += b[i];
                        q0 += b[i] * (a[i] - k);
                    }
                    acc[c0 + p] += (s0 + s1) + (s2 + s3);
                    acc[c + c0 + p] += (q0 + q1) + (q2 + q3);
                }
            }
        });
        System.arraycopy(sums, 0, sumDy, 0, c);
        System.arraycopy(sums, c, sumDyXc, 0, c);
    }

    /**
     * {@code dx = kdy_c g + kx_c (x - center_c) + k0_c} per channel (the input gradient with the sums folded in),
     * {@code g} as in {@link #gradientSums}.
     */
    static void inputGradient(FloatBuffer x, FloatBuffer dy, FloatBuffer dx, int n, int c, int hw, float[] center,
                              float[] kdy, float[] kx, float[] k0, float[] reluScale, float[] reluShift) {
        forEachChunk(x, dy, dx, n, c, hw, 0, (a, b, c0, planes, acc) -> {
            for (int p = 0; p < planes; p++) {
                float k = center[c0 + p];
                float u = kx[c0 + p];
                float v = kdy[c0 + p];
                float w = k0[c0 + p];
                int end = (p + 1) * hw;
                if (reluScale != null) {
                    float rs = reluScale[c0 + p];
                    float rt = reluShift[c0 + p];
                    for (int i = p * hw; i < end; i++) {
                        float xc = a[i] - k;
                        a[i] = v * (b[i] * step(rs * xc + rt)) + u * xc + w;
                    }
                } else {
                    for (int i = p * hw; i < end; i++) {
                        a[i] = v * b[i] + u * (a[i] - k) + w;
                    }
                }
            }
        });
    }
}
