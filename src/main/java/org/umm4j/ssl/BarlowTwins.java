package org.umm4j.ssl;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Map;

/**
 * Barlow Twins (Zbontar et al., "Barlow Twins: Self-Supervised Learning via Redundancy Reduction", ICML 2021).
 *
 * <p>Views {@code [z1, z2]}, [N, D]. Each view is standardised over the batch per feature,
 * zhat = (z - mean) / sqrt(var + eps), with the BIASED variance (divide by N), as the paper's code does through
 * a non-affine BatchNorm1d (eps = 1e-5 there and here; eps = 0 gives plain standardisation). Then
 * <pre>
 *   C = zhat1^T zhat2 / N                                  [D, D]
 *   L = scale * ( sum_i (1 - C_ii)^2 + lambda sum_{i != j} C_ij^2 )
 * </pre>
 * Defaults: lambda = 5e-3 (the paper's ImageNet value), scale = 1 (CIFAR recipes tune lambda and rescale the
 * loss, e.g. 1/32 or 0.024: set {@code scale}). Backward: dC = scale (2 (C - I) on the diagonal,
 * 2 lambda C off it), dzhat1 = zhat2 dC^T / N, dzhat2 = zhat1 dC / N, then the batch-norm backward
 * dz = (dzhat - mean(dzhat) - zhat mean(dzhat zhat)) / sqrt(var + eps). Swapping the views transposes C and
 * leaves L unchanged.
 */
public final class BarlowTwins implements Objective {
    public static final double DEFAULT_LAMBDA = 5e-3;
    public static final double DEFAULT_EPS = 1e-5;

    private final double lambda;
    private final double scale;
    private final double eps;

    /** lambda 5e-3, scale 1, eps 1e-5. */
    public BarlowTwins() {
        this(DEFAULT_LAMBDA, 1.0, DEFAULT_EPS);
    }

    /**
     * @param lambda off-diagonal weight, &gt;= 0
     * @param scale  overall loss scale, &gt; 0
     * @param eps    variance epsilon of the standardisation, &gt;= 0
     */
    public BarlowTwins(double lambda, double scale, double eps) {
        Tensors.requireNonNegative("lambda", lambda);
        Tensors.requirePositive("scale", scale);
        Tensors.requireNonNegative("eps", eps);
        this.lambda = lambda;
        this.scale = scale;
        this.eps = eps;
    }

    @Override
    public LossAndGradients compute(ObjectiveInput input) {
        Tensors.requireViews(name(), input.views(), 2);
        INDArray z1 = input.view(0);
        INDArray z2 = input.view(1);
        Tensors.requirePair(z1, z2, 2);
        int n = z1.rows();
        int d = z1.columns();
        Standardised s1 = standardise(z1, eps);
        Standardised s2 = standardise(z2, eps);
        INDArray c = s1.zhat.transpose().mmul(s2.zhat).divi(n);
        INDArray eye = Tensors.eye(d, c.dataType());
        INDArray diagDev = c.sub(eye).muli(eye);          // (C_ii - 1) on the diagonal, 0 elsewhere
        INDArray off = c.sub(c.mul(eye));                  // C with its diagonal zeroed
        double onDiag = diagDev.mul(diagDev).sumNumber().doubleValue();
        double offDiag = off.mul(off).sumNumber().doubleValue();
        double loss = scale * (onDiag + lambda * offDiag);
        INDArray dc = diagDev.muli(2 * scale).addi(off.muli(2 * scale * lambda));
        INDArray dzhat1 = s2.zhat.mmul(dc.transpose()).divi(n);
        INDArray dzhat2 = s1.zhat.mmul(dc).divi(n);
        return new LossAndGradients(loss,
                new INDArray[]{standardiseBackward(dzhat1, s1), standardiseBackward(dzhat2, s2)},
                Map.of("on_diagonal", scale * onDiag, "off_diagonal", scale * lambda * offDiag), Map.of());
    }

    private record Standardised(INDArray zhat, INDArray std) {
    }

    private static Standardised standardise(INDArray z, double eps) {
        INDArray centred = z.subRowVector(z.mean(0));
        INDArray var = centred.mul(centred).mean(0);
        INDArray std = Transforms.sqrt(var.addi(eps), false);
        return new Standardised(centred.diviRowVector(std), std);
    }

    /** Batch-norm backward for zhat = (z - mean) / std with biased variance. */
    private static INDArray standardiseBackward(INDArray dzhat, Standardised s) {
        INDArray meanD = dzhat.mean(0);
        INDArray meanDZ = dzhat.mul(s.zhat).mean(0);
        return dzhat.subRowVector(meanD).subi(s.zhat.mulRowVector(meanDZ)).diviRowVector(s.std);
    }

    @Override
    public String name() {
        return "barlow";
    }

    @Override
    public Map<String, Double> hyperParameters() {
        return Map.of("lambda", lambda, "scale", scale, "eps", eps);
    }
}
