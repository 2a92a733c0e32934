package org.umm4j.nn;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.umm4j.backend.Umm4jBackend;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * An inference-only copy of a {@link ComputationGraph} with every BatchNorm folded into the convolution before it
 * and the ReLU after it fused into that convolution: a snapshot for feature extraction, built once per pass over a
 * dataset.
 *
 * <p>In inference mode BatchNorm is an affine map per output channel {@code c} of the convolution {@code y = W * x + b}
 * before it, with the running statistics {@code mu, sigma^2}:
 * <pre>
 *   bn(y)_c = gamma_c (y_c - mu_c) / sqrt(sigma_c^2 + eps) + beta_c = (s_c W_c) * x + (beta_c + s_c (b_c - mu_c)),
 *   s_c     = gamma_c / sqrt(sigma_c^2 + eps)
 * </pre>
 * so conv + BN is one convolution with weights {@code s_c W_c} ({@code W: [C_out, C_in, kH, kW]}; {@code s} computed
 * in float64, the product in the weights' type) and bias {@code beta_c + s_c (b_c - mu_c)} (float64, stored in the
 * graph's data type); a ReLU
 * {@code ActivationLayer} after the BatchNorm becomes the convolution's activation, and a ReLU after a two-input
 * residual sum becomes one {@link AddReluVertex} with it. For a CIFAR ResNet-18 this removes 20 BatchNorm passes,
 * 17 ReLU layers and 8 copies per forward; oneDNN adds the bias inside the convolution. Folding is standard practice
 * for deployed CNNs (e.g. Jacob et al., CVPR 2018, section 3.2).
 *
 * <p>Names: a fused chain {@code conv -> bn [-> relu]} or {@code add -> relu} becomes one vertex named after its LAST
 * member, so every
 * vertex that survives computes the same value as the vertex of that name in the source graph (to float rounding:
 * about 1e-6 relative, tested), and all consumers keep their input names. The earlier members of a chain are absent;
 * vertices named in {@code keep} are never fused away, so a caller that wants an inner activation (a convolution
 * output, a pre-ReLU BatchNorm output) lists it there. A chain is fused only when each member has the next as its only
 * consumer and is not a network output, the convolution is a plain NCHW {@link ConvolutionLayer} with identity
 * activation, the BatchNorm is NCHW (rank-4 input) and the ReLU has no threshold, cap or slope; anything else is
 * copied unchanged with its parameters.
 *
 * <p>The copy has its own parameters: later training of the source graph does not reach it. Training mode is not
 * supported (there are no batch statistics to compute). {@code -Dumm4j.inference.fold=false} makes
 * {@link #of} return a plain copy (nothing folded) for comparisons.
 */
public final class InferenceGraph {
    /** System property that turns folding off ({@code false}); default on. */
    public static final String FOLD_PROPERTY = "umm4j.inference.fold";

    private final ComputationGraph graph;
    private final int foldedBatchNorms;
    private final int fusedReLUs;

    private InferenceGraph(ComputationGraph graph, int foldedBatchNorms, int fusedReLUs) {
        this.graph = graph;
        this.foldedBatchNorms = foldedBatchNorms;
        this.fusedReLUs = fusedReLUs;
    }

    /** @return whether {@link #of} folds ({@value #FOLD_PROPERTY}, default true) */
    public static boolean foldingEnabled() {
        return !"false".equalsIgnoreCase(System.getProperty(FOLD_PROPERTY, "true"));
    }

    /**
     * Folds the current parameters of {@code source} (read only, not modified).
     *
     * @param source an initialised graph
     * @param keep   vertex names that must stay available (e.g. the taps to read); may be empty
     */
    public static InferenceGraph of(ComputationGraph source, String... keep) {
        return of(source, keep == null ? List.of() : Arrays.asList(keep), foldingEnabled());
    }

    static InferenceGraph of(ComputationGraph source, Collection<String> keep, boolean fold) {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(keep, "keep");
        if (source.getConfiguration() == null || source.params() == null) {
            throw new IllegalArgumentException("source graph must be initialised (call init() first)");
        }
        for (String k : keep) {
            if (source.getVertex(k) == null && !source.getConfiguration().getNetworkInputs().contains(k)) {
                throw new IllegalArgumentException("keep names '" + k + "', which is not a vertex of the source graph");
            }
        }
        ComputationGraphConfiguration conf = source.getConfiguration();
        Map<String, List<String>> consumers = consumers(conf);
        Set<String> outputs = Set.copyOf(conf.getNetworkOutputs());
        Set<String> pinned = new java.util.HashSet<>(keep);
        pinned.addAll(outputs);

        // chains: conv name -> [conv, bn, relu?]; members other than the last are removed
        Map<String, Chain> chainByConv = new LinkedHashMap<>();
        Set<String> removed = new java.util.HashSet<>();
        if (fold) {
            for (String name : conf.getTopologicalOrderStr()) {
                Chain c = chainAt(conf, consumers, pinned, name);
                if (c != null) {
                    chainByConv.put(name, c);
                    removed.add(c.conv);
                    if (c.relu != null) {
                        removed.add(c.bn);
                    }
                }
            }
        }
        // residual sums: relu name -> add name, for add -> relu pairs where the add has no other use
        Map<String, String> addOfRelu = new HashMap<>();
        if (fold) {
            for (String name : conf.getTopologicalOrderStr()) {
                String relu = addReluAt(conf, consumers, pinned, name);
                if (relu != null) {
                    addOfRelu.put(relu, name);
                    removed.add(name);
                }
            }
        }
        Map<String, String> chainEnd = new HashMap<>();
        chainByConv.values().forEach(c -> chainEnd.put(c.bn, c.conv));
        chainByConv.values().stream().filter(c -> c.relu != null).forEach(c -> chainEnd.put(c.relu, c.conv));

        ComputationGraphConfiguration.GraphBuilder gb = new NeuralNetConfiguration.Builder()
                .dataType(conf.getDataType())
                .trainingWorkspaceMode(conf.getTrainingWorkspaceMode())
                .inferenceWorkspaceMode(conf.getInferenceWorkspaceMode())
                .graphBuilder()
                .addInputs(conf.getNetworkInputs().toArray(new String[0]));
        gb.validateOutputLayerConfig(false);
        // layers copied unchanged: they take the source layer's parameters of the same name
        List<String> copied = new ArrayList<>();
        int relus = 0;
        for (String name : conf.getTopologicalOrderStr()) {
            if (conf.getNetworkInputs().contains(name) || removed.contains(name)) {
                continue;
            }
            GraphVertex v = conf.getVertices().get(name);
            String[] inputs = conf.getVertexInputs().get(name).toArray(new String[0]);
            String conv = chainEnd.get(name);
            if (conv != null) {
                Chain c = chainByConv.get(conv);
                LayerVertex cv = (LayerVertex) conf.getVertices().get(conv);
                ConvolutionLayer folded = (ConvolutionLayer) cv.getLayerConf().getLayer().clone();
                folded.setLayerName(name);
                folded.setHasBias(true);
                if (c.relu != null) {
                    folded.setActivationFn(new ActivationReLU());
                    relus++;
                }
                gb.addLayer(name, folded, cv.getPreProcessor(),
                        conf.getVertexInputs().get(conv).toArray(new String[0]));
            } else if (addOfRelu.containsKey(name)) {
                gb.addVertex(name, new AddReluVertex(),
                        conf.getVertexInputs().get(addOfRelu.get(name)).toArray(new String[0]));
                relus++;
            } else if (v instanceof LayerVertex lv) {
                Layer l = lv.getLayerConf().getLayer().clone();
                gb.addLayer(name, l, lv.getPreProcessor(), inputs);
                copied.add(name);
            } else {
                gb.addVertex(name, v.clone(), inputs);
            }
        }
        gb.setOutputs(conf.getNetworkOutputs().toArray(new String[0]));
        ComputationGraphConfiguration folded = gb.build();
        long n = folded.getVertices().values().stream().mapToLong(v -> v.numParams(true)).sum();
        ComputationGraph g = new ComputationGraph(folded);
        // every parameter is written below: skip DL4J's random initialisation (most of the build time at width 64)
        g.init(n == 0 ? null : Nd4j.createUninitialized(conf.getDataType(), 1, n), false);
        for (String name : copied) {
            org.deeplearning4j.nn.api.Layer to = g.getLayer(name);
            if (to.numParams() > 0) {
                to.setParams(source.getLayer(name).params());
            }
        }
        for (Chain c : chainByConv.values()) {
            writeFolded(source, c, g.getLayer(c.end()));
        }
        // oneDNN with cached primitives for the (now bias-carrying) convolutions
        Umm4jBackend.useFastConvolution(g, Set.of());
        return new InferenceGraph(g, chainByConv.size(), relus);
    }

    /** conv -> bn (-> relu): the members of one fused chain. */
    private record Chain(String conv, String bn, String relu) {
        String end() {
            return relu != null ? relu : bn;
        }
    }

    private static Chain chainAt(ComputationGraphConfiguration conf, Map<String, List<String>> consumers,
                                 Set<String> pinned, String name) {
        if (pinned.contains(name) || !(layerOf(conf, name) instanceof ConvolutionLayer cl)
                || cl.getClass() != ConvolutionLayer.class || cl.getCnn2dDataFormat() != CNN2DFormat.NCHW
                || !isIdentity(cl.getActivationFn())) {
            return null;
        }
        String bn = onlyConsumer(consumers, name);
        if (bn == null || !(layerOf(conf, bn) instanceof BatchNormalization b)
                || b.getCnn2DFormat() != CNN2DFormat.NCHW || preProcessor(conf, bn) != null) {
            return null;
        }
        String relu = pinned.contains(bn) ? null : onlyConsumer(consumers, bn);
        if (relu != null && !(layerOf(conf, relu) instanceof ActivationLayer a && isPlainRelu(a.getActivationFn())
                && preProcessor(conf, relu) == null)) {
            relu = null;
        }
        return new Chain(name, bn, relu);
    }

    /** @return the ReLU after the two-input Add vertex {@code name} when the pair can become one add+relu vertex */
    private static String addReluAt(ComputationGraphConfiguration conf, Map<String, List<String>> consumers,
                                    Set<String> pinned, String name) {
        if (pinned.contains(name) || !(conf.getVertices().get(name) instanceof ElementWiseVertex ew)
                || ew.getOp() != ElementWiseVertex.Op.Add || conf.getVertexInputs().get(name).size() != 2) {
            return null;
        }
        String relu = onlyConsumer(consumers, name);
        return relu != null && layerOf(conf, relu) instanceof ActivationLayer a && isPlainRelu(a.getActivationFn())
                && preProcessor(conf, relu) == null ? relu : null;
    }

    private static Layer layerOf(ComputationGraphConfiguration conf, String name) {
        return conf.getVertices().get(name) instanceof LayerVertex lv ? lv.getLayerConf().getLayer() : null;
    }

    private static InputPreProcessor preProcessor(ComputationGraphConfiguration conf, String name) {
        return ((LayerVertex) conf.getVertices().get(name)).getPreProcessor();
    }

    private static String onlyConsumer(Map<String, List<String>> consumers, String name) {
        List<String> c = consumers.getOrDefault(name, List.of());
        return c.size() == 1 ? c.get(0) : null;
    }

    private static Map<String, List<String>> consumers(ComputationGraphConfiguration conf) {
        Map<String, List<String>> out = new HashMap<>();
        conf.getVertexInputs().forEach((v, ins) -> ins.forEach(i -> out.computeIfAbsent(i, k -> new ArrayList<>()).add(v)));
        return out;
    }

    private static boolean isIdentity(IActivation a) {
        return a == null || a instanceof ActivationIdentity;
    }

    /** @return whether {@code a} is DL4J's ReLU without cap, threshold or negative slope */
    static boolean isPlainRelu(IActivation a) {
        return a instanceof ActivationReLU r && r.getMax() == null && zeroOrUnset(r.getThreshold())
                && zeroOrUnset(r.getNegativeSlope());
    }

    private static boolean zeroOrUnset(Double d) {
        return d == null || d == 0.0;
    }

    /** Writes {@code s W} and {@code beta + s (b - mu)} of chain {@code c} from {@code source} into {@code to}. */
    private static void writeFolded(ComputationGraph source, Chain c, org.deeplearning4j.nn.api.Layer to) {
        org.deeplearning4j.nn.api.Layer conv = source.getLayer(c.conv);
        org.deeplearning4j.nn.api.Layer bnLayer = source.getLayer(c.bn);
        BatchNormalization bn = (BatchNormalization) bnLayer.conf().getLayer();
        INDArray w = conv.getParam(ConvolutionParamInitializer.WEIGHT_KEY);
        INDArray bias = ((ConvolutionLayer) conv.conf().getLayer()).isHasBias()
                ? conv.getParam(ConvolutionParamInitializer.BIAS_KEY) : null;
        int cout = (int) w.size(0);
        double[] mean = doubles(bnLayer.getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN), cout, c.bn, "mean");
        double[] var = variance(bnLayer, bn, cout, c.bn);
        double[] gamma = bn.isLockGammaBeta() ? filled(cout, bn.getGamma())
                : doubles(bnLayer.getParam(BatchNormalizationParamInitializer.GAMMA), cout, c.bn, "gamma");
        double[] beta = bn.isLockGammaBeta() ? filled(cout, bn.getBeta())
                : doubles(bnLayer.getParam(BatchNormalizationParamInitializer.BETA), cout, c.bn, "beta");
        double[] b0 = bias == null ? new double[cout] : doubles(bias, cout, c.conv, "bias");
        double[] scale = new double[cout];
        double[] newBias = new double[cout];
        for (int k = 0; k < cout; k++) {
            scale[k] = gamma[k] / Math.sqrt(var[k] + bn.getEps());
            newBias[k] = beta[k] + scale[k] * (b0[k] - mean[k]);
        }
        // W' = s W row by row in the weights' own type (s rounded once to it): no float64 copies of the weights
        INDArray s = Nd4j.createFromArray(scale).reshape(cout, 1).castTo(w.dataType());
        INDArray target = to.getParam(ConvolutionParamInitializer.WEIGHT_KEY);
        target.assign(w.reshape('c', cout, w.length() / cout).mulColumnVector(s).reshape('c', w.shape()));
        INDArray tb = to.getParam(ConvolutionParamInitializer.BIAS_KEY);
        tb.assign(Nd4j.createFromArray(newBias).reshape(tb.shape()).castTo(tb.dataType()));
    }

    /** Running variance, from either of DL4J's parameterisations (variance, or log10 of the standard deviation). */
    private static double[] variance(org.deeplearning4j.nn.api.Layer bnLayer, BatchNormalization bn, int n, String name) {
        if (bn.isUseLogStd()) {
            double[] l = doubles(bnLayer.getParam(BatchNormalizationParamInitializer.GLOBAL_LOG_STD), n, name, "log10std");
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                double std = Math.pow(10, l[i]);
                // as the layer: var = (10^l)^2, eps added afterwards (org.umm4j.export.BnVariance)
                v[i] = std * std;
            }
            return v;
        }
        return doubles(bnLayer.getParam(BatchNormalizationParamInitializer.GLOBAL_VAR), n, name, "var");
    }

    private static double[] doubles(INDArray a, int n, String layer, String what) {
        if (a == null || a.length() != n) {
            throw new IllegalStateException(layer + ": expected " + n + " " + what + " values, got "
                    + (a == null ? "none" : Arrays.toString(a.shape())));
        }
        return a.castTo(DataType.DOUBLE).reshape(n).toDoubleVector();
    }

    private static double[] filled(int n, double v) {
        double[] d = new double[n];
        Arrays.fill(d, v);
        return d;
    }

    /** @return the inference graph (own parameters; use with {@code train = false} only) */
    public ComputationGraph graph() {
        return graph;
    }

    /** @return how many BatchNorm layers were folded into their convolution */
    public int foldedBatchNorms() {
        return foldedBatchNorms;
    }

    /** @return how many ReLU layers were fused: into a convolution's activation or into an {@link AddReluVertex} */
    public int fusedReLUs() {
        return fusedReLUs;
    }

    /**
     * Inference-mode activations at {@code vertices}, computing only what they need.
     *
     * @param x        the graph's single input
     * @param vertices names of vertices of {@link #graph()}: the source graph's names that were kept
     * @return name -> activation (detached from workspaces), in the order requested
     */
    public Map<String, INDArray> activations(INDArray x, String... vertices) {
        return activations(graph, x, vertices);
    }

    /**
     * Inference-mode activations of any graph at {@code vertices}, computing only what they need: one vertex through
     * {@code output(List, ...)} (only its activation copied out of the workspaces), several through one feed-forward
     * pass to the last of them.
     *
     * @return name -> activation (detached from workspaces), in the order requested
     */
    public static Map<String, INDArray> activations(ComputationGraph graph, INDArray x, String... vertices) {
        Objects.requireNonNull(graph, "graph");
        Objects.requireNonNull(x, "x");
        if (vertices == null || vertices.length == 0) {
            throw new IllegalArgumentException("vertices must name at least one vertex");
        }
        for (String v : vertices) {
            if (graph.getVertex(v) == null) {
                throw new IllegalArgumentException("'" + v + "' is not a vertex of the graph (for an inference graph: "
                        + "fused into another, or unknown; pass it in keep when building it)");
            }
        }
        Map<String, INDArray> m = new LinkedHashMap<>();
        if (vertices.length == 1) {
            // computes only what the vertex needs and copies out only its activation
            m.put(vertices[0], graph.output(List.of(vertices[0]), false, new INDArray[]{x}, null)[0]);
            return m;
        }
        // DL4J M2.1's output(List, ...) fails (NullPointerException) when two requested vertices' activations are
        // alive at once; feed forward to the last requested vertex instead (every activation up to it detached)
        Map<String, INDArray> all = graph.feedForward(new INDArray[]{x}, lastPosition(graph, vertices), false, true);
        for (String v : vertices) {
            m.put(v, all.get(v));
        }
        return m;
    }

    /**
     * @return the largest position in {@code graph}'s topological order among {@code vertices} (existing vertex
     *     names): how far DL4J's {@code feedForward(inputs, layerTillIndex, ...)} must run to compute them all
     */
    static int lastPosition(ComputationGraph graph, String... vertices) {
        int[] order = graph.topologicalSortOrder();
        int[] position = new int[order.length];
        for (int i = 0; i < order.length; i++) {
            position[order[i]] = i;
        }
        int last = 0;
        for (String v : vertices) {
            last = Math.max(last, position[graph.getVertex(v).getVertexIndex()]);
        }
        return last;
    }
}
