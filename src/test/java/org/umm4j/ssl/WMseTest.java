package org.umm4j.ssl;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** W-MSE's whitening at a realistic size and its Cholesky helper. */
class WMseTest {

    @Test
    void floatWhiteningOfA96DimensionalSubBatchAgreesWithDouble() {
        // ND4J M2.1's own cholesky rejects such FLOAT matrices (its determinant underflows); ours must not
        var rnd = Nd4j.getRandomFactory().getNewRandomInstance(11);
        INDArray z1 = rnd.nextGaussian(new long[]{128, 96}).castTo(DataType.DOUBLE);
        INDArray z2 = z1.add(rnd.nextGaussian(new long[]{128, 96}).castTo(DataType.DOUBLE).muli(0.5));
        WMse w = new WMse(128, 0.0);
        double d = w.compute(z1, z2).loss();
        LossAndGradients f = w.compute(z1.castTo(DataType.FLOAT), z2.castTo(DataType.FLOAT));
        assertEquals(d, f.loss(), 1e-3 * d);
        assertEquals(DataType.FLOAT, f.gradient(0).dataType());
        assertTrue(d > 0 && d < 2, "aligned views give a loss below that of independent ones (2): " + d);
    }

    @Test
    void choleskyFactorAndInverseAreExact() {
        double[] a = {4, 2, 0.4, 2, 5, 1, 0.4, 1, 3};
        double[][] f = WMse.choleskyAndInverse(a, 3);
        INDArray l = Nd4j.create(f[0], new long[]{3, 3}, DataType.DOUBLE);
        INDArray m = Nd4j.create(f[1], new long[]{3, 3}, DataType.DOUBLE);
        assertTrue(l.mmul(l.transpose()).equalsWithEps(Nd4j.create(a, new long[]{3, 3}, DataType.DOUBLE), 1e-12));
        assertTrue(l.mmul(m).equalsWithEps(Nd4j.eye(3).castTo(DataType.DOUBLE), 1e-12));
        assertEquals(0.0, l.getDouble(0, 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WMse.choleskyAndInverse(new double[]{1, 2, 2, 1}, 2));
        assertTrue(e.getMessage().contains("positive definite"), e.getMessage());
    }
}
