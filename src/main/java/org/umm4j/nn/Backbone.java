package org.umm4j.nn;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A ResNet backbone ({@link ResNets}) with optional MLP heads on its pooled features, held as one DL4J
 * {@link ComputationGraph} together with the configs that built it.
 *
 * <p>Graph: input {@link Taps#INPUT} {@code [N, C, H, W]} (NCHW) -> ... -> {@link Taps#POOL}
 * {@code [N, featureSize]} [-> head 1 -> head 2 ...]; the graph's single output is the last head's output
 * vertex (named after the head), or {@link Taps#POOL} without heads. The graph has no loss layer: a
 * trainer runs {@link ExternalGradients#forward} and then {@link ExternalGradients#backward} with the
 * objective's gradient for the output, or builds its own graph with {@link ResNets#graphBuilder} and
 * {@link Heads#addTo} plus a loss layer.
 *
 * <p>Inputs must be rank 4 with {@code inputChannels} channels; the spatial size may differ from the
 * config's (multi-crop views), the convolutions and the global pool accept any size.
 */
public final class Backbone {
    private static final String SERIAL_KEY = "umm4j-backbone";

    private final ResNetConfig config;
    private final List<MlpHeadConfig> heads;
    private final ComputationGraph graph;

    private Backbone(ResNetConfig config, List<MlpHeadConfig> heads, ComputationGraph graph) {
        this.config = config;
        this.heads = List.copyOf(heads);
        this.graph = graph;
    }

    /** @return a freshly initialised backbone without heads (SGD updater, learning rate 0.01) */
    public static Backbone create(ResNetConfig config) {
        return create(config, new Sgd(ResNets.DEFAULT_SGD_LR));
    }

    /**
     * @param config  the backbone
     * @param updater optimiser stored in every layer
     * @param heads   heads chained on {@link Taps#POOL}: head 1 reads the pooled features, head i+1 reads
     *                head i (e.g. BYOL's projector then predictor)
     * @return a freshly initialised backbone with heads
     */
    public static Backbone create(ResNetConfig config, IUpdater updater, MlpHeadConfig... heads) {
        Objects.requireNonNull(config, "config");
        List<MlpHeadConfig> hs = List.of(heads);
        ComputationGraph g = new ComputationGraph(fullConfiguration(config, updater, hs));
        g.init();
        return new Backbone(config, hs, g);
    }

    static ComputationGraphConfiguration fullConfiguration(ResNetConfig config, IUpdater updater,
                                                           List<MlpHeadConfig> heads) {
        ComputationGraphConfiguration.GraphBuilder gb = ResNets.graphBuilder(config, updater);
        String out = addHeads(gb, config, heads);
        return gb.setOutputs(out).build();
    }

    static String addHeads(ComputationGraphConfiguration.GraphBuilder gb, ResNetConfig config, List<MlpHeadConfig> heads) {
        String prev = Taps.POOL;
        int width = config.featureSize();
        List<String> used = new ArrayList<>(Taps.ALL);
        for (int i = 0; i < heads.size(); i++) {
            MlpHeadConfig h = Objects.requireNonNull(heads.get(i), "heads[" + i + "]");
            if (h.inputSize() != width) {
                throw new IllegalArgumentException("heads[" + i + "] ('" + h.name() + "') has inputSize " + h.inputSize()
                        + " but its input '" + prev + "' has width " + width
                        + " (use MlpHeadConfig.withInputSize)");
            }
            if (used.contains(h.name()) || h.name().matches("s\\d+b\\d+") || h.name().startsWith("stem")) {
                throw new IllegalArgumentException("heads[" + i + "] name '" + h.name() + "' clashes with another vertex name");
            }
            used.add(h.name());
            prev = Heads.addTo(gb, h, prev);
            width = h.outputSize();
        }
        return prev;
    }

    /**
     * @return a new backbone whose graph has these heads on top of {@link Taps#POOL}, with this backbone's
     *     current parameters (and BN statistics) copied in and freshly initialised heads; this backbone's
     *     heads, if any, are dropped
     */
    public Backbone withHeads(MlpHeadConfig... newHeads) {
        Backbone b = create(config, updater(), newHeads);
        copyParamsByName(graph, b.graph, name -> ResNets.nodes(config).stream().anyMatch(n -> n.name().equals(name)));
        return b;
    }

    /**
     * @return a deep copy (parameters, BN statistics, updater state) with an independent graph, e.g. the
     *     initial EMA target network of BYOL
     */
    public Backbone copy() {
        return new Backbone(config, heads, graph.clone());
    }

    /** @return the updater stored in the graph's layers */
    IUpdater updater() {
        return ((BaseLayer) graph.getLayer("stem_conv").conf().getLayer()).getIUpdater().clone();
    }

    public ResNetConfig config() {
        return config;
    }

    /** @return the heads in order (empty for a bare backbone) */
    public List<MlpHeadConfig> heads() {
        return heads;
    }

    /** @return the underlying graph (shared, not a copy) */
    public ComputationGraph graph() {
        return graph;
    }

    /** @return name of the graph's output vertex: the last head's name, or {@link Taps#POOL} */
    public String outputName() {
        return heads.isEmpty() ? Taps.POOL : heads.get(heads.size() - 1).name();
    }

    /** @return length of the output vector */
    public int outputSize() {
        return heads.isEmpty() ? config.featureSize() : heads.get(heads.size() - 1).outputSize();
    }

    /** @return the graph output for {@code x} in inference mode (BN running statistics), {@code [N, outputSize]} */
    public INDArray output(INDArray x) {
        return output(x, false);
    }

    /** @return the graph output; {@code train = true} uses batch statistics and updates the running ones */
    public INDArray output(INDArray x, boolean train) {
        checkInput(x);
        // feedForward rather than outputSingle: DL4J's output() path fails in training mode on a BatchNorm
        // with locked gamma/beta (SimSiam's final BN), the feed-forward path does not
        return train ? graph.feedForward(x, true).get(outputName()) : graph.outputSingle(false, x);
    }

    /** Features at the given taps in inference mode; see {@link #features(boolean, INDArray, String...)}. */
    public Map<String, INDArray> features(INDArray x, String... taps) {
        return features(false, x, taps);
    }

    /**
     * Activations at several taps from ONE forward pass that stops at the last requested tap.
     *
     * @param train whether BatchNorm uses batch statistics (and updates its running ones)
     * @param x     input {@code [N, C, H, W]}
     * @param taps  vertex names: {@link Taps} constants, head names, or inner vertex names. In inference
     *              mode DL4J's {@code ActivationLayer} applies its activation IN PLACE on its input, so the
     *              vertices that feed a ReLU layer ({@code *_bn1}, {@code *_add}, ...) hold post-ReLU values
     *              after the pass; asking for them with {@code train = false} is rejected (the {@link Taps}
     *              and head outputs are never overwritten)
     * @return tap name -> activation (detached from workspaces), in the order requested
     */
    public Map<String, INDArray> features(boolean train, INDArray x, String... taps) {
        checkInput(x);
        if (taps == null || taps.length == 0) {
            throw new IllegalArgumentException("taps must name at least one vertex, e.g. " + knownTaps());
        }
        for (String t : taps) {
            vertex(t);
            if (!train && overwrittenInInference().contains(t)) {
                throw new IllegalArgumentException("tap '" + t + "' feeds an in-place ActivationLayer and is overwritten"
                        + " in inference mode; read it with train = true or read the activation's output instead");
            }
        }
        Map<String, INDArray> all = graph.feedForward(new INDArray[]{x}, InferenceGraph.lastPosition(graph, taps), train,
                true);
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (String t : taps) {
            INDArray a = Taps.INPUT.equals(t) ? x : all.get(t);
            if (a == null) {
                throw new IllegalStateException("no activation was computed for tap '" + t + "'");
            }
            out.put(t, a);
        }
        return out;
    }

    /** @return per-example activation shape at the tap for the config's input size ({@code [C, H, W]} or {@code [C]}) */
    public long[] tapShape(String tap) {
        vertex(tap);
        InputType t = activationTypes().get(tap);
        long[] s = t.getShape(true);
        return Arrays.copyOfRange(s, 1, s.length);
    }

    /** @return vertices whose activation array a following ActivationLayer overwrites in inference mode */
    private java.util.Set<String> overwrittenInInference() {
        java.util.Set<String> out = new java.util.HashSet<>();
        ComputationGraphConfiguration conf = graph.getConfiguration();
        conf.getVertexInputs().forEach((name, inputs) -> {
            org.deeplearning4j.nn.conf.graph.GraphVertex v = conf.getVertices().get(name);
            if (v instanceof org.deeplearning4j.nn.conf.graph.LayerVertex lv
                    && lv.getLayerConf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.ActivationLayer) {
                out.addAll(inputs);
            }
        });
        return out;
    }

    Map<String, InputType> activationTypes() {
        Map<String, InputType> types = new LinkedHashMap<>(graph.getConfiguration().getLayerActivationTypes(
                InputType.convolutional(config.height(), config.width(), config.inputChannels())));
        types.put(Taps.INPUT, InputType.convolutional(config.height(), config.width(), config.inputChannels()));
        return types;
    }

    private GraphVertex vertex(String tap) {
        GraphVertex v = tap == null ? null : graph.getVertex(tap);
        if (v == null) {
            throw new IllegalArgumentException("unknown tap '" + tap + "': expected one of " + knownTaps()
                    + " or an inner vertex name of the graph");
        }
        return v;
    }

    private List<String> knownTaps() {
        List<String> k = new ArrayList<>(Taps.ALL);
        heads.forEach(h -> k.add(h.name()));
        return k;
    }

    /**
     * Splits the network at {@code tap} into f_e (input -> tap) and f_l (tap -> output, heads included)
     * holding copies of this graph's parameters; see {@link SplitBackbone}.
     *
     * @param tap one of {@link Taps#SPLITTABLE}
     */
    public SplitBackbone split(String tap) {
        if (!Taps.SPLITTABLE.contains(tap)) {
            throw new IllegalArgumentException("cannot split at '" + tap + "': expected one of " + Taps.SPLITTABLE);
        }
        return new SplitBackbone(this, tap);
    }

    /** @return trainable parameters, BatchNorm running statistics excluded ({@link ParamCounts#trainable}) */
    public long trainableParameterCount() {
        return ParamCounts.trainable(graph);
    }

    void checkInput(INDArray x) {
        if (x == null) {
            throw new IllegalArgumentException("x must not be null; expected [N, " + config.inputChannels() + ", H, W]");
        }
        if (x.rank() != 4 || x.size(1) != config.inputChannels() || x.size(0) < 1) {
            throw new IllegalArgumentException("x must be NCHW [N, " + config.inputChannels() + ", H, W] (config: H="
                    + config.height() + ", W=" + config.width() + "), got shape " + Arrays.toString(x.shape()));
        }
    }

    /**
     * Writes graph (with updater state), backbone config and heads to {@code file} atomically: a temporary
     * file in the same directory is written and then moved over {@code file}.
     */
    public void save(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, abs.getFileName().toString(), ".tmp");
        try {
            ModelSerializer.writeModel(graph, tmp.toFile(), true);
            ModelSerializer.addObjectToFile(tmp.toFile(), SERIAL_KEY, new Saved(config, new ArrayList<>(heads)));
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Reads a backbone written by {@link #save}. */
    public static Backbone load(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        if (!Files.isRegularFile(file)) {
            throw new IOException("no backbone file at " + file);
        }
        ComputationGraph g = ModelSerializer.restoreComputationGraph(file.toFile(), true);
        Saved s;
        try {
            s = ModelSerializer.getObjectFromFile(file.toFile(), SERIAL_KEY);
        } catch (RuntimeException e) {
            throw new IOException(file + " is a DL4J model but not a umm4j backbone (no '" + SERIAL_KEY + "' entry)", e);
        }
        return new Backbone(s.config(), s.heads(), g);
    }

    /** What {@link #save} stores beside the graph. */
    private record Saved(ResNetConfig config, ArrayList<MlpHeadConfig> heads) implements Serializable {
    }

    /**
     * Copies the parameters (BN running statistics included) of every layer of {@code to} accepted by
     * {@code filter} from the layer of the same name in {@code from}.
     */
    static void copyParamsByName(ComputationGraph from, ComputationGraph to, java.util.function.Predicate<String> filter) {
        for (org.deeplearning4j.nn.api.Layer l : to.getLayers()) {
            String name = l.conf().getLayer().getLayerName();
            if (!filter.test(name) || l.numParams() == 0) {
                continue;
            }
            org.deeplearning4j.nn.api.Layer src = from.getLayer(name);
            if (src == null) {
                throw new IllegalStateException("layer '" + name + "' is missing in the source graph");
            }
            for (Map.Entry<String, INDArray> e : l.paramTable().entrySet()) {
                INDArray s = src.getParam(e.getKey());
                if (s == null || !Arrays.equals(s.shape(), e.getValue().shape())) {
                    throw new IllegalStateException("parameter " + name + "_" + e.getKey() + " does not match: "
                            + (s == null ? "missing" : Arrays.toString(s.shape())) + " vs "
                            + Arrays.toString(e.getValue().shape()));
                }
                e.getValue().assign(s);
            }
        }
    }
}
