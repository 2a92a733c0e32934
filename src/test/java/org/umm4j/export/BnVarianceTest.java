package org.umm4j.export;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class BnVarianceTest {

    @Test
    void varianceIsTenToTheLogStdSquaredAsInDl4j() {
        INDArray l = Nd4j.create(new float[]{0f, 0.5f, -0.25f, 1f}, new long[]{1, 4}, 'c');
        float[] v = BnVariance.variance(l).data().asFloat();
        double[] expected = {1, 10, Math.pow(10, -0.5), 100};
        for (int i = 0; i < 4; i++) {
            assertEquals(expected[i], v[i], 1e-6 * expected[i], "element " + i);
        }
    }

    @Test
    void inverseReproducesTheLayersVarianceBitForBitWhereTheNaiveInverseDoesNot() {
        Random r = new Random(3);
        int n = 4096;
        float[] l = new float[n];
        for (int i = 0; i < n; i++) {
            l[i] = (float) (0.8 * (r.nextDouble() - 0.5));
        }
        l[0] = 0f;
        l[1] = -1e-7f;
        l[2] = 3.5f;
        l[3] = -6f;
        float[] var = BnVariance.variance(Nd4j.create(l, new long[]{1, n}, 'c')).data().asFloat();

        float[] naive = new float[n];
        for (int i = 0; i < n; i++) {
            naive[i] = (float) (0.5 * Math.log10(var[i]));
        }
        float[] naiveVar = BnVariance.variance(Nd4j.create(naive, new long[]{1, n}, 'c')).data().asFloat();
        int naiveMismatch = 0;
        for (int i = 0; i < n; i++) {
            naiveMismatch += naiveVar[i] == var[i] ? 0 : 1;
        }
        // about 2 % of the plain inverses (82 of 4096 here) land on a neighbouring float variance
        assertTrue(naiveMismatch > 20, "the plain log10 inverse misses the variance sometimes (" + naiveMismatch + ")");

        INDArray back = BnVariance.log10Std(var, DataType.FLOAT, "v");
        assertArrayEquals(new long[]{1, n}, back.shape());
        float[] got = BnVariance.variance(back).data().asFloat();
        assertArrayEquals(var, got, "every variance reproduced exactly");
        float[] lb = back.data().asFloat();
        assertEquals(0f, lb[0]);
        for (int i = 0; i < n; i++) {
            assertEquals(l[i], lb[i], 2e-6, "recovered log-std stays next to the original, element " + i);
        }
    }

    @Test
    void zeroVarianceAndNonFloatTargetsAndBadValues() {
        INDArray z = BnVariance.log10Std(new float[]{0f, 1f}, DataType.FLOAT, "v");
        assertArrayEquals(new float[]{0f, 1f}, BnVariance.variance(z).data().asFloat());
        INDArray d = BnVariance.log10Std(new float[]{100f}, DataType.DOUBLE, "v");
        assertEquals(DataType.DOUBLE, d.dataType());
        assertEquals(1.0, d.getDouble(0), 1e-15);
        // a variance from elsewhere (PyTorch) that no float log-std hits exactly still lands next to it
        float odd = Math.nextUp(1.0001f);
        float[] v = BnVariance.variance(BnVariance.log10Std(new float[]{odd}, DataType.FLOAT, "v")).data().asFloat();
        assertEquals(odd, v[0], 2 * Math.ulp(odd));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BnVariance.log10Std(new float[]{1f, Float.NaN}, DataType.FLOAT, "bn1.running_var"));
        assertEquals("bn1.running_var[1] must be a finite variance >= 0, got NaN", e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> BnVariance.log10Std(new float[]{Float.POSITIVE_INFINITY}, DataType.FLOAT, "v"));
    }

    @Test
    void floatKeysAreMonotone() {
        float[] xs = {-Float.MAX_VALUE, -2f, -Float.MIN_VALUE, 0f, Float.MIN_VALUE, 1f, Math.nextUp(1f), Float.MAX_VALUE};
        for (int i = 1; i < xs.length; i++) {
            assertTrue(BnVariance.key(xs[i - 1]) < BnVariance.key(xs[i]), xs[i - 1] + " < " + xs[i]);
            assertEquals(xs[i], BnVariance.fromKey(BnVariance.key(xs[i])));
        }
        assertEquals(0, BnVariance.key(-0f));
    }
}
