package org.umm4j.umm;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

class CpaSketchTest {

    private static INDArray randn(long seed, long... shape) {
        Random r = new Random(seed);
        INDArray a = Nd4j.create(DataType.DOUBLE, shape);
        for (long i = 0; i < a.length(); i++) {
            a.putScalar(i, r.nextGaussian());
        }
        return a;
    }

    /** ln sqrt(det(M^T M)), by an independent route (Cholesky of the Gram matrix in SmallLinalg is not used). */
    private static double halfLogdetGram(double[][] m) {
        int d = m[0].length;
        // Gaussian elimination with partial pivoting on M^T M
        double[][] g = new double[d][d];
        for (double[] row : m) {
            for (int a = 0; a < d; a++) {
                for (int b = 0; b < d; b++) {
                    g[a][b] += row[a] * row[b];
                }
            }
        }
        double logdet = 0;
        for (int c = 0; c < d; c++) {
            int piv = c;
            for (int r = c + 1; r < d; r++) {
                if (Math.abs(g[r][c]) > Math.abs(g[piv][c])) {
                    piv = r;
                }
            }
            double[] t = g[c];
            g[c] = g[piv];
            g[piv] = t;
            logdet += Math.log(Math.abs(g[c][c]));
            for (int r = c + 1; r < d; r++) {
                double f = g[r][c] / g[c][c];
                for (int k = c; k < d; k++) {
                    g[r][k] -= f * g[c][k];
                }
            }
        }
        return 0.5 * logdet;
    }

    @Test
    void recoversTheExactLogVolumeOfALinearMapAtFullRank() {
        int dEarly = 4;
        int dLast = 6;
        INDArray m = randn(1, dEarly, dLast); // f(e) = e M, Jacobian M^T (dLast x dEarly)
        INDArray e = randn(2, 5, dEarly);
        CpaSketch sketch = new CpaSketch(dEarly, 1e-2, 1e-12);
        CpaSketch.Perturbation p = sketch.perturb(e, 7);
        CpaSketch.LogVolumes lv = sketch.logVolumes(p.stacked().mmul(m), p);
        double want = halfLogdetGram(m.transpose().toDoubleMatrix());
        for (double s : lv.values()) {
            assertEquals(want, s, 1e-8 * Math.abs(want) + 1e-9);
        }
    }

    @Test
    void ranksSamplesOfAPiecewiseLinearMap() {
        // f(e) = a(e) e M with a = 3 where e_0 > 0 and a = 1 elsewhere: volume ratio 3^dEarly
        int dEarly = 3;
        INDArray m = randn(3, dEarly, 5);
        INDArray e = randn(4, 8, dEarly);
        for (int i = 0; i < 8; i++) {
            double v = e.getDouble(i, 0);
            e.putScalar(i, 0, (i % 2 == 0 ? 1 : -1) * (0.5 + Math.abs(v))); // keep clear of the kink
        }
        Function<INDArray, INDArray> f = x -> {
            INDArray out = x.mmul(m);
            for (int i = 0; i < x.rows(); i++) {
                if (x.getDouble(i, 0) > 0) {
                    out.getRow(i).muli(3);
                }
            }
            return out;
        };
        CpaSketch sketch = new CpaSketch(dEarly, 1e-3, 1e-12);
        CpaSketch.Perturbation p = sketch.perturb(e, 11);
        double[] s = sketch.logVolumes(f.apply(p.stacked()), p).values();
        for (int i = 0; i < 8; i += 2) {
            assertEquals(dEarly * Math.log(3), s[i] - s[i + 1], 1e-6, "pair " + i);
        }
    }

