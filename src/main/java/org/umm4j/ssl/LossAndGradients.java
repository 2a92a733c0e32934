package org.umm4j.ssl;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The result of one {@link Objective} evaluation.
 *
 * @param loss                the scalar loss L
 * @param gradients           dL/dv for every entry of {@link ObjectiveInput#views()}, same order and shape as the
 *                            views (targets never get a gradient: they are stop-gradient inputs)
 * @param parts               named, already weighted loss parts for logging (e.g. "invariance", "variance");
 *                            may be empty; their sum is not required to equal {@code loss}
 * @param parameterGradients  gradients for parameters that the objective owns as inputs, keyed by the
 *                            {@link ObjectiveInput#extras()} name (e.g. SwAV's "prototypes"); may be empty
 */
public record LossAndGradients(double loss, INDArray[] gradients, Map<String, Double> parts,
                               Map<String, INDArray> parameterGradients) {

    public LossAndGradients {
        Objects.requireNonNull(gradients, "gradients");
        parts = Collections.unmodifiableMap(new LinkedHashMap<>(parts == null ? Map.of() : parts));
        parameterGradients = Collections.unmodifiableMap(
                new LinkedHashMap<>(parameterGradients == null ? Map.of() : parameterGradients));
    }

    /** A result with gradients for the views only and no logged parts. */
    public LossAndGradients(double loss, INDArray... gradients) {
        this(loss, gradients, Map.of(), Map.of());
    }

    /** @return dL/d(view i) */
    public INDArray gradient(int i) {
        return gradients[i];
    }

    /** @return the gradient of the named parameter input; IllegalArgumentException when absent */
    public INDArray parameterGradient(String name) {
        INDArray g = parameterGradients.get(name);
        if (g == null) {
            throw new IllegalArgumentException("no parameter gradient named '" + name + "'; available: "
                    + parameterGradients.keySet());
        }
        return g;
    }
}
