package org.umm4j.umm;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class JsDivergenceTest {

    @Test
    void matchesDirectComputationAndIsZeroForEqualDistributions() {
        double[] s = {0.3, -1.2, 2.0, 0.0, 0.7};
        JsDivergence.Result r = JsDivergence.uniformVsSoftmax(s);
        // direct: p = exp(-s)/Z, JS = sum over both halves against M
        double z = 0;
        for (double v : s) {
            z += Math.exp(-v);
        }
        double js = 0;
        for (double v : s) {
            double p = Math.exp(-v) / z;
            double u = 1.0 / s.length;
            double m = (p + u) / 2;
            js += 0.5 * p * Math.log(p / m) + 0.5 * u * Math.log(u / m);
        }
        assertEquals(js, r.value(), 1e-15);
        assertEquals(js, JsDivergence.between(new double[]{.2, .2, .2, .2, .2}, r.pLast()), 1e-15);
        JsDivergence.Result flat = JsDivergence.uniformVsSoftmax(new double[]{1.5, 1.5, 1.5});
        assertEquals(0.0, flat.value(), 1e-15);
        for (double g : flat.gradLogVolume()) {
            assertEquals(0.0, g, 1e-15);
        }
    }

    @Test
    void boundedByLn2AndSymmetric() {
        double[] p = {1, 0};
        double[] q = {0, 1};
        assertEquals(Math.log(2), JsDivergence.between(p, q), 1e-15);
        double[] a = {0.1, 0.6, 0.3};
        double[] b = {0.5, 0.25, 0.25};
        assertEquals(JsDivergence.between(a, b), JsDivergence.between(b, a), 1e-16);
    }

    @Test
    void gradientMatchesCentralDifferences() {
        double[] s = {0.3, -1.2, 2.0, 0.0, 0.7, -0.4};
        double[] g = JsDivergence.uniformVsSoftmax(s).gradLogVolume();
        double h = 1e-6;
        for (int i = 0; i < s.length; i++) {
            double[] sp = s.clone();
            double[] sm = s.clone();
            sp[i] += h;
            sm[i] -= h;
            double fd = (JsDivergence.uniformVsSoftmax(sp).value() - JsDivergence.uniformVsSoftmax(sm).value()) / (2 * h);
            assertEquals(fd, g[i], 1e-8, "component " + i);
        }
    }

    @Test
    void rejectsBadInput() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> JsDivergence.uniformVsSoftmax(new double[]{1, Double.NaN}));
        assertTrue(e.getMessage().contains("logVolume[1]"));
        assertThrows(IllegalArgumentException.class, () -> JsDivergence.uniformVsSoftmax(new double[]{1}));
        IllegalArgumentException d = assertThrows(IllegalArgumentException.class,
                () -> JsDivergence.between(new double[]{0.5, 0.6}, new double[]{0.5, 0.5}));
        assertTrue(d.getMessage().contains("sums to"));
    }
}
