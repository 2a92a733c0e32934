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
 *   <tr><td>swav</td><td>projector 2048-128; prototypes [128, 3000] (a trained array outside the graph)</td>
 *       <td>Sinkhorn codes of the global views; multi-crop (any V &gt;= 2 views, grouped by size)</td>
 *       <td>Caron et al. 2020</td></tr>
 *   <tr><td>vicregl</td><td>expander 8192-8192-8192 on the pool; local projector 512-512-512 (1x1 convolutions)
 *       on stage 4: two graph outputs</td><td>none (global + local VICReg terms, matching on a fixed grid)</td>
 *       <td>Bardes et al. 2022</td></tr>
 *   <tr><td>superinfo</td><td>two parallel heads 2048-128 on the pool: mean and log-variance (two graph
 *       outputs)</td><td>none (NT-Xent of reparameterised samples + KL terms)</td><td>Wang et al. 2024</td></tr>
 * </table>
 * Head widths, the prototype count and the local projector are scaled by {@link MethodConfig#headScale()}.
 * Adding a method: an {@link Objective}, a line here, a recipe in {@code org.umm4j.data.augment.Recipes} and
 * tests. Deviations and choices per method are documented in {@link ComposedMethod}.
 */
public final class Methods {
    /** Methods {@link #create} can build. */
    public static final List<String> NAMES = List.of("simclr", "barlow", "vicreg", "wmse", "byol", "simsiam", "mocov2",
            "swav", "vicregl", "superinfo");

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
        QUEUE,
        /** codes from a trained prototype matrix, any number of views (SwAV multi-crop) */
        PROTOTYPES,
        /** a second graph output: a local projector on the stage-4 feature map (VICRegL) */
        LOCAL_MAPS,
        /** the heads are parallel on the pool, one graph output each: mean and log-variance (SuperInfo) */
        GAUSSIAN
    }

    /** One registry line: heads built from the backbone's feature size, and the target kind. */
    record Spec(String objective, IntFunction<List<MlpHeadConfig>> heads, Targets targets) {
    }

    private static final Map<String, Spec> SPECS = Map.ofEntries(
            Map.entry("simclr", new Spec("simclr", in -> List.of(Heads.simclrProjector(in)), Targets.NONE)),
            Map.entry("barlow", new Spec("barlow", in -> List.of(Heads.barlowTwinsProjector(in)), Targets.NONE)),
            Map.entry("vicreg", new Spec("vicreg", in -> List.of(Heads.vicregExpander(in)), Targets.NONE)),
            Map.entry("wmse", new Spec("wmse", in -> List.of(MlpHeadConfig.builder().setName("projector").setInputSize(in)
                    .optHiddenSizes(1024).setOutputSize(64).build()), Targets.NONE)),
            Map.entry("byol", new Spec("byol", in -> List.of(Heads.byolProjector(in), Heads.byolPredictor()), Targets.EMA)),
            Map.entry("simsiam", new Spec("simsiam", in -> List.of(Heads.simsiamProjector(in), Heads.simsiamPredictor()),
                    Targets.SELF)),
            Map.entry("mocov2", new Spec("mocov2", in -> List.of(Heads.simclrProjector(in)), Targets.QUEUE)),
            Map.entry("swav",
                    new Spec("swav", in -> List.of(Heads.simclrProjector(in)), Targets.PROTOTYPES)),
            Map.entry("vicregl", new Spec("vicregl", in -> List.of(Heads.vicregExpander(in)), Targets.LOCAL_MAPS)),
            Map.entry("superinfo", new Spec("superinfo", in -> List.of(gaussian("mu", in), gaussian("logvar", in)),
                    Targets.GAUSSIAN)));

    /**
     * Builds a method.
     *
     * @throws IllegalArgumentException for an unknown name, listing the valid ones
     */
    public static SslMethod create(MethodConfig config) {
        String name = config.method().toLowerCase(Locale.ROOT);
        Spec spec = SPECS.get(name);
        if (spec == null) {
            throw new IllegalArgumentException("unknown method '" + config.method() + "': expected one of "
                    + String.join(", ", NAMES));
        }
        Map<String, Double> params = config.objectiveParams();
        if (spec.targets() == Targets.LOCAL_MAPS && !params.containsKey("gamma")) {
            params = new java.util.HashMap<>(params);
            params.put("gamma", (double) ComposedMethod.defaultGamma(config.backbone()));
        }
        Objective objective = Objectives.create(spec.objective(), params);
        List<MlpHeadConfig> raw = spec.heads().apply(config.backbone().featureSize());
        List<MlpHeadConfig> heads = spec.targets() == Targets.GAUSSIAN
                ? raw.stream().map(h -> config.headScale() == 1.0 ? h : h.scaled(config.headScale())).toList()
                : scaledHeads(raw, config.headScale());
        return new ComposedMethod(name, objective, config, heads, spec.targets());
    }

    /** SuperInfo's Gaussian heads: the SimCLR projector shape, one for the mean and one for the log-variance. */
    private static MlpHeadConfig gaussian(String name, int in) {
        return MlpHeadConfig.builder().setName(name).setInputSize(in).optHiddenSizes(2048).setOutputSize(128).build();
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
