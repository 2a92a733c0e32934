package org.umm4j.ssl;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Map;

/**
 * SimCLR's NT-Xent loss (Chen et al., "A Simple Framework for Contrastive Learning of Visual Representations",
 * ICML 2020).
 *
 * <p>Views {@code [z1, z2]}, each [N, D]. Stack u = normalize([z1; z2]) ([2N, D], unit rows), s_ik = u_i . u_k / T,
 * and with pos(i) = i + N mod 2N:
 * <pre>
 *   L = 1/(2N) sum_i [ -s_{i,pos(i)} + log sum_{k != i} exp(s_ik) ]
 * </pre>
 * i.e. every one of the 2N views is an anchor whose positive is its partner and whose negatives are the other
 * 2N - 2 views. Gradient: dL/ds_ik = (softmax_{k != i}(s_i)_k - [k = pos(i)]) / (2N), dL/du = (dS + dS^T) u / T,
 * then back through the row normalisation. Default temperature T = 0.5 (the paper's CIFAR-10 table uses
 * 0.5; 0.2 is also common for CIFAR, 0.1 for ImageNet). Invariant to swapping the views and to rescaling rows.
 */
public final class SimClr implements Objective {
    /** The paper's default temperature. */
    public static final double DEFAULT_TEMPERATURE = 0.5;

    private final double temperature;

    /** NT-Xent with the default temperature 0.5. */
    public SimClr() {
        this(DEFAULT_TEMPERATURE);
    }

    /** @param temperature T &gt; 0 */
    public SimClr(double temperature) {
        Tensors.requirePositive("temperature", temperature);
        this.temperature = temperature;
    }

    public double temperature() {
        return temperature;
    }

    @Override
    public LossAndGradients compute(ObjectiveInput input) {
        Tensors.requireViews(name(), input.views(), 2);
        return ntXent(input.view(0), input.view(1), temperature);
    }

    /** NT-Xent of two [N, D] views with gradients for both (shared with {@link SuperInfo}). */
    static LossAndGradients ntXent(INDArray z1, INDArray z2, double temperature) {
        Tensors.requirePair(z1, z2, 1);
        int n = z1.rows();
        int m = 2 * n;
        INDArray z = Nd4j.vstack(z1, z2);
        INDArray norms = Tensors.rowNorms(z);
        INDArray u = Tensors.normalizeRows(z, norms);
        INDArray s = u.mmul(u.transpose()).divi(temperature);
        // exclude self-similarity: a huge negative diagonal gives exp = 0 and never wins the max (one op instead of
        // 2N scalar writes; -1e30 is finite in FLOAT, so no inf * 0 = NaN)
        INDArray logits = s.add(Tensors.eye(m, s.dataType()).muli(-1e30));
        INDArray rowMax = logits.max(1).reshape(m, 1);
        INDArray e = Transforms.exp(logits.subColumnVector(rowMax), false);
        INDArray rowSum = e.sum(1).reshape(m, 1);
        double lse = Transforms.log(rowSum, true).addi(rowMax).sumNumber().doubleValue();
        double pos = u.get(NDArrayIndex.interval(0, n), NDArrayIndex.all())
                .mul(u.get(NDArrayIndex.interval(n, m), NDArrayIndex.all())).sumNumber().doubleValue() / temperature;
        double loss = (lse - 2 * pos) / m;

        INDArray ds = e.diviColumnVector(rowSum);
        INDArray eye = Tensors.eye(n, z.dataType());
        ds.get(NDArrayIndex.interval(0, n), NDArrayIndex.interval(n, m)).subi(eye);
        ds.get(NDArrayIndex.interval(n, m), NDArrayIndex.interval(0, n)).subi(eye);
        ds.divi(m);
        INDArray du = ds.add(ds.transpose()).mmul(u).divi(temperature);
        INDArray dz = Tensors.normalizeBackward(du, u, norms);
        INDArray g1 = dz.get(NDArrayIndex.interval(0, n), NDArrayIndex.all()).dup();
        INDArray g2 = dz.get(NDArrayIndex.interval(n, m), NDArrayIndex.all()).dup();
        return new LossAndGradients(loss, g1, g2);
    }

    @Override
    public String name() {
        return "simclr";
    }

    @Override
    public Map<String, Double> hyperParameters() {
        return Map.of("temperature", temperature);
    }
}
