package org.umm4j.ssl;

import org.umm4j.nn.ResNetConfig;

import java.util.Map;
import java.util.Objects;

/**
 * Everything {@link Methods#create} needs to build a method.
 *
 * @param method          registry name ({@link Methods#NAMES})
 * @param backbone        the ResNet
 * @param headScale       factor on the papers' head widths (1 = paper; CPU demos use e.g. 1/16), in (0, 1]
 * @param objectiveParams objective hyper-parameters overriding the defaults (keys of
 *                        {@link Objective#hyperParameters()})
 * @param totalSteps      steps of the whole run (the EMA schedule needs it), &gt; 0
 * @param queueSize       MoCo v2's queue length K (ignored by other methods), &gt; 0
 * @param seed            seed of the head and queue initialisation
 */
public record MethodConfig(String method, ResNetConfig backbone, double headScale, Map<String, Double> objectiveParams,
                           long totalSteps, int queueSize, long seed) {
    /** Validates; errors name the field. */
    public MethodConfig {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(backbone, "backbone");
        if (!(headScale > 0 && headScale <= 1)) {
            throw new IllegalArgumentException("headScale must be in (0, 1], got " + headScale);
        }
        objectiveParams = Map.copyOf(Objects.requireNonNull(objectiveParams, "objectiveParams"));
        if (totalSteps <= 0) {
            throw new IllegalArgumentException("totalSteps must be positive, got " + totalSteps);
        }
        if (queueSize <= 0) {
            throw new IllegalArgumentException("queueSize must be positive, got " + queueSize);
        }
    }

    /** A config with paper heads, default objective parameters and a 4,096-key queue. */
    public static MethodConfig of(String method, ResNetConfig backbone, long totalSteps, long seed) {
        return new MethodConfig(method, backbone, 1.0, Map.of(), totalSteps, 4096, seed);
    }

    /** @return a copy with another head scale */
    public MethodConfig withHeadScale(double s) {
        return new MethodConfig(method, backbone, s, objectiveParams, totalSteps, queueSize, seed);
    }

    /** @return a copy with objective hyper-parameters */
    public MethodConfig withObjectiveParams(Map<String, Double> p) {
        return new MethodConfig(method, backbone, headScale, p, totalSteps, queueSize, seed);
    }

    /** @return a copy with another queue size */
    public MethodConfig withQueueSize(int k) {
        return new MethodConfig(method, backbone, headScale, objectiveParams, totalSteps, k, seed);
    }
}
