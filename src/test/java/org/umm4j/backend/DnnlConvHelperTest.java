package org.umm4j.backend;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ConvolutionUtils;
import org.junit.jupiter.api.Test;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link DnnlConvHelper}: forward and backward passes of convolutions with strides, asymmetric and "same" padding,
 * dilation, 1x1 and 5x5 kernels, with and without bias, against float64 loops; operands that are views into a larger
 * buffer (as DL4J's parameters are); the weight-gradient-only mode; scratch buffers shared by two helpers across
 * changing batch sizes; and the fallback to DL4J's helper for arrays it does not take.
 */
class DnnlConvHelperTest {
    /** Winograd threshold that keeps every layer on the direct algorithm. */
    private static final int DIRECT = Integer.MAX_VALUE;

    private static INDArray random(long seed, long... shape) {
        return TestArrays.gaussian(seed, shape);
    }

    /** A convolution case; pad < 0 means ConvolutionMode.Same. */
    private record Case(int n, int c, int o, int hw, int k, int stride, int pad, int dilation) {
        ConvolutionMode mode() {
            return pad < 0 ? ConvolutionMode.Same : ConvolutionMode.Truncate;
        }

        int[] out(INDArray x) {
            return ConvolutionUtils.getOutputSize(x, new int[]{k, k}, new int[]{stride, stride},
                    pad < 0 ? null : new int[]{pad, pad}, mode(), new int[]{dilation, dilation}, CNN2DFormat.NCHW);
        }

        int padLeft(INDArray x) {
            return pad >= 0 ? pad : ConvolutionUtils.getSameModeTopLeftPadding(out(x), new int[]{hw, hw},
                    new int[]{k, k}, new int[]{stride, stride}, new int[]{dilation, dilation})[0];
        }

        @Override
        public String toString() {
            return c + "->" + o + " k" + k + " s" + stride + " p" + (pad < 0 ? "same" : pad) + " d" + dilation
                    + " on " + n + "x" + c + "x" + hw + "x" + hw;
        }
    }

    /** One case with its random data (seeds offset by {@code seed}), with or without bias, and float64 results. */
    private record Problem(Case cs, INDArray x, INDArray w, INDArray b, INDArray dy, double[][] ref, String what) {
        boolean bias() {
            return b != null;
        }
    }

    private static java.util.List<Problem> problems(Case[] cases, long seed) {
        java.util.List<Problem> list = new java.util.ArrayList<>();
        for (Case cs : cases) {
            INDArray x = random(seed + 1 + cs.c, cs.n, cs.c, cs.hw, cs.hw);
            INDArray w = random(seed + 2 + cs.o, cs.o, cs.c, cs.k, cs.k).muli(0.3);
            int[] out = cs.out(x);
            INDArray dy = random(seed + 3 + cs.hw, cs.n, cs.o, out[0], out[1]);
            for (boolean bias : new boolean[]{true, false}) {
                INDArray b = bias ? random(seed + 4, 1, cs.o) : null;
                list.add(new Problem(cs, x, w, b, dy, reference(x, w, b, dy, cs.stride, cs.padLeft(x), cs.dilation),
                        cs + (bias ? " with bias" : " without bias")));
            }
        }
        return list;
    }

    private static double[][] reference(INDArray x, INDArray w, INDArray b, INDArray dy, int s, int p, int d) {
        return ConvReference.convolution(x, w, b, dy, s, p, d);
    }

    private static double relDiff(INDArray got, double[] want) {
        return ConvReference.relDiff(got, want);
    }

    private static INDArray forward(MKLDNNConvHelper h, Case cs, INDArray x, INDArray w, INDArray b) {
        return h.preOutput(x, w, b, new int[]{cs.k, cs.k}, new int[]{cs.stride, cs.stride},
                new int[]{Math.max(cs.pad, 0), Math.max(cs.pad, 0)}, ConvolutionLayer.AlgoMode.PREFER_FASTEST, null,
                cs.mode(), new int[]{cs.dilation, cs.dilation}, CNN2DFormat.NCHW, LayerWorkspaceMgr.noWorkspaces());
    }

    private static Pair<Gradient, INDArray> backward(MKLDNNConvHelper h, Case cs, INDArray x, INDArray w, INDArray b,
                                                     INDArray dy, INDArray dW, INDArray db) {
        return h.backpropGradient(x, w, b, dy, new int[]{cs.k, cs.k}, new int[]{cs.stride, cs.stride},
                new int[]{Math.max(cs.pad, 0), Math.max(cs.pad, 0)}, db, dW, new ActivationIdentity(),
                ConvolutionLayer.AlgoMode.PREFER_FASTEST, null, null, cs.mode(), new int[]{cs.dilation, cs.dilation},
                CNN2DFormat.NCHW, LayerWorkspaceMgr.noWorkspaces());
    }

    @Test
    void forwardAndGradientsMatchFloat64Loops() {
        assumeTrue(Umm4jBackend.init(), "oneDNN fast path not available");
        DnnlContext ctx = DnnlContext.create();
        Case[] cases = {
                new Case(3, 3, 5, 9, 3, 1, 1, 1),     // narrow, odd sizes
                new Case(2, 16, 16, 8, 3, 1, 1, 1),   // blocked layouts
                new Case(2, 16, 32, 8, 3, 2, 1, 1),   // stride 2: right padding 0, left 1
                new Case(2, 8, 16, 8, 1, 2, 0, 1),    // 1x1 shortcut
                new Case(2, 4, 6, 7, 5, 1, 2, 1),     // 5x5
                new Case(2, 4, 4, 9, 3, 1, 2, 2),     // dilation 2
                new Case(2, 5, 7, 10, 3, 2, -1, 1),   // "same" with stride 2 on an even size
                new Case(1, 32, 48, 5, 3, 1, 0, 1),   // no padding, wide
        };
        for (Problem pr : problems(cases, 0)) {
            int[] out = pr.cs().out(pr.x());
            DnnlConvHelper h = new DnnlConvHelper(DataType.FLOAT, ctx, true, DIRECT);
            INDArray y = forward(h, pr.cs(), pr.x(), pr.w(), pr.b());
            assertNotNull(h.lastGeometry(), pr.what() + ": oneDNN path taken");
            assertArrayEquals(new long[]{pr.cs().n, pr.cs().o, out[0], out[1]}, y.shape(), pr.what());
            assertTrue(relDiff(y, pr.ref()[0]) < 2e-6, pr.what() + " y " + relDiff(y, pr.ref()[0]));

            INDArray dW = Nd4j.zeros(DataType.FLOAT, pr.cs().o, pr.cs().c, pr.cs().k, pr.cs().k);
            INDArray db = pr.bias() ? Nd4j.zeros(DataType.FLOAT, 1, pr.cs().o) : null;
            Pair<Gradient, INDArray> r = backward(h, pr.cs(), pr.x(), pr.w(), pr.b(), pr.dy(), dW, db);
            assertTrue(relDiff(r.getSecond(), pr.ref()[1]) < 2e-6,
                    pr.what() + " dL/dx " + relDiff(r.getSecond(), pr.ref()[1]));
            assertTrue(relDiff(dW, pr.ref()[2]) < 2e-6, pr.what() + " dL/dW " + relDiff(dW, pr.ref()[2]));
            assertSame(dW, r.getFirst().getGradientFor("W"));
            if (pr.bias()) {
                assertTrue(relDiff(db, pr.ref()[3]) < 2e-6, pr.what() + " dL/db " + relDiff(db, pr.ref()[3]));
                assertSame(db, r.getFirst().getGradientFor("b"));
            } else {
                assertNull(r.getFirst().getGradientFor("b"));
            }

            // weight gradient only: dL/dx is zeros of the input's shape
            DnnlConvHelper wOnly = new DnnlConvHelper(DataType.FLOAT, ctx, false, DIRECT);
            INDArray dW2 = Nd4j.zeros(DataType.FLOAT, pr.cs().o, pr.cs().c, pr.cs().k, pr.cs().k);
            Pair<Gradient, INDArray> r2 = backward(wOnly, pr.cs(), pr.x(), pr.w(), pr.b(), pr.dy(), dW2,
                    pr.bias() ? Nd4j.zeros(DataType.FLOAT, 1, pr.cs().o) : null);
            assertEquals(dW, dW2, pr.what() + " weights-only dL/dW");
            assertArrayEquals(pr.x().shape(), r2.getSecond().shape());
            assertEquals(0.0, r2.getSecond().amaxNumber().doubleValue(), pr.what() + " weights-only dL/dx");
        }
    }

    @Test
    void winogradLayersMatchFloat64Loops() {
        assumeTrue(Umm4jBackend.init(), "oneDNN fast path not available");
        DnnlContext ctx = DnnlContext.create();
        // the shared scratch buffers first hold NaN from a larger layer: Winograd must not read past its operands
        DnnlConvHelper big = new DnnlConvHelper(DataType.FLOAT, ctx, true, DIRECT);
        Case bc = new Case(16, 16, 16, 16, 3, 1, 1, 1);
        INDArray nan = Nd4j.valueArrayOf(new long[]{16, 16, 16, 16}, Float.NaN);
        INDArray bw = random(1, 16, 16, 3, 3);
        forward(big, bc, nan, bw, null);
        backward(big, bc, nan, bw, null, nan, Nd4j.zeros(DataType.FLOAT, 16, 16, 3, 3), null);
        Case[] cases = {
                new Case(4, 32, 32, 8, 3, 1, 1, 1),   // ResNet's 3x3 stride-1 layers
                new Case(3, 48, 32, 7, 3, 1, 1, 1),   // odd map size: partial 4x4 tiles
                new Case(2, 32, 64, 6, 3, 1, 0, 1),   // no padding
                new Case(16, 64, 64, 4, 3, 1, 1, 1),  // one tile per map (ResNet's last stages on 16x16 inputs)
                new Case(16, 128, 128, 2, 3, 1, 1, 1), // maps smaller than a tile
        };
        for (Problem pr : problems(cases, 10)) {
            DnnlConvHelper h = new DnnlConvHelper(DataType.FLOAT, ctx, true, 32);
            INDArray y = forward(h, pr.cs(), pr.x(), pr.w(), pr.b());
            assumeTrue(h.lastImplementation().contains("wino"), "no Winograd kernels for this CPU: "
                    + h.lastImplementation());
            INDArray dW = Nd4j.zeros(DataType.FLOAT, pr.cs().o, pr.cs().c, pr.cs().k, pr.cs().k);
            INDArray db = pr.bias() ? Nd4j.zeros(DataType.FLOAT, 1, pr.cs().o) : null;
            Pair<Gradient, INDArray> r = backward(h, pr.cs(), pr.x(), pr.w(), pr.b(), pr.dy(), dW, db);
            // oneDNN's F(4x4, 3x3) kernels round about as direct sums do here (measured 1e-7 .. 7e-7)
            double[] errors = {relDiff(y, pr.ref()[0]), relDiff(r.getSecond(), pr.ref()[1]), relDiff(dW, pr.ref()[2]),
                    pr.bias() ? relDiff(db, pr.ref()[3]) : 0};
            for (int i = 0; i < errors.length; i++) {
                assertTrue(errors[i] < 2e-6, pr.what() + " " + new String[]{"y", "dL/dx", "dL/dW", "dL/db"}[i] + " "
                        + errors[i]);
            }
        }
    }

    @Test
    void winogradFollowsTheChannelThreshold() {
        assumeTrue(Umm4jBackend.init(), "oneDNN fast path not available");
        DnnlContext ctx = DnnlContext.create();
        Case narrow = new Case(2, 16, 16, 8, 3, 1, 1, 1);
        Case wide = new Case(2, 32, 32, 8, 3, 1, 1, 1);
        Case strided = new Case(2, 32, 32, 8, 3, 2, 1, 1);
        INDArray xn = random(1, 2, 16, 8, 8);
        INDArray xw = random(2, 2, 32, 8, 8);
        INDArray wn = random(3, 16, 16, 3, 3);
        INDArray ww = random(4, 32, 32, 3, 3);
        DnnlConvHelper auto = new DnnlConvHelper(DataType.FLOAT, ctx, true, 32);
        forward(auto, narrow, xn, wn, null);
        assertTrue(!auto.lastImplementation().contains("wino"), "16 channels: direct " + auto.lastImplementation());
        forward(auto, strided, xw, ww, null);
        assertTrue(!auto.lastImplementation().contains("wino"), "stride 2: direct " + auto.lastImplementation());
        DnnlConvHelper direct = new DnnlConvHelper(DataType.FLOAT, ctx, true, DIRECT);
        forward(direct, wide, xw, ww, null);
        assertTrue(!direct.lastImplementation().contains("wino"), "off: direct " + direct.lastImplementation());
        forward(auto, wide, xw, ww, null);
        assumeTrue(auto.lastImplementation().contains("wino"), "no Winograd kernels for this CPU");
        DnnlConvHelper all = new DnnlConvHelper(DataType.FLOAT, ctx, true, 1);
        forward(all, narrow, xn, wn, null);
        assertTrue(all.lastImplementation().contains("wino"), "all: " + all.lastImplementation());
    }

    @Test
    void viewsIntoLargerBuffersAreReadAndWrittenInPlace() {
        assumeTrue(Umm4jBackend.init(), "oneDNN fast path not available");
        Case cs = new Case(2, 16, 16, 6, 3, 1, 1, 1);
        // DL4J keeps all parameters (and all gradients) in one flat array; W and b are views at offsets into it
        long nw = 16 * 16 * 9;
        INDArray params = random(11, 1, 7 + nw + 16);
        INDArray w = params.get(NDArrayIndex.point(0), NDArrayIndex.interval(7, 7 + nw)).reshape('c', 16, 16, 3, 3);
        INDArray b = params.get(NDArrayIndex.interval(0, 1), NDArrayIndex.interval(7 + nw, 7 + nw + 16));
        assertTrue(w.isView() && w.offset() > 0 && b.offset() > 0, "test setup: views at offsets");
        INDArray grads = Nd4j.zeros(DataType.FLOAT, 1, 5 + nw + 16);
        INDArray dW = grads.get(NDArrayIndex.point(0), NDArrayIndex.interval(5, 5 + nw)).reshape('c', 16, 16, 3, 3);
        INDArray db = grads.get(NDArrayIndex.interval(0, 1), NDArrayIndex.interval(5 + nw, 5 + nw + 16));
        INDArray batch = random(12, 3, 16, 6, 6);
        INDArray x = batch.get(NDArrayIndex.interval(1, 3)); // samples 1 and 2: a view at an offset
        INDArray dy = random(13, 2, 16, 6, 6);
        double[][] ref = reference(x, w, b, dy, 1, 1, 1);

        DnnlConvHelper h = new DnnlConvHelper(DataType.FLOAT, DnnlContext.create(), true, DIRECT);
        assertTrue(relDiff(forward(h, cs, x, w, b), ref[0]) < 2e-6);
        assertNotNull(h.lastGeometry());
        Pair<Gradient, INDArray> r = backward(h, cs, x, w, b, dy, dW, db);
        assertTrue(relDiff(r.getSecond(), ref[1]) < 2e-6);
        assertTrue(relDiff(dW, ref[2]) < 2e-6, "dW written into the gradient view " + relDiff(dW, ref[2]));
        assertTrue(relDiff(db, ref[3]) < 2e-6, "db written into the gradient view");
        assertEquals(0.0, grads.get(NDArrayIndex.point(0), NDArrayIndex.interval(0, 5)).amaxNumber().doubleValue(),
                "nothing written before the views");
    }

    @Test
    void helpersSharingScratchBuffersSurviveChangingBatchSizes() {
        assumeTrue(Umm4jBackend.init(), "oneDNN fast path not available");
        DnnlContext ctx = DnnlContext.create();
        Case a = new Case(2, 16, 16, 8, 3, 1, 1, 1);
        Case b = new Case(2, 16, 32, 8, 3, 2, 1, 1);
        DnnlConvHelper ha = new DnnlConvHelper(DataType.FLOAT, ctx, true, DIRECT);
        DnnlConvHelper hb = new DnnlConvHelper(DataType.FLOAT, ctx, true, DIRECT);
        INDArray wa = random(21, 16, 16, 3, 3);
        INDArray wb = random(22, 32, 16, 3, 3);
        long before = 0;
        for (int n : new int[]{2, 5, 1, 5}) {
            INDArray x = random(23 + n, n, 16, 8, 8);
            INDArray ya = forward(ha, a, x, wa, null);
            INDArray yb = forward(hb, b, ya, wb, null);
            INDArray dyb = random(24 + n, n, 32, 4, 4);
            INDArray dWb = Nd4j.zeros(DataType.FLOAT, 32, 16, 3, 3);
            INDArray dya = backward(hb, b, ya, wb, null, dyb, dWb, null).getSecond();
            INDArray dWa = Nd4j.zeros(DataType.FLOAT, 16, 16, 3, 3);
            INDArray dx = backward(ha, a, x, wa, null, dya, dWa, null).getSecond();

            double[][] rb = reference(ya, wb, null, dyb, 2, 1, 1);
            INDArray yaRef = Nd4j.create(reference(x, wa, null, Nd4j.zeros(DataType.FLOAT, n, 16, 8, 8), 1, 1, 1)[0],
                    new long[]{n, 16, 8, 8}, 'c').castTo(DataType.FLOAT);
            assertTrue(relDiff(ya, yaRef.castTo(DataType.DOUBLE).data().asDouble()) < 2e-6, "batch " + n + " ya");
            assertTrue(relDiff(yb, rb[0]) < 2e-6, "batch " + n + " yb");
            assertTrue(relDiff(dWb, rb[2]) < 2e-6, "batch " + n + " dWb");
            double[][] ra = reference(x, wa, null, dya, 1, 1, 1);
            assertTrue(relDiff(dWa, ra[2]) < 2e-6, "batch " + n + " dWa");
            assertTrue(relDiff(dx, ra[1]) < 2e-6, "batch " + n + " dx");
            assertTrue(ctx.scratchBytes() >= before, "scratch only grows");
            before = ctx.scratchBytes();
        }
        assertEquals(5, ha.lastGeometry().n());
    }

    @Test
    void arraysItDoesNotTakeGoToDl4jsHelper() {
        assumeTrue(Umm4jBackend.init(), "oneDNN fast path not available");
        Case cs = new Case(2, 4, 6, 8, 3, 1, 1, 1);
        INDArray x = random(31, 2, 8, 8, 4).permute(0, 3, 1, 2); // NCHW shape, not C-contiguous
        INDArray w = random(32, 6, 4, 3, 3);
        DnnlConvHelper h = new DnnlConvHelper(DataType.FLOAT, DnnlContext.create(), true, DIRECT);
        INDArray y = forward(h, cs, x, w, null);
        assertNull(h.lastGeometry(), "permuted input: parent's code");
        assertEquals(forward(new MKLDNNConvHelper(DataType.FLOAT), cs, x, w, null), y,
                "the parent's answer (null: DL4J's built-in path then runs)");
        INDArray dy = random(33, 2, 6, 8, 8);
        double[][] ref = reference(x, w, null, dy, 1, 1, 1);
        INDArray dW = Nd4j.zeros(DataType.FLOAT, 6, 4, 3, 3);
        backward(h, cs, x, w, null, dy, dW, null);
        assertTrue(relDiff(dW, ref[2]) < 2e-5, "parent's backward");
        assertNull(h.lastGeometry());
        // DOUBLE arrays, NHWC
        INDArray xd = random(34, 2, 4, 8, 8).castTo(DataType.DOUBLE);
        assertNull(DnnlConvHelper.Geometry.of(xd, w.castTo(DataType.DOUBLE), null, new int[]{3, 3},
                new int[]{1, 1}, new int[]{1, 1}, ConvolutionMode.Truncate, new int[]{1, 1}, CNN2DFormat.NCHW));
        assertNull(DnnlConvHelper.Geometry.of(random(35, 2, 8, 8, 4), w, null, new int[]{3, 3}, new int[]{1, 1},
                new int[]{1, 1}, ConvolutionMode.Truncate, new int[]{1, 1}, CNN2DFormat.NHWC), "NHWC");
        assertEquals(Arrays.toString(new long[]{1, 1}), Arrays.toString(DnnlConvHelper.Geometry.of(
                random(36, 2, 4, 8, 8), w, null, new int[]{3, 3}, new int[]{1, 1}, new int[]{1, 1},
                ConvolutionMode.Truncate, new int[]{1, 1}, CNN2DFormat.NCHW).padR()));
    }
}
