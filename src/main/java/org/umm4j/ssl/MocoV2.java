package org.umm4j.ssl;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Map;

/**
 * MoCo v2's InfoNCE loss against a queue of negatives (He et al., CVPR 2020; Chen et al., "Improved Baselines
 * with Momentum Contrastive Learning", 2020).
 *
 * <p>Views {@code [q_1..q_m]}: queries from the online encoder, [N, D]. Targets {@code [k_1..k_m]}: keys from the
 * momentum encoder, paired with the queries by index (stop-gradient, no gradient returned). Extra "queue":
 * [K, D] negatives from {@link NegativeQueue} (optional; absent or K = 0 means no negatives). Queries and keys
 * are l2-normalised inside (MoCo's encoders end with a normalisation; the queue already holds unit vectors):
 * <pre>
 *   logits_n = [ q^_n . k^_n, q^_n . queue_1, ..., q^_n . queue_K ] / T
 *   L = 1/m sum_pairs 1/N sum_n ( -logits_n[0] + log sum_j exp(logits_n[j]) )
 * </pre>
 * MoCo v2 is asymmetric: m = 1, {@code [q] / [k]}; the symmetrised variant passes {@code [q1, q2] / [k2, k1]}.
 * Default temperature T = 0.2 (MoCo v2); K = 65536 in the paper (the queue's capacity). Invariant to rescaling
 * queries and keys.
 */
public final class MocoV2 implements Objective {
    public static final double DEFAULT_TEMPERATURE = 0.2;
    /** Name of the queue extra. */
    public static final String QUEUE = "queue";

    private final double temperature;

    /** Temperature 0.2. */
    public MocoV2() {
        this(DEFAULT_TEMPERATURE);
    }

    /** @param temperature T &gt; 0 */
    public MocoV2(double temperature) {
        Tensors.requirePositive("temperature", temperature);
        this.temperature = temperature;
    }

    @Override
    public LossAndGradients compute(ObjectiveInput input) {
        int m = input.views().size();
        if (m < 1) {
            throw new IllegalArgumentException("mocov2 needs at least one query view, got 0");
        }
        Tensors.requireTargets(name(), input.targets(), m);
        INDArray queue = input.extra(QUEUE);
        INDArray[] grads = new INDArray[m];
        double loss = 0;
        for (int i = 0; i < m; i++) {
            INDArray q = input.view(i);
            INDArray k = input.target(i);
            Tensors.requireMatrix("q" + (i + 1), q);
            Tensors.requireSameShape("q" + (i + 1), q, "k" + (i + 1), k);
            if (queue != null && queue.length() > 0) {
                Tensors.requireMatrix("queue", queue);
                if (queue.columns() != q.columns() || queue.dataType() != q.dataType()) {
                    throw new IllegalArgumentException("queue shape " + Tensors.shape(queue) + " (" + queue.dataType()
                            + ") must have the " + q.columns() + " columns and type of q" + (i + 1) + " shape "
                            + Tensors.shape(q) + " (" + q.dataType() + ")");
                }
            }
            int n = q.rows();
            INDArray qn = Tensors.rowNorms(q);
            INDArray qu = Tensors.normalizeRows(q, qn);
            INDArray ku = Tensors.normalizeRows(k, Tensors.rowNorms(k));
            INDArray pos = qu.mul(ku).sum(1).reshape(n, 1);
            INDArray logits = queue == null || queue.length() == 0 ? pos : Nd4j.hstack(pos, qu.mmul(queue.transpose()));
            logits.divi(temperature);
            INDArray rowMax = logits.max(1).reshape(n, 1);
            INDArray e = Transforms.exp(logits.subColumnVector(rowMax), false);
            INDArray rowSum = e.sum(1).reshape(n, 1);
            double lse = Transforms.log(rowSum, true).addi(rowMax).sumNumber().doubleValue();
            loss += (lse - logits.getColumn(0).sumNumber().doubleValue()) / n / m;
            // dL/dlogits = (softmax - onehot(0)) / (N m); dq^ = dlogits [k; queue] / T
            INDArray dl = e.diviColumnVector(rowSum).divi((double) n * m * temperature);
            INDArray dPos = dl.getColumn(0).reshape(n, 1).sub(1.0 / ((double) n * m * temperature));
            INDArray du = ku.mulColumnVector(dPos);
            if (logits.columns() > 1) {
                du.addi(dl.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                        org.nd4j.linalg.indexing.NDArrayIndex.interval(1, logits.columns())).mmul(queue));
            }
            grads[i] = Tensors.normalizeBackward(du, qu, qn);
        }
        return new LossAndGradients(loss, grads);
    }

    @Override
    public String name() {
        return "mocov2";
    }

    @Override
    public Map<String, Double> hyperParameters() {
        return Map.of("temperature", temperature);
    }
}
