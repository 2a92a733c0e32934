package org.umm4j.ssl;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * VICRegL (Bardes, Ponce and LeCun, "VICRegL: Self-Supervised Learning of Local Visual Features", NeurIPS 2022).
 *
 * <p>Views {@code [z1, z2, y1, y2]}: global embeddings z [N, D] and local feature maps y, either [N, C, H, W]
 * (locations in row-major (h, w) order, L = H W, feature size C) or [N, L, C]. Extras "coords1", "coords2":
 * [N, L, 2], the position of each location in a common frame (e.g. the centre of each feature-map cell mapped
 * back into original-image pixels through the crop box), no gradient.
 *
 * <p>For one direction a -&gt; b and one image n, every location p of y_a gets a partner in y_b:
 * <ul>
 *   <li>location-based: NN(p) = argmin_p' |coords_a(p) - coords_b(p')|;</li>
 *   <li>feature-based: NN(p) = argmin_p' |y_a(p) - y_b(p')|;</li>
 * </ul>
 * and only the gamma pairs with the smallest distance (per image) are kept. The kept pairs of all images are
 * stacked into two [N gamma, C] matrices A, B and scored with the VICReg loss l(A, B) (invariance on the pairs,
 * variance and covariance over the N gamma rows). The matching (argmin and top-gamma) is treated as fixed, i.e.
 * piecewise constant, so the gradient flows through the selected feature vectors of both maps only.
 *
 * <p>Loss, following the paper's L = alpha l(z, z') + (1 - alpha)(l_spatial + l_distance) with no extra factor
 * between the spatial and the distance term:
 * <pre>
 *   l_spatial  = 1/2 [ l(loc 1-&gt;2) + l(loc 2-&gt;1) ]
 *   l_distance = 1/2 [ l(feat 1-&gt;2) + l(feat 2-&gt;1) ]
 *   L = alpha l(z1, z2) + (1 - alpha) (l_spatial + l_distance)
 * </pre>
 * The paper writes each matching in one direction and symmetrises; we average the two directions (the 1/2
 * factors above) rather than summing them, so that the local term has the scale of one VICReg loss per matching
 * type. Inside every l the VICReg paper's
 * form is used (no 1/2 on the variance terms, see {@link VicReg}). Defaults: alpha = 0.75 (paper), gamma = 20
 * (paper's value for ResNet 7x7 maps), VICReg coefficients 25 / 25 / 1 for both terms. Symmetric in the views.
 * Cost: the feature matching needs one batched product [N, L, C] x [N, C, L].
 */
public final class VicRegL implements Objective {
    public static final double DEFAULT_ALPHA = 0.75;
    public static final int DEFAULT_GAMMA = 20;

    private final double alpha;
    private final int gamma;
    private final double invariance;
    private final double variance;
    private final double covariance;

    /** alpha 0.75, gamma 20, 25 / 25 / 1. */
    public VicRegL() {
        this(DEFAULT_ALPHA, DEFAULT_GAMMA, VicReg.DEFAULT_INVARIANCE, VicReg.DEFAULT_VARIANCE,
                VicReg.DEFAULT_COVARIANCE);
    }

    /**
     * @param alpha      weight of the global term, in [0, 1]
     * @param gamma      matches kept per image and direction, &gt;= 1 (and &lt;= L at compute time)
     * @param invariance VICReg lambda
     * @param variance   VICReg mu
     * @param covariance VICReg nu
     */
    public VicRegL(double alpha, int gamma, double invariance, double variance, double covariance) {
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("alpha must be in [0, 1], got " + alpha);
        }
        if (gamma < 1) {
            throw new IllegalArgumentException("gamma must be at least 1, got " + gamma);
        }
        Tensors.requireNonNegative("invariance", invariance);
        Tensors.requireNonNegative("variance", variance);
        Tensors.requireNonNegative("covariance", covariance);
        this.alpha = alpha;
        this.gamma = gamma;
        this.invariance = invariance;
        this.variance = variance;
        this.covariance = covariance;
    }

    @Override
    public LossAndGradients compute(ObjectiveInput input) {
        Tensors.requireViews(name(), input.views(), 4);
        INDArray z1 = input.view(0);
        INDArray z2 = input.view(1);
        INDArray y1 = input.view(2);
        INDArray y2 = input.view(3);
        Tensors.requirePair(z1, z2, 2);
        if (y1.rank() != 3 && y1.rank() != 4) {
            throw new IllegalArgumentException("y1 must be [N, C, H, W] or [N, L, C], got shape " + Tensors.shape(y1));
        }
        Tensors.requireSameShape("y1", y1, "y2", y2);
        if (y1.size(0) != z1.rows()) {
            throw new IllegalArgumentException("y1 shape " + Tensors.shape(y1) + " and z1 shape " + Tensors.shape(z1)
                    + " must have the same batch size");
        }
        if (y1.dataType() != z1.dataType()) {
            throw new IllegalArgumentException("y1 is " + y1.dataType() + " but z1 is " + z1.dataType());
        }
        int n = z1.rows();
        INDArray f1 = flatten(y1);
        INDArray f2 = flatten(y2);
        int l = f1.rows() / n;
        if (gamma > l) {
            throw new IllegalArgumentException("gamma (" + gamma + ") must not exceed the number of locations L = "
                    + l + " of the feature maps of shape " + Tensors.shape(y1));
        }
        double[] c1 = coords("coords1", input.requireExtra("coords1"), n, l);
        double[] c2 = coords("coords2", input.requireExtra("coords2"), n, l);

        LossAndGradients global = VicReg.terms(z1, z2, invariance, variance, covariance);
        // gradient accumulators for the flattened maps; scatter-adds are done on the JVM side in one pass per term
        double[] g1 = new double[(int) f1.length()];
        double[] g2 = new double[(int) f2.length()];
        double localWeight = (1 - alpha) * 0.5;
        double[] v1 = f1.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] v2 = f2.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double spatial = matchTerm(f1, f2, v1, v2, g1, g2, locationDistances(c1, c2, n, l), n, l, localWeight)
                + matchTerm(f2, f1, v2, v1, g2, g1, locationDistances(c2, c1, n, l), n, l, localWeight);
        double distance = matchTerm(f1, f2, v1, v2, g1, g2, featureDistances(f1, f2, n, l), n, l, localWeight)
                + matchTerm(f2, f1, v2, v1, g2, g1, featureDistances(f2, f1, n, l), n, l, localWeight);
        spatial *= 0.5;
        distance *= 0.5;
        double loss = alpha * global.loss() + (1 - alpha) * (spatial + distance);
        Map<String, Double> parts = new LinkedHashMap<>();
        parts.put("global", alpha * global.loss());
        parts.put("spatial", (1 - alpha) * spatial);
        parts.put("distance", (1 - alpha) * distance);
        return new LossAndGradients(loss, new INDArray[]{
                global.gradient(0).muli(alpha), global.gradient(1).muli(alpha),
                unflatten(Nd4j.create(g1, f1.shape(), DataType.DOUBLE).castTo(f1.dataType()), y1),
                unflatten(Nd4j.create(g2, f2.shape(), DataType.DOUBLE).castTo(f2.dataType()), y2)}, parts, Map.of());
    }

    /**
     * Matches every location of a to one of b by the given distances, keeps the gamma closest per image, adds
     * weight * dl/dA and weight * dl/dB into ga / gb and returns the unweighted l(A, B).
     */
    private double matchTerm(INDArray fa, INDArray fb, double[] av, double[] bv, double[] ga, double[] gb,
                             double[][] dist, int n, int l, double weight) {
        int[] rowsA = new int[n * gamma];
        int[] rowsB = new int[n * gamma];
        Integer[] order = new Integer[l];
        int[] nn = new int[l];
        double[] best = new double[l];
        for (int img = 0; img < n; img++) {
            double[] dm = dist[img];
            for (int p = 0; p < l; p++) {
                int arg = 0;
                double min = Double.POSITIVE_INFINITY;
                for (int q = 0; q < l; q++) {
                    double v = dm[p * l + q];
                    if (v < min) {
                        min = v;
                        arg = q;
                    }
                }
                nn[p] = arg;
                best[p] = min;
                order[p] = p;
            }
            Arrays.sort(order, (x, y) -> Double.compare(best[x], best[y]));
            for (int k = 0; k < gamma; k++) {
                rowsA[img * gamma + k] = img * l + order[k];
                rowsB[img * gamma + k] = img * l + nn[order[k]];
            }
        }
        // gather on the JVM side: INDArray.getRows copies row by row through native calls
        int c = (int) fa.columns();
        double[] ag = new double[rowsA.length * c];
        double[] bg = new double[rowsB.length * c];
        for (int r = 0; r < rowsA.length; r++) {
            System.arraycopy(av, rowsA[r] * c, ag, r * c, c);
            System.arraycopy(bv, rowsB[r] * c, bg, r * c, c);
        }
        INDArray a = Nd4j.create(ag, new long[]{rowsA.length, c}, DataType.DOUBLE).castTo(fa.dataType());
        INDArray b = Nd4j.create(bg, new long[]{rowsB.length, c}, DataType.DOUBLE).castTo(fb.dataType());
        LossAndGradients t = VicReg.terms(a, b, invariance, variance, covariance);
        double[] da = t.gradient(0).castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] db = t.gradient(1).castTo(DataType.DOUBLE).dup('c').data().asDouble();
        for (int r = 0; r < rowsA.length; r++) {
            for (int j = 0; j < c; j++) {
                ga[rowsA[r] * c + j] += weight * da[r * c + j];
                gb[rowsB[r] * c + j] += weight * db[r * c + j];
            }
        }
        return t.loss();
    }

    private static double[][] locationDistances(double[] ca, double[] cb, int n, int l) {
        double[][] out = new double[n][l * l];
        for (int img = 0; img < n; img++) {
            int base = img * l * 2;
            for (int p = 0; p < l; p++) {
                double ax = ca[base + 2 * p];
                double ay = ca[base + 2 * p + 1];
                for (int q = 0; q < l; q++) {
                    double dx = ax - cb[base + 2 * q];
                    double dy = ay - cb[base + 2 * q + 1];
                    out[img][p * l + q] = dx * dx + dy * dy;
                }
            }
        }
        return out;
    }

    private static double[][] featureDistances(INDArray fa, INDArray fb, int n, int l) {
        long c = fa.columns();
        INDArray a = fa.reshape(n, l, c);
        INDArray b = fb.reshape(n, l, c);
        // one batched product [N, L, C] x [N, L, C]^T -> [N, L, L]; |a - b|^2 = |a|^2 + |b|^2 - 2 a.b
        double[] prod = Nd4j.matmul(a, b, false, true, false).castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] na = a.mul(a).sum(2).castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] nb = b.mul(b).sum(2).castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[][] out = new double[n][l * l];
        for (int img = 0; img < n; img++) {
            for (int p = 0; p < l; p++) {
                for (int q = 0; q < l; q++) {
                    out[img][p * l + q] = na[img * l + p] + nb[img * l + q] - 2 * prod[(img * l + p) * l + q];
                }
            }
        }
        return out;
    }

    private static double[] coords(String name, INDArray c, int n, int l) {
        if (c.rank() != 3 || c.size(0) != n || c.size(1) != l || c.size(2) != 2) {
            throw new IllegalArgumentException(name + " must have shape [" + n + ", " + l + ", 2] to match the feature"
                    + " maps, got " + Tensors.shape(c));
        }
        return c.castTo(DataType.DOUBLE).dup('c').data().asDouble();
    }

    /** [N, C, H, W] or [N, L, C] to [N L, C] (a copy). */
    private static INDArray flatten(INDArray y) {
        long n = y.size(0);
        if (y.rank() == 4) {
            return y.permute(0, 2, 3, 1).dup('c').reshape(n * y.size(2) * y.size(3), y.size(1));
        }
        return y.dup('c').reshape(n * y.size(1), y.size(2));
    }

    private static INDArray unflatten(INDArray g, INDArray like) {
        if (like.rank() == 4) {
            return g.reshape(like.size(0), like.size(2), like.size(3), like.size(1)).permute(0, 3, 1, 2).dup('c');
        }
        return g.reshape(like.shape()).dup('c');
    }

    @Override
    public String name() {
        return "vicregl";
    }

    @Override
    public Map<String, Double> hyperParameters() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("alpha", alpha);
        m.put("gamma", (double) gamma);
        m.put("invariance", invariance);
        m.put("variance", variance);
        m.put("covariance", covariance);
        return m;
    }
}
