package org.umm4j.backend;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link NchwBatchNorm}'s streaming kernels against the BatchNorm formulas evaluated in double, on shapes that take
 * every branch: one sample, a sample block larger than one chunk (chunks of whole planes, a short last chunk),
 * planes longer than a float block and not a multiple of four, 1x1 planes, and a mean 1000 times the standard
 * deviation (the one-pass variance must not cancel).
 */
class NchwBatchNormTest {

    private static FloatBuffer buffer(float[] v) {
        FloatBuffer b = ByteBuffer.allocateDirect(v.length * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        b.put(v).flip();
        return b;
    }

    private static float[] values(long seed, int len, double mean, double std) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[len];
        for (int i = 0; i < len; i++) {
            v[i] = (float) (mean + std * r.nextGaussian());
        }
        return v;
    }

    private static double relErr(double got, double want) {
        return Math.abs(got - want) / Math.max(1e-30, Math.abs(want));
    }

    @Test
    void branchFreeStepIsTheReluDerivative() {
        float[] positive = {Float.MIN_VALUE, Float.MIN_NORMAL, 1e-30f, 1f, 3e38f, Float.MAX_VALUE, Float.POSITIVE_INFINITY};
        for (float v : positive) {
            assertEquals(1f, NchwBatchNorm.step(v), 0f, "step(" + v + ")");
        }
        float[] nonPositive = {0f, -0f, -Float.MIN_VALUE, -1f, -Float.MAX_VALUE, Float.NEGATIVE_INFINITY};
        for (float v : nonPositive) {
            assertEquals(0f, NchwBatchNorm.step(v), 0f, "step(" + v + ")");
        }
        assertTrue(Float.isNaN(NchwBatchNorm.step(Float.NaN)), "NaN stays visible");
    }

    @Test
    void kernelsMatchFloat64FormulasOnEveryBranch() {
        int[][] shapes = {{1, 3, 5, 7}, {3, 40, 33, 33}, {5, 7, 1, 1}, {2, 2, 64, 64}, {9, 4, 2, 2}};
        for (int[] s : shapes) {
            for (double offset : new double[]{0.3, 1000}) {
                check(s[0], s[1], s[2] * s[3], offset);
            }
        }
        assertTrue(40 * 33 * 33 > NchwBatchNorm.CHUNK && 33 * 33 > NchwBatchNorm.BLOCK && 64 * 64 > NchwBatchNorm.BLOCK,
                "the shapes cover several chunks per sample and several blocks per plane");
    }

