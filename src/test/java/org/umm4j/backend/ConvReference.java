package org.umm4j.backend;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Float64 loops for convolution tests: the reference the backend's convolution helpers are checked against. */
final class ConvReference {
    private ConvReference() {
    }

    /** y, dL/dx, dL/dW, dL/db of y = conv(x, W) + b in float64 loops (cross-correlation). */
    static double[][] convolution(INDArray xa, INDArray wa, INDArray ba, INDArray dya, int s, int p, int d) {
        int n = (int) xa.size(0), c = (int) xa.size(1), h = (int) xa.size(2), wd = (int) xa.size(3);
        int o = (int) wa.size(0), k = (int) wa.size(2);
        int oh = (int) dya.size(2), ow = (int) dya.size(3);
        double[] x = xa.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] w = wa.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] b = ba == null ? new double[o] : ba.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] dy = dya.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] y = new double[dy.length];
        double[] dx = new double[x.length];
        double[] dw = new double[w.length];
        double[] db = new double[o];
        for (int sm = 0; sm < n; sm++) {
            for (int oc = 0; oc < o; oc++) {
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        int yo = ((sm * o + oc) * oh + i) * ow + j;
                        double g = dy[yo];
                        double acc = b[oc];
                        db[oc] += g;
                        for (int ic = 0; ic < c; ic++) {
                            for (int a = 0; a < k; a++) {
                                for (int bb = 0; bb < k; bb++) {
                                    int xi = i * s + a * d - p;
                                    int xj = j * s + bb * d - p;
                                    if (xi < 0 || xi >= h || xj < 0 || xj >= wd) {
                                        continue;
                                    }
                                    int xo = ((sm * c + ic) * h + xi) * wd + xj;
                                    int wo = ((oc * c + ic) * k + a) * k + bb;
                                    acc += x[xo] * w[wo];
                                    dw[wo] += g * x[xo];
                                    dx[xo] += g * w[wo];
                                }
                            }
                        }
                        y[yo] = acc;
                    }
                }
            }
        }
        return new double[][]{y, dx, dw, db};
    }

    static double relDiff(INDArray got, double[] want) {
        double[] g = got.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        assertEquals(want.length, g.length);
        double num = 0;
        double den = 0;
        for (int i = 0; i < want.length; i++) {
            num += (g[i] - want[i]) * (g[i] - want[i]);
            den += want[i] * want[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-300));
    }
}
