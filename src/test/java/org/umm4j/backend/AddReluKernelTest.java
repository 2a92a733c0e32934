package org.umm4j.backend;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link AddReluKernel}: {@code max(a + b, 0)} and {@code dy [y > 0]} against loops in double, on oneDNN (contiguous
 * FLOAT arrays, lengths changing between calls) and on the ND4J fallback (strided views, DOUBLE), with exact zeros
 * in the sum (the mask is off there, as for the ReLU's derivative everywhere in umm4j).
 */
class AddReluKernelTest {

    private static void check(AddReluKernel k, INDArray a, INDArray b, INDArray dy, String what) {
        INDArray y = Nd4j.createUninitialized(a.dataType(), a.shape());
        k.forward(a, b, y);
        INDArray g = Nd4j.createUninitialized(a.dataType(), a.shape());
        k.backward(y, dy, g);
        double[] av = a.dup().data().asDouble();
        double[] bv = b.dup().data().asDouble();
        double[] dv = dy.dup().data().asDouble();
        double[] yv = y.data().asDouble();
        double[] gv = g.data().asDouble();
        for (int i = 0; i < av.length; i++) {
            float s = (float) av[i] + (float) bv[i];
            double want = a.dataType() == DataType.FLOAT ? Math.max(s, 0f) : Math.max(av[i] + bv[i], 0);
            assertEquals(want, yv[i], 0.0, what + " y[" + i + "]");
            assertEquals(want > 0 ? dv[i] : 0.0, gv[i], 0.0, what + " dL/dx[" + i + "]");
        }
    }

    @Test
    void forwardAndBackwardMatchLoops() {
        AddReluKernel k = AddReluKernel.create();
        for (long[] shape : new long[][]{{4, 16, 8, 8}, {3, 5}, {2, 32, 3, 3}, {4, 16, 8, 8}}) {
            INDArray a = TestArrays.gaussian(1 + shape.length, shape);
            INDArray b = TestArrays.gaussian(2 + shape[0], shape);
            b.putScalar(0, -a.getFloat(0)); // an exact zero sum
            INDArray dy = TestArrays.gaussian(3, shape);
            check(k, a, b, dy, java.util.Arrays.toString(shape));
        }
        // strided views and another data type take ND4J's ops
        INDArray big = TestArrays.gaussian(5, 6, 10);
        INDArray view = big.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 2, 10));
        check(k, view, TestArrays.gaussian(6, 6, 5), TestArrays.gaussian(7, 6, 5), "view");
        check(k, TestArrays.gaussian(8, 3, 4).castTo(DataType.DOUBLE), TestArrays.gaussian(9, 3, 4)
                .castTo(DataType.DOUBLE), TestArrays.gaussian(10, 3, 4).castTo(DataType.DOUBLE), "double");
    }
}
