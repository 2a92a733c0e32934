package org.umm4j.nn;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The ImageNet stem and the first basic block against an independent naive float64 implementation of
 * PyTorch's semantics (zero-padded cross-correlation, {@code floor((H + 2p - k)/s) + 1} outputs, max-pool
 * padding with -infinity, inference BatchNorm {@code gamma (x - mean)/sqrt(var + eps) + beta}), on an odd
 * input size where floor rounding matters. DL4J's BatchNorm stores the running variance as
 * {@code log10(sqrt(var))} and adds eps at use.
 */
class StemReferenceTest {

    @Test
    void imageNetStemAndFirstBlockMatchANaiveReference() {
        ResNetConfig cfg = NnTestSupport.tiny(18, Stem.IMAGENET, 0.0625, 13, DataType.DOUBLE); // 4 stem channels
        Backbone b = Backbone.create(cfg);
        INDArray x = NnTestSupport.random(51, DataType.DOUBLE, 2, 3, 13, 13);
        NnTestSupport.perturbBatchNorm(b.graph(), x, 52);
        ComputationGraph g = b.graph();

        double[][][][] in = toArray(x);
        double[][][][] stem = maxPool3s2p1(relu(bn(conv(in, g, "stem_conv", 2, 3), g, "stem_bn")));
        assertEquals(4, stem[0][0].length, "13 -> 7 -> 4");
        double[][][][] h = relu(bn(conv(stem, g, "s1b1_conv1", 1, 1), g, "s1b1_bn1"));
        double[][][][] y = bn(conv(h, g, "s1b1_conv2", 1, 1), g, "s1b1_bn2");
        double[][][][] block = relu(add(y, stem));

        var f = b.features(x, Taps.STEM, "s1b1_out");
        assertClose(stem, f.get(Taps.STEM));
        assertClose(block, f.get("s1b1_out"));
    }

    private static double[][][][] toArray(INDArray a) {
        long[] s = a.shape();
        double[][][][] out = new double[(int) s[0]][(int) s[1]][(int) s[2]][(int) s[3]];
        for (int n = 0; n < s[0]; n++) {
            for (int c = 0; c < s[1]; c++) {
                for (int i = 0; i < s[2]; i++) {
                    for (int j = 0; j < s[3]; j++) {
                        out[n][c][i][j] = a.getDouble(n, c, i, j);
                    }
                }
            }
        }
        return out;
    }

    private static void assertClose(double[][][][] expected, INDArray actual) {
        assertArrayEquals(new long[]{expected.length, expected[0].length, expected[0][0].length, expected[0][0][0].length},
                actual.shape());
        double[][][][] a = toArray(actual);
        for (int n = 0; n < expected.length; n++) {
            for (int c = 0; c < expected[0].length; c++) {
                for (int i = 0; i < expected[0][0].length; i++) {
                    for (int j = 0; j < expected[0][0][0].length; j++) {
                        assertEquals(expected[n][c][i][j], a[n][c][i][j], 1e-10, "at " + n + "," + c + "," + i + "," + j);
                    }
                }
            }
        }
    }

    /** Cross-correlation with weights W [out, in, k, k] from the graph, zero padding p, stride s, no bias. */
    private static double[][][][] conv(double[][][][] x, ComputationGraph g, String layer, int s, int p) {
        INDArray w = g.getLayer(layer).getParam("W");
        int co = (int) w.size(0);
        int ci = (int) w.size(1);
        int k = (int) w.size(2);
        int hIn = x[0][0].length;
        int wIn = x[0][0][0].length;
        int hOut = (hIn + 2 * p - k) / s + 1;
        int wOut = (wIn + 2 * p - k) / s + 1;
        double[][][][] out = new double[x.length][co][hOut][wOut];
        for (int n = 0; n < x.length; n++) {
            for (int o = 0; o < co; o++) {
                for (int i = 0; i < hOut; i++) {
                    for (int j = 0; j < wOut; j++) {
                        double acc = 0;
                        for (int c = 0; c < ci; c++) {
                            for (int u = 0; u < k; u++) {
                                for (int v = 0; v < k; v++) {
                                    int r = i * s - p + u;
                                    int q = j * s - p + v;
                                    if (r >= 0 && r < hIn && q >= 0 && q < wIn) {
                                        acc += w.getDouble(o, c, u, v) * x[n][c][r][q];
                                    }
                                }
                            }
                        }
                        out[n][o][i][j] = acc;
                    }
                }
            }
        }
        return out;
    }

    private static double[][][][] bn(double[][][][] x, ComputationGraph g, String layer) {
        var l = g.getLayer(layer);
        INDArray gamma = l.getParam("gamma");
        INDArray beta = l.getParam("beta");
        INDArray mean = l.getParam("mean");
        INDArray log10std = l.getParam("log10stdev");
        double[][][][] out = new double[x.length][x[0].length][x[0][0].length][x[0][0][0].length];
        for (int n = 0; n < x.length; n++) {
            for (int c = 0; c < x[0].length; c++) {
                double var = Math.pow(10, 2 * log10std.getDouble(c));
                double std = Math.sqrt(var + ResNets.BN_EPS);
                for (int i = 0; i < x[0][0].length; i++) {
                    for (int j = 0; j < x[0][0][0].length; j++) {
                        out[n][c][i][j] = gamma.getDouble(c) * (x[n][c][i][j] - mean.getDouble(c)) / std + beta.getDouble(c);
                    }
                }
            }
        }
        return out;
    }

    private static double[][][][] relu(double[][][][] x) {
        double[][][][] out = new double[x.length][x[0].length][x[0][0].length][x[0][0][0].length];
        for (int n = 0; n < x.length; n++) {
            for (int c = 0; c < x[0].length; c++) {
                for (int i = 0; i < x[0][0].length; i++) {
                    for (int j = 0; j < x[0][0][0].length; j++) {
                        out[n][c][i][j] = Math.max(0, x[n][c][i][j]);
                    }
                }
            }
        }
        return out;
    }

    private static double[][][][] add(double[][][][] a, double[][][][] b) {
        double[][][][] out = new double[a.length][a[0].length][a[0][0].length][a[0][0][0].length];
        for (int n = 0; n < a.length; n++) {
            for (int c = 0; c < a[0].length; c++) {
                for (int i = 0; i < a[0][0].length; i++) {
                    for (int j = 0; j < a[0][0][0].length; j++) {
                        out[n][c][i][j] = a[n][c][i][j] + b[n][c][i][j];
                    }
                }
            }
        }
        return out;
    }

    private static double[][][][] maxPool3s2p1(double[][][][] x) {
        int hIn = x[0][0].length;
        int wIn = x[0][0][0].length;
        int hOut = (hIn + 2 - 3) / 2 + 1;
        int wOut = (wIn + 2 - 3) / 2 + 1;
        double[][][][] out = new double[x.length][x[0].length][hOut][wOut];
        for (int n = 0; n < x.length; n++) {
            for (int c = 0; c < x[0].length; c++) {
                for (int i = 0; i < hOut; i++) {
                    for (int j = 0; j < wOut; j++) {
                        double m = Double.NEGATIVE_INFINITY;
                        for (int u = 0; u < 3; u++) {
                            for (int v = 0; v < 3; v++) {
                                int r = 2 * i - 1 + u;
                                int q = 2 * j - 1 + v;
                                if (r >= 0 && r < hIn && q >= 0 && q < wIn) {
                                    m = Math.max(m, x[n][c][r][q]);
                                }
                            }
                        }
                        out[n][c][i][j] = m;
                    }
                }
            }
        }
        return out;
    }
}
