package org.umm4j.export;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.umm4j.nn.Backbone;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Exports the weights of a umm4j backbone ({@link Backbone}, or any {@link ComputationGraph} whose vertices follow
 * {@code org.umm4j.nn.ResNets}'s naming) as a PyTorch state dict in a NumPy {@code .npz} file, and imports such a
 * file back.
 *
 * <p>Keys and shapes are torchvision's {@code resnet18}/{@code resnet50} ones ({@link TorchNames} has the name
 * rules), for both stems and any width (the CIFAR stem's 3x3 convolution keeps the name {@code conv1.weight},
 * shape {@code [w1, C, 3, 3]}); all arrays are little-endian float32 in C order except
 * {@code num_batches_tracked}:
 * <table>
 *   <caption>parameter mapping</caption>
 *   <tr><th>torch key</th><th>shape</th><th>DL4J source</th></tr>
 *   <tr><td>{@code <conv>.weight}</td><td>{@code [out, in, kh, kw]}</td><td>ConvolutionLayer {@code W}, already
 *       {@code [out, in, kh, kw]} in C order for NCHW (both frameworks cross-correlate); {@code b} -&gt;
 *       {@code .bias} if a convolution has one (umm4j's have none)</td></tr>
 *   <tr><td>{@code <bn>.weight}, {@code .bias}</td><td>{@code [C]}</td><td>{@code gamma}, {@code beta}
 *       ({@code [1, C]}); absent for a BatchNorm with locked gamma/beta, as for PyTorch's
 *       {@code affine=False}</td></tr>
 *   <tr><td>{@code <bn>.running_mean}</td><td>{@code [C]}</td><td>{@code mean}</td></tr>
 *   <tr><td>{@code <bn>.running_var}</td><td>{@code [C]}</td><td>{@code (10^log10stdev)^2} (DL4J's default
 *       log-std parameterisation, see {@link BnVariance}) or {@code var}</td></tr>
 *   <tr><td>{@code <bn>.num_batches_tracked}</td><td>{@code []} int64</td><td>always 0: DL4J does not count
 *       batches; PyTorch only reads it when {@code momentum=None} (cumulative averaging), so 0 is harmless</td></tr>
 *   <tr><td>{@code <head>.fc<i>.weight}, {@code .bias}</td><td>{@code [out, in]}, {@code [out]}</td><td>DenseLayer
 *       {@code W} ({@code [in, out]}, transposed) and {@code b}</td></tr>
 * </table>
 * There is no {@code fc.*}: umm4j backbones end at the global average pool, so PyTorch must load the file with
 * {@code strict=False} (or into a model whose {@code fc} is replaced by {@code nn.Identity()}). Heads
 * (projector, predictor, ...) are exported under their own names, e.g. {@code projector.fc1.weight},
 * {@code projector.bn1.running_var}, {@code projector.fc2.weight}, unless {@code includeHeads} is false. BatchNorm
 * eps (1e-5) and momentum (DL4J decay 0.9 = PyTorch momentum 0.1) match torchvision's defaults and are not stored.
 *
 * <p>Import ({@link #load}) fills a graph of the same architecture: every key the graph needs must be present
 * with exactly the torch shape (errors name the key and both shapes); {@code num_batches_tracked} is optional
 * and ignored; keys the graph does not need (a torchvision {@code fc.*}, a head the target lacks) are reported in
 * the {@link ImportReport} and refused only when {@code strict}. A FLOAT graph exported and imported again gets
 * bit-identical weights, BN scales, shifts and means and the bit-identical variance its layers compute, hence
 * bit-identical outputs; the stored {@code log10stdev} parameter may differ in its last bits (see
 * {@link BnVariance}). A DOUBLE graph is rounded to float32 on export.
 *
 * <p>Reference: torchvision {@code models/resnet.py} (He et al., "Deep Residual Learning for Image
 * Recognition", CVPR 2016); the key lists used by the tests are in {@code src/test/resources/export/}.
 */
public final class TorchStateDict {
    /** Suffix of the BatchNorm batch counter that PyTorch keeps as a buffer. */
    public static final String NUM_BATCHES_TRACKED = "num_batches_tracked";

    private static final Logger LOG = LoggerFactory.getLogger(TorchStateDict.class);

    private TorchStateDict() {
    }

    /**
     * What {@link #load} did.
     *
     * @param loaded  the keys copied into the graph, in state-dict order
     * @param ignored the keys of the file that the graph does not use (plus every {@code num_batches_tracked})
     */
    public record ImportReport(List<String> loaded, List<String> ignored) {
        public ImportReport {
            loaded = List.copyOf(loaded);
            ignored = List.copyOf(ignored);
        }
    }

    /**
     * @param graph        a umm4j backbone graph (heads optional)
     * @param includeHeads whether head layers are exported too
     * @return torch key -> array, in torchvision's state-dict order (backbone first, then heads)
     */
    public static Map<String, NpyArray> of(ComputationGraph graph, boolean includeHeads) {
        Objects.requireNonNull(graph, "graph");
        Map<String, NpyArray> out = new LinkedHashMap<>();
        for (TorchNames.Module m : TorchNames.modules(graph)) {
            if (m.head() && !includeHeads) {
                continue;
            }
            Layer l = graph.getLayer(m.layer());
            String p = m.torch() + ".";
            switch (m.kind()) {
                case CONV -> {
                    checkNchw(m.layer(), l);
                    out.put(p + "weight", NpyArray.ofFloats(l.getParam("W")));
                    putVector(out, p + "bias", l.getParam("b"));
                }
                case LINEAR -> {
                    out.put(p + "weight", NpyArray.ofFloats(l.getParam("W").transpose()));
                    putVector(out, p + "bias", l.getParam("b"));
                }
                case BATCH_NORM -> {
                    putVector(out, p + "weight", l.getParam("gamma"));
                    putVector(out, p + "bias", l.getParam("beta"));
                    putVector(out, p + "running_mean", require(l, m, "mean"));
                    INDArray log = l.getParam("log10stdev");
                    putVector(out, p + "running_var", log != null ? BnVariance.variance(log) : require(l, m, "var"));
                    out.put(p + NUM_BATCHES_TRACKED, NpyArray.ofLongs(new long[0], new long[]{0}));
                }
                default -> throw new IllegalStateException("unexpected kind " + m.kind());
            }
        }
        return out;
    }

    /** @return the state dict of a backbone ({@link #of(ComputationGraph, boolean)}) */
    public static Map<String, NpyArray> of(Backbone backbone, boolean includeHeads) {
        return of(Objects.requireNonNull(backbone, "backbone").graph(), includeHeads);
    }

    /**
     * Writes the state dict to {@code file} atomically ({@link Npz#write}).
     *
     * @return the keys written
     */
    public static List<String> write(ComputationGraph graph, Path file, boolean includeHeads) {
        Objects.requireNonNull(file, "file");
        Map<String, NpyArray> sd = of(graph, includeHeads);
        Npz.write(file, sd);
        LOG.info("wrote {} arrays to {}", sd.size(), file);
        return List.copyOf(sd.keySet());
    }

    /** {@link #write(ComputationGraph, Path, boolean)} for a backbone. */
    public static List<String> write(Backbone backbone, Path file, boolean includeHeads) {
        return write(Objects.requireNonNull(backbone, "backbone").graph(), file, includeHeads);
    }

    /** Loads a {@code .npz} state dict into {@code graph}, ignoring keys it does not use ({@link #load(ComputationGraph, Map, boolean)}). */
    public static ImportReport load(ComputationGraph graph, Path file) throws IOException {
        return load(graph, Npz.read(file), false);
    }

    /** Loads a {@code .npz} state dict into a backbone's graph (heads included when it has them). */
    public static ImportReport load(Backbone backbone, Path file) throws IOException {
        return load(Objects.requireNonNull(backbone, "backbone").graph(), file);
    }

    /**
     * Copies a state dict into {@code graph}'s parameters (in place). Nothing is written until every key has been
     * checked, so a failed import leaves the graph unchanged.
     *
     * @param strict whether keys the graph does not use are an error (as PyTorch's {@code strict=True})
     * @throws IllegalArgumentException naming the key for a missing key, a shape mismatch (with both shapes), an
     *                                  unexpected key when {@code strict}, or a negative variance
     */
    public static ImportReport load(ComputationGraph graph, Map<String, NpyArray> stateDict, boolean strict) {
        Objects.requireNonNull(graph, "graph");
        Objects.requireNonNull(stateDict, "stateDict");
        List<Runnable> writes = new ArrayList<>();
        Set<String> used = new LinkedHashSet<>();
        for (TorchNames.Module m : TorchNames.modules(graph)) {
            Layer l = graph.getLayer(m.layer());
            String p = m.torch() + ".";
            switch (m.kind()) {
                case CONV -> {
                    checkNchw(m.layer(), l);
                    stage(writes, used, stateDict, p + "weight", l.getParam("W"), false);
                    stage(writes, used, stateDict, p + "bias", l.getParam("b"), false);
                }
                case LINEAR -> {
                    stage(writes, used, stateDict, p + "weight", l.getParam("W"), true);
                    stage(writes, used, stateDict, p + "bias", l.getParam("b"), false);
                }
                case BATCH_NORM -> {
                    stage(writes, used, stateDict, p + "weight", l.getParam("gamma"), false);
                    stage(writes, used, stateDict, p + "bias", l.getParam("beta"), false);
                    stage(writes, used, stateDict, p + "running_mean", require(l, m, "mean"), false);
                    INDArray log = l.getParam("log10stdev");
                    if (log != null) {
                        String key = p + "running_var";
                        NpyArray v = checked(stateDict, key, log, false);
                        INDArray l10 = BnVariance.log10Std(v.toFloats(), log.dataType(), key);
                        used.add(key);
                        writes.add(() -> log.assign(l10.reshape(log.shape())));
                    } else {
                        stage(writes, used, stateDict, p + "running_var", require(l, m, "var"), false);
                    }
                }
                default -> throw new IllegalStateException("unexpected kind " + m.kind());
            }
        }
        List<String> ignored = new ArrayList<>();
        for (String k : stateDict.keySet()) {
            if (!used.contains(k)) {
                if (strict && !k.endsWith("." + NUM_BATCHES_TRACKED)) {
                    throw new IllegalArgumentException("unexpected key '" + k + "': the graph has no parameter for it"
                            + " (load with strict = false to ignore it)");
                }
                ignored.add(k);
            }
        }
        writes.forEach(Runnable::run);
        if (!ignored.isEmpty()) {
            LOG.info("import ignored {} keys not used by the graph, e.g. {}", ignored.size(), ignored.get(0));
        }
        return new ImportReport(new ArrayList<>(used), ignored);
    }

    /** @return the torch shape of a DL4J parameter: vectors {@code [1, C]} become {@code [C]} */
    private static long[] torchShape(INDArray param, boolean transpose) {
        long[] s = param.shape();
        if (transpose) {
            return new long[]{s[1], s[0]};
        }
        if (s.length == 2 && s[0] == 1) {
            return new long[]{s[1]};
        }
        return s;
    }

    private static void stage(List<Runnable> writes, Set<String> used, Map<String, NpyArray> sd, String key,
                              INDArray param, boolean transpose) {
        if (param == null) {
            return;
        }
        NpyArray a = checked(sd, key, param, transpose);
        INDArray v = a.toINDArray(param.dataType());
        INDArray src = transpose ? v.transpose() : v.reshape(param.shape());
        used.add(key);
        writes.add(() -> param.assign(src));
    }

    /** @return the entry for {@code key}, checked for presence, the torch shape of {@code param} and a float type */
    private static NpyArray checked(Map<String, NpyArray> sd, String key, INDArray param, boolean transpose) {
        long[] want = torchShape(param, transpose);
        NpyArray a = sd.get(key);
        if (a == null) {
            throw new IllegalArgumentException("missing key '" + key + "' (shape " + Arrays.toString(want)
                    + ") in the state dict");
        }
        if (!Arrays.equals(a.shape(), want)) {
            throw new IllegalArgumentException("shape mismatch for '" + key + "': the file has "
                    + Arrays.toString(a.shape()) + ", the graph needs " + Arrays.toString(want));
        }
        if (a.dtype() != NpyArray.DType.FLOAT32 && a.dtype() != NpyArray.DType.FLOAT64) {
            throw new IllegalArgumentException("'" + key + "' has element type " + a.dtype().descr()
                    + "; expected float32 (<f4) or float64 (<f8)");
        }
        return a;
    }

    private static void putVector(Map<String, NpyArray> out, String key, INDArray v) {
        if (v != null) {
            out.put(key, NpyArray.ofFloats(v.reshape(v.length())));
        }
    }

    private static INDArray require(Layer l, TorchNames.Module m, String param) {
        INDArray a = l.getParam(param);
        if (a == null) {
            throw new IllegalStateException("BatchNorm layer '" + m.layer() + "' has no '" + param + "' parameter; it has "
                    + l.paramTable().keySet());
        }
        return a;
    }

    private static void checkNchw(String name, Layer l) {
        ConvolutionLayer c = (ConvolutionLayer) l.conf().getLayer();
        if (c.getCnn2dDataFormat() != null && c.getCnn2dDataFormat() != CNN2DFormat.NCHW) {
            throw new IllegalArgumentException("convolution '" + name + "' uses " + c.getCnn2dDataFormat()
                    + "; only NCHW graphs are exported");
        }
    }

    /** @return the trainable parameter count of a state dict: elements of its {@code .weight} and {@code .bias} arrays */
    public static long trainableCount(Map<String, NpyArray> stateDict) {
        long n = 0;
        for (Map.Entry<String, NpyArray> e : stateDict.entrySet()) {
            if (e.getKey().endsWith(".weight") || e.getKey().endsWith(".bias")) {
                n += e.getValue().length();
            }
        }
        return n;
    }

    /** @return DL4J layer name -> torch module path for every layer with parameters, in state-dict order */
    public static Map<String, String> moduleNames(ComputationGraph graph) {
        Map<String, String> out = new LinkedHashMap<>();
        TorchNames.modules(Objects.requireNonNull(graph, "graph")).forEach(m -> out.put(m.layer(), m.torch()));
        return out;
    }
}
