package org.umm4j.ssl;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The tensors an {@link Objective} consumes.
 *
 * <ul>
 *   <li>{@code views}: tensors that receive a gradient, one per entry, in the order the objective documents
 *       (for two-view objectives {@code [z1, z2]}, each [N, D]);</li>
 *   <li>{@code targets}: stop-gradient tensors (EMA target projections for BYOL, the projections for SimSiam,
 *       momentum keys for MoCo); no gradient is ever returned for them; may be empty;</li>
 *   <li>{@code extras}: named additional tensors: state the objective does not own (MoCo's "queue"), parameters it
 *       returns a gradient for (SwAV's "prototypes", reported in {@link LossAndGradients#parameterGradients()}),
 *       or side information without gradient (VICRegL's "coords1"/"coords2", SuperInfo's "noise1"/"noise2").</li>
 * </ul>
 * All tensors must share one floating data type; the objective computes in that type.
 *
 * @param views   gradient-receiving tensors
 * @param targets stop-gradient tensors
 * @param extras  named extra tensors
 */
public record ObjectiveInput(List<INDArray> views, List<INDArray> targets, Map<String, INDArray> extras) {

    public ObjectiveInput {
        Objects.requireNonNull(views, "views");
        for (int i = 0; i < views.size(); i++) {
            Objects.requireNonNull(views.get(i), "views[" + i + "]");
        }
        views = List.copyOf(views);
        targets = targets == null ? List.of() : List.copyOf(targets);
        extras = Collections.unmodifiableMap(new LinkedHashMap<>(extras == null ? Map.of() : extras));
    }

    /** Two views, no targets, no extras. */
    public static ObjectiveInput of(INDArray z1, INDArray z2) {
        return new ObjectiveInput(List.of(z1, z2), List.of(), Map.of());
    }

    /** Any number of views (multi-crop). */
    public static ObjectiveInput ofViews(INDArray... views) {
        return new ObjectiveInput(List.of(views), List.of(), Map.of());
    }

    /** Online predictions {@code p1, p2} with stop-gradient targets {@code t1, t2} (BYOL, SimSiam, MoCo). */
    public static ObjectiveInput withTargets(INDArray p1, INDArray p2, INDArray t1, INDArray t2) {
        return new ObjectiveInput(List.of(p1, p2), List.of(t1, t2), Map.of());
    }

    /** @return a copy with one more extra tensor */
    public ObjectiveInput withExtra(String name, INDArray value) {
        Objects.requireNonNull(value, name);
        Map<String, INDArray> m = new LinkedHashMap<>(extras);
        m.put(name, value);
        return new ObjectiveInput(views, targets, m);
    }

    /** @return view i */
    public INDArray view(int i) {
        return views.get(i);
    }

    /** @return target i */
    public INDArray target(int i) {
        return targets.get(i);
    }

    /** @return the named extra; IllegalArgumentException naming it when absent */
    public INDArray requireExtra(String name) {
        INDArray v = extras.get(name);
        if (v == null) {
            throw new IllegalArgumentException("objective input needs the extra tensor '" + name
                    + "'; given extras: " + extras.keySet());
        }
        return v;
    }

    /** @return the named extra or null */
    public INDArray extra(String name) {
        return extras.get(name);
    }
}
