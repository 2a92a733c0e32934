package org.umm4j.eval;

/**
 * Pearson's correlation coefficient
 * {@code r = sum (x - mx)(y - my) / sqrt(sum (x - mx)^2 sum (y - my)^2)}, used to relate a dR curve to an
 * accuracy curve over checkpoints (the UMM paper reports 0.92 to 0.98).
 */
public final class Pearson {
    private Pearson() {
    }

    /**
     * @return r in [-1, 1]; NaN when either series is constant
     * @throws IllegalArgumentException for unequal lengths, fewer than two points or non-finite values
     */
    public static double correlation(double[] x, double[] y) {
        if (x.length != y.length || x.length < 2) {
            throw new IllegalArgumentException("need two series of equal length >= 2, got " + x.length + " and "
                    + y.length);
        }
        double mx = 0;
        double my = 0;
        for (int i = 0; i < x.length; i++) {
            if (!Double.isFinite(x[i]) || !Double.isFinite(y[i])) {
                throw new IllegalArgumentException("non-finite value at index " + i);
            }
            mx += x[i];
            my += y[i];
        }
        mx /= x.length;
        my /= y.length;
        double sxy = 0;
        double sxx = 0;
        double syy = 0;
        for (int i = 0; i < x.length; i++) {
            double dx = x[i] - mx;
            double dy = y[i] - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        if (sxx == 0 || syy == 0) {
            return Double.NaN;
        }
        return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
    }
}
