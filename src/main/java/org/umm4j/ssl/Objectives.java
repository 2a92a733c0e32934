package org.umm4j.ssl;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Registry of the objectives by name: {@code simclr | byol | barlow | vicreg | vicregl | simsiam | mocov2 | wmse |
 * swav | superinfo}. Hyper-parameters are passed by the keys each objective reports in
 * {@link Objective#hyperParameters()}; a missing key keeps the paper default, an unknown key or name is an
 * {@link IllegalArgumentException} listing the valid ones. {@code create(o.name(), o.hyperParameters())} rebuilds
 * an equal objective (this is how {@link SslLossFunction} survives DL4J's JSON round trip).
 *
 * <p>Keys: simclr {temperature}; byol {}; barlow {lambda, scale, eps}; vicreg {invariance, variance, covariance};
 * vicregl {alpha, gamma, invariance, variance, covariance}; simsiam {}; mocov2 {temperature}; wmse
 * {subBatchSize, eps}; swav {temperature, epsilon, iterations, assignViews}; superinfo {temperature, la, lb}.
 */
public final class Objectives {
    /** The registered names in a fixed order. */
    public static final List<String> NAMES = List.of(
            "simclr", "byol", "barlow", "vicreg", "vicregl", "simsiam", "mocov2", "wmse", "swav", "superinfo");

    private Objectives() {
    }

    /** The named objective with its paper defaults. */
    public static Objective create(String name) {
        return create(name, Map.of());
    }

    /**
     * @param name   one of {@link #NAMES} (case-insensitive)
     * @param params hyper-parameters by key; missing keys take the defaults
     * @return the objective
     */
    public static Objective create(String name, Map<String, Double> params) {
        if (name == null) {
            throw new IllegalArgumentException("objective name must not be null; valid names: " + NAMES);
        }
        Params p = new Params(name.toLowerCase(Locale.ROOT), params == null ? Map.of() : params);
        Objective o = switch (p.name) {
            case "simclr" -> new SimClr(p.num("temperature", SimClr.DEFAULT_TEMPERATURE));
            case "byol" -> new Byol();
            case "barlow" -> new BarlowTwins(p.num("lambda", BarlowTwins.DEFAULT_LAMBDA), p.num("scale", 1.0),
                    p.num("eps", BarlowTwins.DEFAULT_EPS));
            case "vicreg" -> new VicReg(p.num("invariance", VicReg.DEFAULT_INVARIANCE),
                    p.num("variance", VicReg.DEFAULT_VARIANCE), p.num("covariance", VicReg.DEFAULT_COVARIANCE));
            case "vicregl" -> new VicRegL(p.num("alpha", VicRegL.DEFAULT_ALPHA), p.integer("gamma", VicRegL.DEFAULT_GAMMA),
                    p.num("invariance", VicReg.DEFAULT_INVARIANCE), p.num("variance", VicReg.DEFAULT_VARIANCE),
                    p.num("covariance", VicReg.DEFAULT_COVARIANCE));
            case "simsiam" -> new SimSiam();
            case "mocov2" -> new MocoV2(p.num("temperature", MocoV2.DEFAULT_TEMPERATURE));
            case "wmse" -> new WMse(p.integer("subBatchSize", WMse.DEFAULT_SUB_BATCH), p.num("eps", 0.0));
            case "swav" -> new SwAV(p.num("temperature", SwAV.DEFAULT_TEMPERATURE),
                    p.num("epsilon", SwAV.DEFAULT_EPSILON), p.integer("iterations", SwAV.DEFAULT_ITERATIONS),
                    p.integer("assignViews", SwAV.DEFAULT_ASSIGN_VIEWS));
            case "superinfo" -> new SuperInfo(p.num("temperature", SimClr.DEFAULT_TEMPERATURE),
                    p.num("la", SuperInfo.DEFAULT_KL_WEIGHT), p.num("lb", SuperInfo.DEFAULT_KL_WEIGHT));
            default -> throw new IllegalArgumentException("unknown objective '" + name + "'; valid names: " + NAMES);
        };
        p.requireAllUsed();
        return o;
    }

    private static final class Params {
        final String name;
        final Map<String, Double> values;
        final Set<String> used = new HashSet<>();

        Params(String name, Map<String, Double> values) {
            this.name = name;
            this.values = new TreeMap<>(values);
        }

        double num(String key, double def) {
            used.add(key);
            Double v = values.get(key);
            return v == null ? def : v;
        }

        int integer(String key, int def) {
            double v = num(key, def);
            if (v != Math.rint(v) || Math.abs(v) > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(name + " hyper-parameter '" + key + "' must be an integer, got " + v);
            }
            return (int) v;
        }

        void requireAllUsed() {
            List<String> unknown = new ArrayList<>();
            for (String k : values.keySet()) {
                if (!used.contains(k)) {
                    unknown.add(k);
                }
            }
            if (!unknown.isEmpty()) {
                throw new IllegalArgumentException("unknown hyper-parameter(s) " + unknown + " for objective '" + name
                        + "'; valid keys: " + new java.util.TreeSet<>(used));
            }
        }
    }
}