    @Test
    void scalesARankDeficientSketchToTheTrueRank() {
        // k < rank: under J -> aJ the sketch must move by rank * log a, like the true log-volume
        INDArray m = randn(5, 6, 4);
        INDArray e = randn(6, 3, 6);
        CpaSketch sketch = new CpaSketch(2, 1e-2, 1e-12);
        CpaSketch.Perturbation p = sketch.perturb(e, 3);
        double[] s1 = sketch.logVolumes(p.stacked().mmul(m), p).values();
        double[] s2 = sketch.logVolumes(p.stacked().mmul(m).mul(2.0), p).values();
        for (int i = 0; i < 3; i++) {
            assertEquals(4 * Math.log(2), s2[i] - s1[i], 1e-9);
        }
    }

    @Test
    void backwardMatchesFiniteDifferencesOfTheOutputs() {
        INDArray e = randn(8, 3, 5);
        CpaSketch sketch = new CpaSketch(3, 1e-1, 1e-3);
        CpaSketch.Perturbation p = sketch.perturb(e, 5);
        INDArray out = Transforms.tanh(p.stacked().mmul(randn(9, 5, 4)));
        double[] w = {0.7, -1.3, 0.4};
        CpaSketch.LogVolumes lv = sketch.logVolumes(out, p);
        INDArray grad = lv.backward(w);
        double h = 1e-6;
        for (int i = 0; i < out.length(); i++) {
            INDArray op = out.dup();
            INDArray om = out.dup();
            op.putScalar(i, op.getDouble(i) + h);
            om.putScalar(i, om.getDouble(i) - h);
            double fp = dot(w, sketch.logVolumes(op, p).values());
            double fm = dot(w, sketch.logVolumes(om, p).values());
            assertEquals((fp - fm) / (2 * h), grad.getDouble(i), 1e-6 * (1 + Math.abs(grad.getDouble(i))), "entry " + i);
        }
    }

    /**
     * The JS term's gradient reaches the parameters of a tiny network f_l(e) = tanh(e W): the analytic chain
     * (JS -> log-volumes -> outputs -> W) matches central differences of JS(W) with the directions fixed.
     */
    @Test
    void jsGradientReachesNetworkParameters() {
        INDArray e = randn(10, 6, 4);
        INDArray w = randn(11, 4, 5).muli(0.7);
        CpaSketch sketch = new CpaSketch(3, 1e-1, 1e-4);
        CpaSketch.Perturbation p = sketch.perturb(e, 13);
        Function<INDArray, Double> js = ww -> JsDivergence.uniformVsSoftmax(
                sketch.logVolumes(Transforms.tanh(p.stacked().mmul(ww)), p).values()).value();
        INDArray pre = p.stacked().mmul(w);
        INDArray out = Transforms.tanh(pre);
        CpaSketch.LogVolumes lv = sketch.logVolumes(out, p);
        JsDivergence.Result r = JsDivergence.uniformVsSoftmax(lv.values());
        assertTrue(r.value() > 1e-4, "the test needs a non-trivial divergence, got " + r.value());
        INDArray dOut = lv.backward(r.gradLogVolume());
        INDArray dPre = dOut.mul(out.mul(out).rsubi(1.0));
        INDArray dW = p.stacked().transpose().mmul(dPre);
        double h = 1e-6;
        for (int i = 0; i < w.length(); i++) {
            INDArray wp = w.dup();
            INDArray wm = w.dup();
            wp.putScalar(i, wp.getDouble(i) + h);
            wm.putScalar(i, wm.getDouble(i) - h);
            double fd = (js.apply(wp) - js.apply(wm)) / (2 * h);
            assertEquals(fd, dW.getDouble(i), 1e-7 + 1e-5 * Math.abs(fd), "W entry " + i);
        }
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new CpaSketch(0, 1e-2, 1e-6));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CpaSketch(8, 1e-2, 1e-6).perturb(randn(1, 2, 3), 1));
        assertTrue(e.getMessage().contains("exceed"));
        CpaSketch s = new CpaSketch(2, 1e-2, 1e-6);
        CpaSketch.Perturbation p = s.perturb(randn(1, 2, 3), 1);
        assertThrows(IllegalArgumentException.class, () -> s.logVolumes(randn(2, 5, 3), p));
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
