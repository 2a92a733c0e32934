package org.umm4j.ssl;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Cosine schedule for the EMA rate of a target network (BYOL, MoCo-style methods; Grill et al. 2020, sec. 3.2):
 * <pre>
 *   tau(k) = tauEnd - (tauEnd - tauBase) (cos(pi k / K) + 1) / 2,   k = 0..K
 * </pre>
 * so tau(0) = tauBase and tau(K) = tauEnd; steps beyond K stay at tauEnd. BYOL uses tauBase = 0.996 (ImageNet);
 * 0.99 is the common small-data value and the default here; tauEnd = 1.
 *
 * @param tauBase    rate at step 0, in [0, 1]
 * @param tauEnd     rate at step K, in [tauBase, 1]
 * @param totalSteps K &gt; 0
 */
public record MomentumSchedule(double tauBase, double tauEnd, long totalSteps) {
    /** Default base rate. */
    public static final double DEFAULT_BASE = 0.99;

    public MomentumSchedule {
        if (!(tauBase >= 0 && tauBase <= 1)) {
            throw new IllegalArgumentException("tauBase must be in [0, 1], got " + tauBase);
        }
        if (!(tauEnd >= tauBase && tauEnd <= 1)) {
            throw new IllegalArgumentException("tauEnd must be in [tauBase, 1], got " + tauEnd);
        }
        if (totalSteps <= 0) {
            throw new IllegalArgumentException("totalSteps must be positive, got " + totalSteps);
        }
    }

    /** 0.99 to 1 over {@code totalSteps}. */
    public static MomentumSchedule cosine(long totalSteps) {
        return new MomentumSchedule(DEFAULT_BASE, 1.0, totalSteps);
    }

    /** @return tau at the given step (0-based; negative steps are rejected) */
    public double tau(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("step must be non-negative, got " + step);
        }
        double k = Math.min(step, totalSteps);
        return tauEnd - (tauEnd - tauBase) * (Math.cos(Math.PI * k / totalSteps) + 1) / 2;
    }

    /**
     * In-place EMA update {@code target = tau * target + (1 - tau) * online}.
     *
     * @param target target parameters (modified)
     * @param online online parameters, same shape
     * @param tau    rate in [0, 1]
     */
    public static void update(INDArray target, INDArray online, double tau) {
        if (!java.util.Arrays.equals(target.shape(), online.shape())) {
            throw new IllegalArgumentException("target shape " + Tensors.shape(target) + " and online shape "
                    + Tensors.shape(online) + " must be equal");
        }
        if (!(tau >= 0 && tau <= 1)) {
            throw new IllegalArgumentException("tau must be in [0, 1], got " + tau);
        }
        target.muli(tau).addi(online.mul(1 - tau));
    }
}
