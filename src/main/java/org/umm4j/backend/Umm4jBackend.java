package org.umm4j.backend;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNBatchNormHelper;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * The one place where umm4j switches DL4J onto its fast CPU path.
 *
 * <p>DL4J 1.0.0-M2.1 ships two obstacles between a user and the oneDNN (MKL-DNN) layer helpers that make
 * convolution, pooling and batch normalisation 4-8x faster on CPU:
 * <ol>
 *   <li>helper creation is disabled unless the system property {@value #HELPERS_DISABLE_PROPERTY} is
 *       {@code false} (its default is {@code true});</li>
 *   <li>the availability check looks for a class that moved in M2.1; umm4j ships the shim
 *       {@link org.nd4j.nativeblas.Nd4jCpu.Environment} so that the check passes again.</li>
 * </ol>
 * The build also picks the {@code linux-x86_64-onednn} natives of nd4j-native by classifier.
 *
 * <p>{@link #init()} is idempotent and is called by every umm4j entry point that builds a network
 * (backbones, trainers, the CLI), so library users get the fast path without doing anything.
 * A user who wants DL4J's generic path sets {@code -D}{@value #FAST_PATH_PROPERTY}{@code =false}
 * (benchmarks compare both); a value set explicitly for {@value #HELPERS_DISABLE_PROPERTY} is
 * always respected.
 */
public final class Umm4jBackend {
    /** DL4J's switch; helpers are created only when it is {@code false}. */
    public static final String HELPERS_DISABLE_PROPERTY = "org.eclipse.deeplearning4j.helpers.disable";
    /** umm4j's switch for the fast path; default {@code true}. */
    public static final String FAST_PATH_PROPERTY = "umm4j.fastpath";

    /** umm4j's switch for {@link #useFastConvolution}; default {@code true}. */
    public static final String FAST_CONVOLUTION_PROPERTY = "umm4j.fastconv";
    /**
     * Where {@link #useFastConvolution}'s oneDNN helper runs Winograd: {@code auto} (default: 3x3 stride-1 layers with
     * at least 32 input and output channels), {@code all} (every 3x3 stride-1 layer oneDNN has it for) or
     * {@code false} (direct algorithm everywhere, bit-for-bit the choice before Winograd was added).
     */
    public static final String WINOGRAD_PROPERTY = "umm4j.winograd";
    /** umm4j's switch for {@link #pairConvolutionBatchNorm}; default {@code true}. */
    public static final String BLOCKED_BATCH_NORM_PROPERTY = "umm4j.blockedbn";
    /** umm4j's switch for {@link #pairResidualStreams} (also off with the blocked BatchNorm edges); default true. */
    public static final String BLOCKED_STREAM_PROPERTY = "umm4j.blockedstream";
    /** umm4j's switch for {@link #useFastBatchNorm}; default {@code true}. */
    public static final String FAST_BATCH_NORM_PROPERTY = "umm4j.fastbatchnorm";

    private static final Logger LOG = LoggerFactory.getLogger(Umm4jBackend.class);
    /** DL4J's package-private helper field of its BatchNormalization layer; null if this DL4J build lacks it */
    private static final Field BN_HELPER = bnHelperField();
    private static final Field CONV_HELPER = convHelperField();
    private static final String CPU_ENVIRONMENT = "org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment";

    private Umm4jBackend() {
    }

    /**
     * Enables the oneDNN helpers unless the user opted out, and (first, while ND4J's native library is not loaded yet)
     * shortens libgomp's spin-wait ({@code OpenMpTuning}: {@code GOMP_SPINCOUNT=10000} unless the environment sets
     * it; {@code -Dumm4j.gomp.spincount=off|N}); safe to call any number of times.
     *
     * @return whether the fast path is on after the call
     */
    public static boolean init() {
        tuneOpenMp();
        boolean wanted = Boolean.parseBoolean(System.getProperty(FAST_PATH_PROPERTY, "true"));
        if (System.getProperty(HELPERS_DISABLE_PROPERTY) == null) {
            System.setProperty(HELPERS_DISABLE_PROPERTY, Boolean.toString(!wanted));
        }
        boolean on = fastPathEnabled();
        LOG.debug("umm4j backend {} (oneDNN helpers {})", backendName(), on ? "on" : "off");
        return on;
    }

    /**
     * Shortens libgomp's spin-wait for ND4J's OpenMP threads ({@code GOMP_SPINCOUNT=10000}, see {@code OpenMpTuning})
     * if ND4J's native library is not loaded yet and the environment does not set it; {@code
     * -Dumm4j.gomp.spincount=off} leaves libgomp alone, {@code =N} sets N. Call it first thing in a program (the CLI
     * and {@link #init()} do).
     *
     * @return what was done, for a log line
     */
    public static String tuneOpenMp() {
        String what = OpenMpTuning.apply();
        LOG.debug("OpenMP: {}", what);
        return what;
    }

    /** @return whether DL4J will create oneDNN helpers for new layers */
    public static boolean fastPathEnabled() {
        return !Boolean.parseBoolean(System.getProperty(HELPERS_DISABLE_PROPERTY, "true"))
                && nativeOneDnnEnabled();
    }

    /**
     * Forces the fast path on or off for layers created after this call (used by benchmarks that
     * compare both paths in one run).
     */
    public static void setFastPath(boolean on) {
        System.setProperty(FAST_PATH_PROPERTY, Boolean.toString(on));
        System.setProperty(HELPERS_DISABLE_PROPERTY, Boolean.toString(!on));
    }

    private static Field convHelperField() {
        try {
            Field f = org.deeplearning4j.nn.layers.convolution.ConvolutionLayer.class.getDeclaredField("helper");
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    private static Field bnHelperField() {
        try {
            Field f = BatchNormalization.class.getDeclaredField("helper");
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Gives every BatchNorm layer of {@code graph} that runs on DL4J's oneDNN helper the umm4j subclass that runs
     * training-mode forward and backward passes of NCHW FLOAT inputs as streaming passes over the buffers instead of
     * ND4J's per-channel reductions, oneDNN's plain-layout kernel and libnd4j's {@code batchnorm_bp} (see
     * {@code FusedBatchNormHelper}; same values to float rounding, 3-6x faster per layer, benchmarks/README.md). Idempotent and cheap (a scan of the layers), so trainers call it
     * before each training forward pass: DL4J creates fresh helpers whenever it builds layers (init, clone, load).
     * Layers without the oneDNN helper (fast path off, CUDA) are left alone, as is everything when
     * {@code -D}{@value #FAST_BATCH_NORM_PROPERTY}{@code =false}.
     *
     * @return the number of layers whose helper was replaced by this call
     */
    public static int useFastBatchNorm(ComputationGraph graph) {
        if (graph == null || BN_HELPER == null || !FusedBatchNormHelper.supported()
                || !Boolean.parseBoolean(System.getProperty(FAST_BATCH_NORM_PROPERTY, "true"))) {
            return 0;
        }
        int replaced = 0;
        for (Layer l : graph.getLayers()) {
            if (l instanceof BatchNormalization bn) {
                try {
                    Object h = BN_HELPER.get(bn);
                    if (h != null && h.getClass() == MKLDNNBatchNormHelper.class) {
                        BN_HELPER.set(bn, new FusedBatchNormHelper(graph.getConfiguration().getDataType()));
                        replaced++;
                    }
                } catch (IllegalAccessException e) {
                    LOG.debug("cannot replace the BatchNorm helper of {}: {}", l.getConfig().getLayerName(), e.toString());
                    return replaced;
                }
            }
        }
        return replaced;
    }

    /**
     * Gives each convolution layer of {@code graph} that runs on DL4J's oneDNN helper a umm4j helper, chosen by
     * {@code -D}{@value #FAST_CONVOLUTION_PROPERTY}:
     * <ul>
     *   <li>{@code dnnl} (default, also {@code true}): {@code DnnlConvHelper} for every such layer, oneDNN called
     *       directly with cached primitives and scratch buffers shared by the graph's layers (falls back to
     *       {@code deconv} where JavaCPP's dnnl natives cannot load);</li>
     *   <li>{@code deconv}: {@code NarrowConvHelper} for layers with at most 16 input and output channels (their
     *       backward data pass as a transposed convolution instead of oneDNN's Winograd choice);</li>
     *   <li>{@code false}: DL4J's helper everywhere.</li>
     * </ul>
     * Layers named in {@code withoutInputGradient} compute only the weight gradient and return zeros as dL/dx (for
     * graphs whose input gradient nobody reads, such as umm4j's workspace twin). Idempotent and cheap; layers keep
     * DL4J's helper without the oneDNN helper (CUDA, fast path off).
     *
     * @return the number of layers whose helper was replaced by this call
     * @throws IllegalArgumentException if the property has another value
     */
    public static int useFastConvolution(ComputationGraph graph, Collection<String> withoutInputGradient) {
        String choice = System.getProperty(FAST_CONVOLUTION_PROPERTY, "dnnl").trim().toLowerCase(Locale.ROOT);
        if (!List.of("dnnl", "true", "deconv", "false").contains(choice)) {
            throw new IllegalArgumentException("-D" + FAST_CONVOLUTION_PROPERTY + "=" + choice
                    + ": expected dnnl, deconv, true (= dnnl) or false");
        }
        int winogradMinChannels = winogradMinChannels();
        if (graph == null || CONV_HELPER == null || choice.equals("false")) {
            return 0;
        }
        boolean dnnl = !choice.equals("deconv") && DnnlAvailability.REASON == null;
        DnnlContext ctx = null;
        int replaced = 0;
        for (Layer l : graph.getLayers()) {
            if (l instanceof org.deeplearning4j.nn.layers.convolution.ConvolutionLayer conv
                    && l.getClass() == org.deeplearning4j.nn.layers.convolution.ConvolutionLayer.class) {
                try {
                    Object h = CONV_HELPER.get(conv);
                    boolean dx = !withoutInputGradient.contains(l.getConfig().getLayerName());
                    INDArray w = conv.getParam(org.deeplearning4j.nn.params.ConvolutionParamInitializer.WEIGHT_KEY);
                    if (h == null || h.getClass() != org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper.class
                            || w == null || w.rank() != 4) {
                        continue;
                    }
                    DataType type = graph.getConfiguration().getDataType();
                    if (dnnl) {
                        if (ctx == null) {
                            ctx = DnnlContext.create();
                        }
                        CONV_HELPER.set(conv, new DnnlConvHelper(type, ctx, dx, winogradMinChannels));
                        replaced++;
                    } else if (NarrowConvHelper.eligible(w.size(1), w.size(0), dx)) {
                        CONV_HELPER.set(conv, new NarrowConvHelper(type, dx, conv.hasBias()));
                        replaced++;
                    }
                } catch (IllegalAccessException e) {
                    LOG.debug("cannot replace the convolution helper of {}: {}", l.getConfig().getLayerName(),
                            e.toString());
                    return replaced;
                }
            }
        }
        return replaced;
    }

    /**
     * For graphs training with DL4J's forward cache ({@code CacheMode.DEVICE}): each convolution with an identity
     * activation and umm4j's oneDNN helper stops copying its output into the cache and instead hands the output array
     * itself to DL4J as its cached pre-activation (the layer's cache mode becomes {@code NONE}; the helper calls
     * {@code setPreOutput} after every forward pass). DL4J's backward pass reads that array only for the identity's
     * derivative, which uses its shape alone, so the copy bought nothing; without any cache DL4J would run the
     * forward pass again instead. Idempotent.
     *
     * @return the number of layers switched by this call
     */
    public static int keepConvolutionOutputs(ComputationGraph graph) {
        if (graph == null || CONV_HELPER == null) {
            return 0;
        }
        int switched = 0;
        for (Layer l : graph.getLayers()) {
            if (l.getClass() == org.deeplearning4j.nn.layers.convolution.ConvolutionLayer.class
                    && l.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.ConvolutionLayer c
                    && c.getActivationFn() instanceof org.nd4j.linalg.activations.impl.ActivationIdentity) {
                try {
                    if (CONV_HELPER.get(l) instanceof DnnlConvHelper h && !h.keepsOutputs()) {
                        org.deeplearning4j.nn.layers.convolution.ConvolutionLayer conv =
                                (org.deeplearning4j.nn.layers.convolution.ConvolutionLayer) l;
                        h.keepOutputsIn(conv::setPreOutput);
                        conv.setCacheMode(org.deeplearning4j.nn.conf.CacheMode.NONE);
                        switched++;
                    }
                } catch (IllegalAccessException e) {
                    LOG.debug("cannot read the convolution helper of {}: {}", l.getConfig().getLayerName(),
                            e.toString());
                    return switched;
                }
            }
        }
        return switched;
    }

    /**
     * Diagnostics: how many forward passes {@code layer}'s umm4j oneDNN helper has run, or -1 if it has none (DL4J's
     * backward pass reruns a convolution's forward pass when it finds no cached pre-activation).
     */
    public static long convolutionForwardPasses(Layer layer) {
        try {
            return CONV_HELPER != null && layer instanceof org.deeplearning4j.nn.layers.convolution.ConvolutionLayer
                    && CONV_HELPER.get(layer) instanceof DnnlConvHelper h ? h.forwardCalls() : -1;
        } catch (IllegalAccessException e) {
            return -1;
        }
    }

    /**
     * The smallest channel count at which {@code DnnlConvHelper} runs Winograd, from {@value #WINOGRAD_PROPERTY}.
     *
     * @throws IllegalArgumentException if the property has a value other than auto, all, true (= auto) or false
     */
    static int winogradMinChannels() {
        String choice = System.getProperty(WINOGRAD_PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
        return switch (choice) {
            case "auto", "true" -> 32;
            case "all" -> 1;
            case "false" -> Integer.MAX_VALUE;
            default -> throw new IllegalArgumentException("-D" + WINOGRAD_PROPERTY + "=" + choice
                    + ": expected auto, all, true (= auto) or false");
        };
    }

    /**
     * Keeps each named convolution's output in oneDNN's blocked layout for the BatchNorm layer that alone reads it
     * (see {@code BlockedHandoff}: the convolution's NCHW output array and the BatchNorm's input-gradient array
     * then hold blocked data, and the BatchNorm runs oneDNN's blocked-layout kernel, 5-10x faster per layer). Only for
     * graphs whose named convolution outputs nothing else reads (umm4j's training twin checks that), and only for
     * convolutions with a multiple of 16 output channels (no padded blocked layouts); the pairs must already have
     * umm4j's helpers ({@link #useFastConvolution} with dnnl, {@link #useFastBatchNorm}). Idempotent;
     * nothing happens with {@code -D}{@value #BLOCKED_BATCH_NORM_PROPERTY}{@code =false}.
     *
     * @param convToBatchNorm convolution layer name -> the BatchNorm layer reading its output
     * @return the number of pairs newly connected by this call
     */
    public static int pairConvolutionBatchNorm(ComputationGraph graph, Map<String, String> convToBatchNorm) {
        return pairHelpers(graph, convToBatchNorm, true, (conv, ch, bh) -> {
            INDArray w = conv.getParam(org.deeplearning4j.nn.params.ConvolutionParamInitializer.WEIGHT_KEY);
            if (w == null || w.rank() != 4 || w.size(0) % 16 != 0
                    || (ch.handoff() != null && ch.handoff() == bh.handoff())) {
                return false;
            }
            BlockedHandoff h = new BlockedHandoff(ch.context());
            ch.pair(h);
            bh.pair(h);
            return true;
        });
    }

    /**
     * Keeps each named BatchNorm layer's output (its ReLU fused, {@link #fuseBatchNormRelu}) in oneDNN's blocked
     * layout for the convolution that alone reads it (see {@code BlockedEdge}: the BatchNorm's NCHW output array and
     * the convolution's input-gradient array then hold blocked data). Takes effect for BatchNorm layers paired with
     * their input convolution ({@link #pairConvolutionBatchNorm}); idempotent; nothing happens with
     * {@code -D}{@value #BLOCKED_BATCH_NORM_PROPERTY}{@code =false}.
     *
     * @param batchNormToConv BatchNorm layer name -> the convolution layer reading its (ReLU-fused) output
     * @return the number of edges newly connected by this call
     */
    public static int pairBatchNormConvolution(ComputationGraph graph, Map<String, String> batchNormToConv) {
        return pairHelpers(graph, batchNormToConv, false, (conv, ch, bh) -> {
            if (bh.handoff() == null || (ch.input() != null && ch.input() == bh.output())) {
                return false;
            }
            BlockedEdge edge = new BlockedEdge(ch.context());
            bh.pairOutput(edge);
            ch.pairInput(edge);
            return true;
        });
    }

    /**
     * Keeps residual-stream tensors in oneDNN's blocked layout (a ResNet's block inputs and outputs and the BatchNorm
     * outputs summed into them): each producer (a BatchNorm layer paired with its convolution, whose output only the
     * named consumers read, or a residual-sum vertex of umm4j's {@code AddReluVertex}) writes blocked values into
     * DL4J's own output array; the convolutions reading it take it blocked forward and for their weight gradient
     * and write dL/dx blocked; the sums add blocked inputs into blocked outputs (element-wise, so layout-free); DL4J
     * adds the consumers' gradients element-wise as before, and the producers read the sum blocked. Every side checks
     * by buffer address that it got what the other side wrote and fails loudly otherwise. The caller guarantees that
     * nothing else reads these tensors (umm4j's training twin checks that). All or nothing: returns 0 and changes
     * nothing unless every named layer has umm4j's helpers (BatchNorms paired with their convolutions already,
     * {@link #pairConvolutionBatchNorm}), every sum is an {@link AddReluKernel.Holder}, and no participant is paired
     * yet. Nothing happens with {@code -D}{@value #BLOCKED_BATCH_NORM_PROPERTY}{@code =false}.
     *
     * @param producers  the vertices producing stream tensors (BatchNorm layers and sum vertices)
     * @param convInputs convolution layer -> the producer whose tensor is its input
     * @param sumInputs  sum vertex -> the producers of its two inputs
     * @return the number of tensors put in the blocked layout
     */
    public static int pairResidualStreams(ComputationGraph graph, Collection<String> producers,
                                          Map<String, String> convInputs, Map<String, List<String>> sumInputs) {
        if (graph == null || CONV_HELPER == null || BN_HELPER == null || producers.isEmpty()
                || !Boolean.parseBoolean(System.getProperty(BLOCKED_BATCH_NORM_PROPERTY, "true"))
                || !Boolean.parseBoolean(System.getProperty(BLOCKED_STREAM_PROPERTY, "true"))) {
            return 0;
        }
        try {
            Map<String, FusedBatchNormHelper> bns = new LinkedHashMap<>();
            Map<String, AddReluKernel> sums = new LinkedHashMap<>();
            Map<String, DnnlConvHelper> convs = new LinkedHashMap<>();
            for (String p : producers) {
                if (graph.getVertex(p) instanceof AddReluKernel.Holder h) {
                    if (h.kernel().streamed()) {
                        return 0;
                    }
                    sums.put(p, h.kernel());
                } else if (graph.getLayer(p) != null
                        && BN_HELPER.get(graph.getLayer(p)) instanceof FusedBatchNormHelper bh
                        && bh.handoff() != null && bh.output() == null) {
                    bns.put(p, bh);
                } else {
                    return 0;
                }
            }
            for (String c : convInputs.keySet()) {
                Layer l = graph.getLayer(c);
                if (l == null || !(CONV_HELPER.get(l) instanceof DnnlConvHelper ch) || ch.input() != null) {
                    return 0;
                }
                convs.put(c, ch);
            }
            if (convs.isEmpty() || !sums.keySet().containsAll(sumInputs.keySet())) {
                return 0;
            }
            DnnlContext ctx = convs.values().iterator().next().context();
            Map<String, BlockedEdge> edges = new LinkedHashMap<>();
            for (String p : producers) {
                edges.put(p, new BlockedEdge(ctx));
            }
            bns.forEach((name, bh) -> bh.pairOutput(edges.get(name)));
            convInputs.forEach((name, p) -> convs.get(name).pairInput(edges.get(p)));
            for (Map.Entry<String, List<String>> e : sumInputs.entrySet()) {
                sums.get(e.getKey()).stream(edges.get(e.getValue().get(0)), edges.get(e.getValue().get(1)),
                        edges.get(e.getKey()));
            }
            return edges.size();
        } catch (IllegalAccessException e) {
            LOG.debug("cannot read a helper for the residual stream: {}", e.toString());
            return 0;
        }
    }

    /**
     * {@link #relayBlockedGradient} for the pass-through ReLU after a residual sum in a blocked stream
     * ({@link #pairResidualStreams}).
     */
    public static INDArray relaySumGradient(ComputationGraph graph, String sum, INDArray eps,
                                            java.util.function.Supplier<INDArray> copy) {
        if (graph.getVertex(sum) instanceof AddReluKernel.Holder h && h.kernel().streamed()
                && h.kernel().output().blockedValue()) {
            INDArray to = copy.get();
            h.kernel().output().relay(eps, to);
            return to;
        }
        return null;
    }

    /** Connects a convolution's and a BatchNorm's umm4j helpers; returns whether it made a new connection. */
    private interface Pairing {
        boolean connect(Layer conv, DnnlConvHelper convHelper, FusedBatchNormHelper batchNormHelper);
    }

    /**
     * Runs {@code pairing} on each named (convolution, BatchNorm) pair whose layers carry umm4j's helpers, unless
     * {@code -D}{@value #BLOCKED_BATCH_NORM_PROPERTY}{@code =false}.
     *
     * @param convIsKey whether {@code pairs} maps convolution names to BatchNorm names (else the reverse)
     * @return the number of new connections
     */
    private static int pairHelpers(ComputationGraph graph, Map<String, String> pairs, boolean convIsKey,
                                   Pairing pairing) {
        if (graph == null || CONV_HELPER == null || BN_HELPER == null
                || !Boolean.parseBoolean(System.getProperty(BLOCKED_BATCH_NORM_PROPERTY, "true"))) {
            return 0;
        }
        int paired = 0;
        for (Map.Entry<String, String> e : pairs.entrySet()) {
            Layer conv = graph.getLayer(convIsKey ? e.getKey() : e.getValue());
            Layer bn = graph.getLayer(convIsKey ? e.getValue() : e.getKey());
            if (conv == null || bn == null) {
                continue;
            }
            try {
                if (CONV_HELPER.get(conv) instanceof DnnlConvHelper ch
                        && BN_HELPER.get(bn) instanceof FusedBatchNormHelper bh && pairing.connect(conv, ch, bh)) {
                    paired++;
                }
            } catch (IllegalAccessException ex) {
                LOG.debug("cannot pair {} and {}: {}", e.getKey(), e.getValue(), ex.toString());
                return paired;
            }
        }
        return paired;
    }

    /**
     * For a layer between a paired BatchNorm and its convolution ({@link #pairBatchNormConvolution}) that passes
     * gradients through: when the BatchNorm's last forward pass left its output blocked, the gradient {@code eps}
     * the convolution returned holds blocked data; this hands the edge over to {@code copy.get()} (the array the
     * layer passes on: {@code eps} or a byte copy of it in the layer's own workspace) and returns it. Returns null
     * when the edge is not blocked (pass {@code eps} on as usual).
     *
     * @throws IllegalStateException if the edge is blocked but {@code eps} is not the convolution's gradient array
     */
    public static INDArray relayBlockedGradient(ComputationGraph graph, String batchNorm, INDArray eps,
                                                java.util.function.Supplier<INDArray> copy) {
        Layer bn = graph.getLayer(batchNorm);
        if (bn == null || BN_HELPER == null) {
            return null;
        }
        try {
            if (BN_HELPER.get(bn) instanceof FusedBatchNormHelper bh && bh.output() != null
                    && bh.output().blockedValue()) {
                INDArray to = copy.get();
                bh.output().relay(eps, to);
                return to;
            }
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot read the BatchNorm helper of " + batchNorm, e);
        }
        return null;
    }

    /** Whether JavaCPP's dnnl natives loaded (umm4j's own oneDNN kernels can run). */
    static boolean dnnlAvailable() {
        return DnnlAvailability.REASON == null;
    }

    /**
     * Whether JavaCPP's dnnl natives load here, checked once per JVM (a failed native load cannot be retried
     * anyway); {@code REASON} is null when they do.
     */
    private static final class DnnlAvailability {
        static final String REASON = check();

        private static String check() {
            try {
                DnnlContext.create();
                return null;
            } catch (LinkageError | RuntimeException e) {
                LOG.warn("oneDNN through JavaCPP's dnnl preset is unavailable ({}); convolutions use DL4J's "
                        + "oneDNN helper with umm4j's transposed-convolution backward pass", e.toString());
                return e.toString();
            }
        }
    }

    /**
     * Fuses the ReLU that follows each named BatchNorm layer into that layer's umm4j helper (installing the helpers
     * first, as {@link #useFastBatchNorm}): in training mode the layer then outputs {@code max(BN(x), 0)} and expects
     * the gradient with respect to that output, so the ReLU layer after it must pass activations and gradients
     * through unchanged in training (umm4j's workspace twin arranges that, see {@code org.umm4j.nn.WorkspaceBackprop}).
     * Layers whose helper cannot fuse (switch off, no oneDNN helper, fused backward off) are left alone and absent
     * from the result.
     *
     * @param graph  a graph whose configuration already routes the named layers' outputs through pass-through ReLUs
     * @param layers BatchNorm layer names
     * @return for each fused layer, a check that its last training-mode forward pass applied the ReLU (DL4J may
     *         re-create helpers or bypass them; the pass-through layer fails rather than skip the ReLU)
     */
    public static Map<String, BooleanSupplier> fuseBatchNormRelu(ComputationGraph graph, Collection<String> layers) {
        Map<String, BooleanSupplier> fused = new LinkedHashMap<>();
        if (graph == null || !FusedBatchNormHelper.canFuseRelu()) {
            return fused;
        }
        useFastBatchNorm(graph);
        for (String name : layers) {
            if (graph.getLayer(name) instanceof BatchNormalization bn
                    && bn.getHelper() instanceof FusedBatchNormHelper h) {
                h.fuseRelu(true);
                fused.put(name, () -> bn.getHelper() instanceof FusedBatchNormHelper now && now.fusesRelu()
                        && now.lastForwardFusedRelu());
            }
        }
        return fused;
    }

    /** @return ND4J's backend name, e.g. {@code CPU} or {@code CUDA} */
    public static String backendName() {
        return String.valueOf(Nd4j.getExecutioner().getEnvironmentInformation().getProperty("backend"));
    }

    /**
     * @return whether the loaded libnd4j CPU build has oneDNN compiled in and enabled; {@code false} on
     *     other backends
     */
    public static boolean nativeOneDnnEnabled() {
        try {
            Nd4j.getExecutioner(); // loads the backend
            Class<?> env = Class.forName(CPU_ENVIRONMENT);
            Object instance = env.getMethod("getInstance").invoke(null);
            Method m = env.getMethod("isUseONEDNN");
            return (Boolean) m.invoke(instance);
        } catch (ReflectiveOperationException | LinkageError e) {
            return false;
        }
    }
}