    private static void check(int n, int c, int hw, double offset) {
        String what = n + "x" + c + "x" + hw + " mean " + offset;
        int len = n * c * hw;
        float[] x = values(7 + len, len, 0, 1);
        for (int i = 0; i < len; i++) {
            int ch = (i / hw) % c;
            x[i] = (float) (offset * (1 + 0.1 * ch) + (0.5 + ch % 3) * x[i]);
        }
        float[] dy = values(11 + len, len, 0.2, 1);
        double m = (double) n * hw;
        double[] mu = new double[c];
        double[] var = new double[c];
        for (int i = 0; i < len; i++) {
            mu[(i / hw) % c] += x[i] / m;
        }
        for (int i = 0; i < len; i++) {
            double d = x[i] - mu[(i / hw) % c];
            var[(i / hw) % c] += d * d / m;
        }
        double[] gotMu = new double[c];
        double[] gotVar = new double[c];
        FloatBuffer xb = buffer(x);
        NchwBatchNorm.statistics(xb, n, c, hw, gotMu, gotVar);
        for (int ch = 0; ch < c; ch++) {
            double sd = Math.sqrt(var[ch]);
            assertEquals(mu[ch], gotMu[ch], 1e-6 * sd + 1e-7 * Math.abs(mu[ch]), what + " mean " + ch);
            assertTrue(relErr(gotVar[ch], var[ch]) < (offset > 1 ? 1e-4 : 1e-6),
                    what + " variance " + ch + ": " + gotVar[ch] + " vs " + var[ch]);
        }

        float[] center = new float[c];
        float[] scale = new float[c];
        float[] shift = new float[c];
        for (int ch = 0; ch < c; ch++) {
            center[ch] = (float) mu[ch];
            scale[ch] = (float) (1.5 / Math.sqrt(var[ch] + 1e-5));
            shift[ch] = 0.25f - (ch % 3);
        }
        FloatBuffer y = buffer(new float[len]);
        NchwBatchNorm.affine(xb, y, n, c, hw, center, scale, shift, false);
        double maxErr = 0;
        for (int i = 0; i < len; i++) {
            int ch = (i / hw) % c;
            double t = scale[ch] * ((double) x[i] - center[ch]);
            double scaleOfTerms = Math.abs(t) + Math.abs(shift[ch]) + Math.ulp((float) x[i]) * Math.abs(scale[ch]);
            maxErr = Math.max(maxErr, Math.abs(y.get(i) - (t + shift[ch])) / scaleOfTerms);
        }
        assertTrue(maxErr < 4e-7, what + " affine " + maxErr);

        double[] sumDy = new double[c];
        double[] sumDyXc = new double[c];
        FloatBuffer dyb = buffer(dy);
        NchwBatchNorm.gradientSums(xb, dyb, n, c, hw, mu, sumDy, sumDyXc, center, null, null);
        double[] wantDy = new double[c];
        double[] wantDyXc = new double[c];
        double[] absDy = new double[c];
        double[] absDyXc = new double[c];
        for (int i = 0; i < len; i++) {
            int ch = (i / hw) % c;
            wantDy[ch] += dy[i];
            wantDyXc[ch] += dy[i] * (x[i] - mu[ch]);
            absDy[ch] += Math.abs(dy[i]);
            absDyXc[ch] += Math.abs(dy[i] * (x[i] - mu[ch]));
        }
        for (int ch = 0; ch < c; ch++) {
            // float partial sums: error bounded by ~1e-6 of the sum of magnitudes
            assertEquals(wantDy[ch], sumDy[ch], 1e-6 * absDy[ch], what + " sum dy " + ch);
            assertEquals(wantDyXc[ch], sumDyXc[ch], 1e-6 * absDyXc[ch] + 1e-7 * Math.abs(mu[ch]) * absDy[ch],
                    what + " sum dy (x - mean) " + ch);
        }

        float[] kdy = new float[c];
        float[] kx = new float[c];
        float[] k0 = new float[c];
        for (int ch = 0; ch < c; ch++) {
            kdy[ch] = 0.5f + ch;
            kx[ch] = -0.25f * ch;
            k0[ch] = 0.125f;
        }
        FloatBuffer dx = buffer(new float[len]);
        NchwBatchNorm.inputGradient(xb, dyb, dx, n, c, hw, center, kdy, kx, k0, null, null);
        maxErr = 0;
        for (int i = 0; i < len; i++) {
            int ch = (i / hw) % c;
            double t1 = kdy[ch] * (double) dy[i];
            double t2 = kx[ch] * ((double) x[i] - center[ch]);
            // float rounding of each term and of the sums: relative to the terms' magnitudes, not to the result's
            double scaleOfTerms = Math.abs(t1) + Math.abs(t2) + Math.abs(k0[ch]) + Math.ulp((float) x[i]) * Math.abs(kx[ch]);
            maxErr = Math.max(maxErr, Math.abs(dx.get(i) - (t1 + t2 + k0[ch])) / scaleOfTerms);
        }
        assertTrue(maxErr < 4e-7, what + " input gradient " + maxErr);

        // with the ReLU fused: y = max(affine, 0); the gradient passes only where the affine output was > 0
        FloatBuffer yr = buffer(new float[len]);
        NchwBatchNorm.affine(xb, yr, n, c, hw, center, scale, shift, true);
        boolean[] on = new boolean[len];
        int passing = 0;
        for (int i = 0; i < len; i++) {
            assertEquals(Math.max(0f, y.get(i)), yr.get(i), 0f, what + " relu output " + i);
            on[i] = y.get(i) > 0;
            passing += on[i] ? 1 : 0;
        }
        assertTrue(passing > len / 10 && passing < len - len / 10, what + " both sides of the ReLU: " + passing);
        NchwBatchNorm.gradientSums(xb, dyb, n, c, hw, mu, sumDy, sumDyXc, center, scale, shift);
        java.util.Arrays.fill(wantDy, 0);
        java.util.Arrays.fill(wantDyXc, 0);
        for (int i = 0; i < len; i++) {
            int ch = (i / hw) % c;
            double g = on[i] ? dy[i] : 0;
            wantDy[ch] += g;
            wantDyXc[ch] += g * (x[i] - mu[ch]);
        }
        for (int ch = 0; ch < c; ch++) {
            assertEquals(wantDy[ch], sumDy[ch], 1e-6 * absDy[ch], what + " relu sum dy " + ch);
            assertEquals(wantDyXc[ch], sumDyXc[ch], 1e-6 * absDyXc[ch] + 1e-7 * Math.abs(mu[ch]) * absDy[ch],
                    what + " relu sum dy (x - mean) " + ch);
        }
        FloatBuffer dxr = buffer(new float[len]);
        NchwBatchNorm.inputGradient(xb, dyb, dxr, n, c, hw, center, kdy, kx, k0, scale, shift);
        maxErr = 0;
        for (int i = 0; i < len; i++) {
            int ch = (i / hw) % c;
            double t1 = on[i] ? kdy[ch] * (double) dy[i] : 0;
            double t2 = kx[ch] * ((double) x[i] - center[ch]);
            double scaleOfTerms = Math.abs(t1) + Math.abs(t2) + Math.abs(k0[ch]) + Math.ulp((float) x[i]) * Math.abs(kx[ch]);
            maxErr = Math.max(maxErr, Math.abs(dxr.get(i) - (t1 + t2 + k0[ch])) / scaleOfTerms);
        }
        assertTrue(maxErr < 4e-7, what + " relu input gradient " + maxErr);
    }
}
