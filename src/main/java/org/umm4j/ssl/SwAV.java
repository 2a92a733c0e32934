package org.umm4j.ssl;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * SwAV's swapped prediction with online Sinkhorn-Knopp codes (Caron et al., "Unsupervised Learning of Visual
 * Features by Contrasting Cluster Assignments", NeurIPS 2020), multi-crop ready.
 *
 * <p>Views {@code [z_1..z_V]}, V &gt;= 2, each [N, D]: the projections of the crops, the first {@code assignViews}
 * of them the full-resolution crops that get codes. Extra "prototypes" C [D, K], a parameter: its gradient comes
 * back under the same name. The caller re-normalises C's columns to unit length after each update, as the paper
 * does. Inside, z^ = normalize(z), scores S_v = z^_v C [N, K], and
 * <pre>
 *   Q_i = Sinkhorn(S_i)   (no gradient; exp(S / eps), 3 alternating normalisations: rows of the [K, N] matrix to
 *                          1/K, columns to 1/N, finally scaled so each sample's code sums to 1)
 *   P_v = softmax(S_v / T)
 *   L   = 1/(a (V - 1)) sum_{i &lt; a} sum_{v != i} 1/N sum_n ( - sum_k Q_i[n,k] log P_v[n,k] )
 * </pre>
 * Defaults: T = 0.1, eps = 0.05, 3 Sinkhorn iterations, a = 2. Gradients: dS_v = (P_v - Q_i) / (T N a (V - 1))
 * summed over the pairs that predict with v; dz^_v = dS_v C^T; dC = sum_v z^_v^T dS_v. Codes are treated as
 * constants. Optional extras "codes1".."codes{a}" ([N, K]) replace the Sinkhorn codes (e.g. codes computed with
 * a queue of past scores, or fixed codes for a gradient check). With two views the loss is symmetric in them; it is invariant to rescaling the rows of z.
 */
public final class SwAV implements Objective {
    public static final double DEFAULT_TEMPERATURE = 0.1;
    public static final double DEFAULT_EPSILON = 0.05;
    public static final int DEFAULT_ITERATIONS = 3;
    public static final int DEFAULT_ASSIGN_VIEWS = 2;
    /** Name of the prototype extra and of its gradient. */
    public static final String PROTOTYPES = "prototypes";

    private final double temperature;
    private final double epsilon;
    private final int iterations;
    private final int assignViews;

    /** T 0.1, eps 0.05, 3 iterations, codes for the first 2 views. */
    public SwAV() {
        this(DEFAULT_TEMPERATURE, DEFAULT_EPSILON, DEFAULT_ITERATIONS, DEFAULT_ASSIGN_VIEWS);
    }

    /**
     * @param temperature softmax temperature T &gt; 0
     * @param epsilon     Sinkhorn entropy regularisation &gt; 0
     * @param iterations  Sinkhorn iterations &gt;= 1
     * @param assignViews number of leading views that get codes, &gt;= 1
     */
    public SwAV(double temperature, double epsilon, int iterations, int assignViews) {
        Tensors.requirePositive("temperature", temperature);
        Tensors.requirePositive("epsilon", epsilon);
        if (iterations < 1) {
            throw new IllegalArgumentException("iterations must be at least 1, got " + iterations);
        }
        if (assignViews < 1) {
            throw new IllegalArgumentException("assignViews must be at least 1, got " + assignViews);
        }
        this.temperature = temperature;
        this.epsilon = epsilon;
        this.iterations = iterations;
        this.assignViews = assignViews;
    }

    @Override
    public LossAndGradients compute(ObjectiveInput input) {
        int v = input.views().size();
        if (v < 2 || v < assignViews) {
            throw new IllegalArgumentException("swav needs at least max(2, assignViews = " + assignViews
                    + ") views, got " + v);
        }
        INDArray c = input.requireExtra(PROTOTYPES);
        INDArray first = input.view(0);
        Tensors.requireMatrix("z1", first);
        Tensors.requireMatrix(PROTOTYPES, c);
        for (int i = 1; i < v; i++) {
            Tensors.requireMatrix("z" + (i + 1), input.view(i));
            if (input.view(i).columns() != first.columns() || input.view(i).dataType() != first.dataType()) {
                throw new IllegalArgumentException("z" + (i + 1) + " shape " + Tensors.shape(input.view(i))
                        + " must have the columns and type of z1 shape " + Tensors.shape(first));
            }
        }
        for (int i = 1; i < assignViews; i++) {
            Tensors.requireSameShape("z1", first, "z" + (i + 1), input.view(i));
        }
        if (c.rows() != first.columns() || c.dataType() != first.dataType()) {
            throw new IllegalArgumentException("prototypes shape " + Tensors.shape(c) + " (" + c.dataType()
                    + ") must be [D, K] with D matching z1 shape " + Tensors.shape(first) + " (" + first.dataType() + ")");
        }
        INDArray[] norms = new INDArray[v];
        INDArray[] u = new INDArray[v];
        INDArray[] s = new INDArray[v];
        INDArray[] p = new INDArray[v];
        INDArray[] logP = new INDArray[v];
        for (int i = 0; i < v; i++) {
            norms[i] = Tensors.rowNorms(input.view(i));
            u[i] = Tensors.normalizeRows(input.view(i), norms[i]);
            s[i] = u[i].mmul(c);
            INDArray logits = s[i].div(temperature);
            INDArray rowMax = logits.max(1).reshape(logits.rows(), 1);
            INDArray shifted = logits.subColumnVector(rowMax);
            INDArray lse = Transforms.log(Transforms.exp(shifted, true).sum(1), false).reshape(logits.rows(), 1);
            logP[i] = shifted.subColumnVector(lse);
            p[i] = Transforms.exp(logP[i], true);
        }
        int pairs = assignViews * (v - 1);
        double loss = 0;
        INDArray[] ds = new INDArray[v];
        for (int i = 0; i < v; i++) {
            ds[i] = s[i].like();
        }
        for (int i = 0; i < assignViews; i++) {
            INDArray q = input.extra("codes" + (i + 1));
            if (q == null) {
                q = sinkhorn(s[i], epsilon, iterations);
            } else if (!java.util.Arrays.equals(q.shape(), s[i].shape()) || q.dataType() != s[i].dataType()) {
                throw new IllegalArgumentException("codes" + (i + 1) + " shape " + Tensors.shape(q)
                        + " must equal the scores shape " + Tensors.shape(s[i]) + " [N, K] in " + s[i].dataType());
            }
            for (int w = 0; w < v; w++) {
                if (w == i) {
                    continue;
                }
                int n = s[w].rows();
                if (n != q.rows()) {
                    throw new IllegalArgumentException("z" + (w + 1) + " shape " + Tensors.shape(input.view(w))
                            + " must have the batch size of z" + (i + 1) + " shape " + Tensors.shape(input.view(i)));
                }
                loss -= q.mul(logP[w]).sumNumber().doubleValue() / n / pairs;
                ds[w].addi(p[w].sub(q).divi(temperature * n * pairs));
            }
        }
        INDArray[] grads = new INDArray[v];
        INDArray dc = c.like();
        for (int i = 0; i < v; i++) {
            grads[i] = Tensors.normalizeBackward(ds[i].mmul(c.transpose()), u[i], norms[i]);
            dc.addi(u[i].transpose().mmul(ds[i]));
        }
        Map<String, INDArray> pg = new LinkedHashMap<>();
        pg.put(PROTOTYPES, dc);
        return new LossAndGradients(loss, grads, Map.of(), pg);
    }

    /**
     * Sinkhorn-Knopp codes of scores [N, K] (no gradient): Q = exp(S / eps) seen as [K, N], normalised to total 1,
     * then {@code iterations} times: each prototype row to 1/K, each sample column to 1/N; finally times N so that
     * each sample's code sums to 1. Returns [N, K].
     */
    public static INDArray sinkhorn(INDArray scores, double epsilon, int iterations) {
        int n = scores.rows();
        int k = scores.columns();
        // subtracting the global max only rescales Q, which the first normalisation removes
        INDArray q = Transforms.exp(scores.sub(scores.maxNumber()).divi(epsilon), false).transpose().dup();
        q.divi(q.sumNumber());
        for (int it = 0; it < iterations; it++) {
            q.diviColumnVector(q.sum(1).reshape(k, 1)).divi(k);
            q.diviRowVector(q.sum(0).reshape(1, n)).divi(n);
        }
        return q.muli(n).transpose().dup();
    }

    @Override
    public String name() {
        return "swav";
    }

    @Override
    public Map<String, Double> hyperParameters() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("temperature", temperature);
        m.put("epsilon", epsilon);
        m.put("iterations", (double) iterations);
        m.put("assignViews", (double) assignViews);
        return m;
    }
}
