package org.umm4j.backend;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.SplittableRandom;

/** Seeded test data for the backend tests. */
final class TestArrays {
    private TestArrays() {
    }

    /** A FLOAT C-order array of standard normal values from {@code seed}. */
    static INDArray gaussian(long seed, long... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = 1;
        for (long s : shape) {
            n *= (int) s;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return Nd4j.create(v, shape, 'c');
    }
}
