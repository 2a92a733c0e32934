package org.umm4j.ssl;

import org.umm4j.nn.Heads;
import org.umm4j.nn.MlpHeadConfig;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * The registry of self-supervised methods: each line names the objective, the heads (paper sizes, scaled by
 * {@link MethodConfig#headScale()}) and how targets are produced.
 *
 * <table>
 *   <caption>methods</caption>
 *   <tr><th>name</th><th>heads</th><th>targets</th><th>paper</th></tr>
 *   <tr><td>simclr</td><td>projector 2048-128</td><td>none (NT-Xent over 2N views)</td><td>Chen et al. 2020</td></tr>
 *   <tr><td>barlow</td><td>projector 8192-8192-8192</td><td>none</td><td>Zbontar et al. 2021</td></tr>
 *   <tr><td>vicreg</td><td>expander 8192-8192-8192</td><td>none</td><td>Bardes et al. 2022</td></tr>
 *   <tr><td>wmse</td><td>projector 1024-64</td><td>none (whitening)</td><td>Ermolov et al. 2021</td></tr>
 *   <tr><td>byol</td><td>projector 4096-256, predictor 4096-256</td><td>EMA target, cosine tau 0.99 to 1</td>
 *       <td>Grill et al. 2020</td></tr>
 *   <tr><td>simsiam</td><td>projector 2048x3, predictor 512-2048</td><td>own projections, stop-gradient</td>
 *       <td>Chen and He 2021</td></tr>
 *   <tr><td>mocov2</td><td>projector 2048-128</td><td>momentum key encoder (m = 0.99), queue of K keys</td>
 *       <td>Chen et al. 2020</td></tr>
 * </table>
 * Adding a method: an {@link Objective}, a line here, a recipe in {@code org.umm4j.data.augment.Recipes} and
 * tests. swav, vicregl and superinfo need graphs with several outputs and are not composed here yet:
 * {@link #create} names them in its error.
 */
public final class Methods {
    /** Methods {@link #create} can build. */
    public static final List<String> NAMES = List.of("simclr", "barlow", "vicreg", "wmse", "byol", "simsiam", "mocov2");

    private Methods() {
    }

    /** How a method obtains the stop-gradient targets of its objective. */
    enum Targets {
        /** the objective compares the online outputs of the views with each other */
        NONE,
        /** an EMA copy of backbone + projector (BYOL: cosine tau schedule) */
        EMA,
        /** the online projector's own outputs, detached (SimSiam) */
        SELF,
        /** an EMA key encoder and a queue of negatives (MoCo v2) */
        QUEUE
    }

    /** One registry line: heads built from the backbone's feature size, and the target kind. */
    record Spec(String objective, IntFunction<List<MlpHeadConfig>> heads, Targets targets) {
    }

    private static final Map<String, Spec> SPECS = Map.of(
            "simclr", new Spec("simclr", in -> List.of(Heads.simclrProjector(in)), Targets.NONE),
            "barlow", new Spec("barlow", in -> List.of(Heads.barlowTwinsProjector(in)), Targets.NONE),
            "vicreg", new Spec("vicreg", in -> List.of(Heads.vicregExpander(in)), Targets.NONE),
            "wmse", new Spec("wmse", in -> List.of(MlpHeadConfig.builder().setName("projector").setInputSize(in)
                    .optHiddenSizes(1024).setOutputSize(64).build()), Targets.NONE),
            "byol", new Spec("byol", in -> List.of(Heads.byolProjector(in), Heads.byolPredictor()), Targets.EMA),
            "simsiam", new Spec("simsiam", in -> List.of(Heads.simsiamProjector(in), Heads.simsiamPredictor()),
                    Targets.SELF),
            "mocov2", new Spec("mocov2", in -> List.of(Heads.simclrProjector(in)), Targets.QUEUE));

    /**
     * Builds a method.
     *
     * @throws IllegalArgumentException for an unknown name, listing the valid ones
     */
    public static SslMethod create(MethodConfig config) {
        String name = config.method().toLowerCase(Locale.ROOT);
        Spec spec = SPECS.get(name);
        if (spec == null) {
            String more = Objectives.NAMES.contains(name)
                    ? " ('" + name + "' is an objective, but its method composition is not available yet)" : "";
            throw new IllegalArgumentException("unknown method '" + config.method() + "': expected one of "
                    + String.join(", ", NAMES) + more);
        }
        Objective objective = Objectives.create(spec.objective(), config.objectiveParams());
        List<MlpHeadConfig> heads = scaledHeads(spec.heads().apply(config.backbone().featureSize()),
                config.headScale());
        return new ComposedMethod(name, objective, config, heads, spec.targets());
    }

    /** Scales every head and chains the input sizes. */
    static List<MlpHeadConfig> scaledHeads(List<MlpHeadConfig> heads, double scale) {
        MlpHeadConfig[] out = new MlpHeadConfig[heads.size()];
        int in = heads.get(0).inputSize();
        for (int i = 0; i < out.length; i++) {
            MlpHeadConfig h = scale == 1.0 ? heads.get(i) : heads.get(i).scaled(scale);
            out[i] = h.withInputSize(in);
            in = out[i].outputSize();
        }
        return List.of(out);
    }
}
