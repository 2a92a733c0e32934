package org.umm4j.backend;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link NarrowConvHelper}: the backward pass of a stride-1 "same" convolution through libnd4j's transposed
 * convolution ops, against a float64 evaluation of the convolution's gradients in plain loops and against DL4J's own
 * oneDNN helper; the weight-gradient-only mode; and the fallbacks to DL4J's helper.
 */
class NarrowConvHelperTest {

    private static INDArray random(long seed, long... shape) {
        return TestArrays.gaussian(seed, shape);
    }

    /** dL/dx, dL/dW, dL/db of y = conv(x, W) + b (cross-correlation, padding p, stride 1) in float64 loops. */
    private static double[][] reference(INDArray xa, INDArray wa, INDArray dya, int p) {
        double[][] r = ConvReference.convolution(xa, wa, null, dya, 1, p, 1);
        return new double[][]{r[1], r[2], r[3]};
    }

    private static double relDiff(INDArray got, double[] want) {
        return ConvReference.relDiff(got, want);
    }

    private static Pair<Gradient, INDArray> backward(MKLDNNConvHelper h, INDArray x, INDArray w, INDArray dy,
                                                     int k, int stride, int p, INDArray dW, INDArray db) {
        return h.backpropGradient(x, w, Nd4j.zeros(DataType.FLOAT, 1, w.size(0)), dy, new int[]{k, k},
                new int[]{stride, stride}, new int[]{p, p}, db, dW, new ActivationIdentity(),
                ConvolutionLayer.AlgoMode.PREFER_FASTEST, null, null, ConvolutionMode.Truncate, new int[]{1, 1},
                CNN2DFormat.NCHW, LayerWorkspaceMgr.noWorkspaces());
    }

    @Test
    void gradientsMatchFloat64LoopsAndDl4jsHelper() {
        assumeTrue(Umm4jBackend.init(), "oneDNN fast path not available");
        int[][] cases = {{3, 5, 9, 3, 1}, {16, 16, 8, 3, 1}, {4, 6, 7, 5, 2}, {16, 8, 6, 1, 0}};
        for (int[] cs : cases) {
            int c = cs[0], o = cs[1], hw = cs[2], k = cs[3], p = cs[4];
            INDArray x = random(1 + c, 3, c, hw, hw);
            INDArray w = random(2 + o, o, c, k, k).muli(0.3);
            INDArray dy = random(3 + hw, 3, o, hw, hw);
            double[][] ref = reference(x, w, dy, p);
            String what = c + "->" + o + " k" + k + " at " + hw + "x" + hw;
            for (boolean bias : new boolean[]{true, false}) {
                INDArray dW = Nd4j.zeros(DataType.FLOAT, o, c, k, k);
                INDArray db = Nd4j.zeros(DataType.FLOAT, 1, o);
                Pair<Gradient, INDArray> r = backward(new NarrowConvHelper(DataType.FLOAT, true, bias), x, w, dy, k,
                        1, p, dW, db);
                assertTrue(relDiff(r.getSecond(), ref[0]) < 2e-6, what + " dL/dx " + relDiff(r.getSecond(), ref[0]));
                assertTrue(relDiff(dW, ref[1]) < 2e-6, what + " dL/dW " + relDiff(dW, ref[1]));
                assertSame(dW, r.getFirst().getGradientFor("W"));
                if (bias) {
                    assertTrue(relDiff(db, ref[2]) < 2e-6, what + " dL/db " + relDiff(db, ref[2]));
                } else {
                    assertEquals(0.0, db.amaxNumber().doubleValue(), "no bias, gradient untouched");
                }
                // DL4J's helper on the same call
                INDArray dW2 = Nd4j.zeros(DataType.FLOAT, o, c, k, k);
                INDArray db2 = Nd4j.zeros(DataType.FLOAT, 1, o);
                Pair<Gradient, INDArray> d = backward(new MKLDNNConvHelper(DataType.FLOAT), x, w, dy, k, 1, p, dW2, db2);
                assertTrue(relDiff(d.getSecond(), ref[0]) < 2e-5, what + " DL4J dL/dx");
                assertTrue(relDiff(dW2, ref[1]) < 2e-5, what + " DL4J dL/dW");
            }

            // weight gradient only: dL/dx is zeros of the input's shape
            INDArray dW = Nd4j.zeros(DataType.FLOAT, o, c, k, k);
            Pair<Gradient, INDArray> r = backward(new NarrowConvHelper(DataType.FLOAT, false, false), x, w, dy, k, 1,
                    p, dW, Nd4j.zeros(DataType.FLOAT, 1, o));
            assertTrue(relDiff(dW, ref[1]) < 2e-6, what + " weights-only dL/dW");
            assertEquals(0.0, r.getSecond().amaxNumber().doubleValue(), what + " weights-only dL/dx");
            assertEquals(java.util.Arrays.toString(x.shape()), java.util.Arrays.toString(r.getSecond().shape()));
        }
    }

    @Test
    void otherConvolutionsKeepDl4jsBackwardPass() {
        assumeTrue(Umm4jBackend.init(), "oneDNN fast path not available");
        // stride 2 (not "same"), and a wide layer (more than 16 channels) with the input gradient wanted
        INDArray x = random(5, 2, 4, 8, 8);
        INDArray w = random(6, 6, 4, 3, 3);
        INDArray dy = random(7, 2, 6, 4, 4);
        INDArray dW1 = Nd4j.zeros(DataType.FLOAT, 6, 4, 3, 3);
        INDArray dW2 = Nd4j.zeros(DataType.FLOAT, 6, 4, 3, 3);
        INDArray e1 = backward(new NarrowConvHelper(DataType.FLOAT, false, false), x, w, dy, 3, 2, 1, dW1,
                Nd4j.zeros(DataType.FLOAT, 1, 6)).getSecond();
        INDArray e2 = backward(new MKLDNNConvHelper(DataType.FLOAT), x, w, dy, 3, 2, 1, dW2,
                Nd4j.zeros(DataType.FLOAT, 1, 6)).getSecond();
        assertEquals(e2, e1, "stride 2 goes to DL4J's helper, input gradient included");
        assertEquals(dW2, dW1);
        assertTrue(e1.amaxNumber().doubleValue() > 0);
        assertTrue(NarrowConvHelper.eligible(16, 16, true));
        assertTrue(!NarrowConvHelper.eligible(17, 16, true) && !NarrowConvHelper.eligible(16, 32, true));
        assertTrue(NarrowConvHelper.eligible(3, 512, false), "weights-only at any width");
    }
}
