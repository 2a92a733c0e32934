package org.umm4j.eval;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.augment.Normalize;
import org.umm4j.nn.InferenceGraph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Frozen features of a backbone graph at named taps, for evaluation: inference mode (BatchNorm running statistics,
 * no dropout), batched, no augmentation, each image {@code v / 255} then normalised per channel as the training
 * recipe does ({@link #normalizeFor}).
 *
 * <p>Output per tap: a {@code [N, D]} FLOAT matrix, one row per image in the order of the requested indices. A
 * flat tap ({@code pool}: {@code [N, D]}) is returned as is. A feature-map tap ({@code stage2}:
 * {@code [N, C, H, W]}) is reduced by <b>global average pooling</b> over H and W to {@code [N, C]}. The UMM paper
 * (arXiv 2410.00772) evaluates the flattened early-layer output of its backbone; flattening a CIFAR ResNet-18's
 * stage 2 gives {@code 128 x 16 x 16 = 32,768} dimensions per image, which makes the {@code d x d} coding-rate
 * log-determinants ({@code O(d^3)}) and a 100-epoch linear probe infeasible on a CPU and lets k-NN be dominated by
 * spatial position rather than content. Pooling keeps the per-channel response (what the layer detects) and drops
 * where it fired; it is the usual choice for layer-wise linear probes of CNNs. The consequence: early-layer numbers
 * here are those of pooled features, not of flattened ones, and are not directly comparable to the paper's.
 *
 * <p>Taps are vertex names of the graph ({@link org.umm4j.nn.Taps}). Each {@code extract} call folds the graph's
 * current parameters once into an {@link InferenceGraph} (BatchNorm folded into the convolutions, ReLUs fused; the
 * taps are kept), runs it per batch only as far as the last tap, and copies the requested activations out; features
 * equal the unfolded graph's to float rounding ({@code -Dumm4j.inference.fold=false} runs the graph itself).
 */
public final class FeatureExtractor {
    /** Default images per forward pass. */
    public static final int DEFAULT_BATCH = 128;

    private final ComputationGraph graph;
    private final Normalize normalize;
    private final int batchSize;

    /**
     * @param graph     the trained graph (a checkpoint's {@code model.zip}); only read
     * @param normalize per-channel normalisation applied after {@code v / 255}
     * @param batchSize images per forward pass, &gt; 0
     */
    public FeatureExtractor(ComputationGraph graph, Normalize normalize, int batchSize) {
        this.graph = Objects.requireNonNull(graph, "graph");
        this.normalize = Objects.requireNonNull(normalize, "normalize");
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
        }
        this.batchSize = batchSize;
    }

    /**
     * The normalisation of the pretraining recipes for images shaped like {@code data}, the one rule that training
     * and evaluation share: 3 channels below 64 px the CIFAR-10 constants, 3 channels from 64 px the ImageNet
     * constants, any other channel count mean 0.5 and std 0.5 per channel.
     */
    public static Normalize normalizeFor(ImageDataset data) {
        boolean small = Math.min(data.height(), data.width()) < 64;
        return normalizeFor(small ? "cifar" : "imagenet", data.channels());
    }

    /**
     * The normalisation of the training recipe: ImageNet constants for an {@code *imagenet*} recipe on 3 channels,
     * CIFAR-10 constants for any other 3-channel data (every CIFAR recipe of {@link org.umm4j.data.augment.Recipes}
     * uses them), and mean 0.5 / std 0.5 per channel otherwise (grey images: no recipe fixes constants for them).
     *
     * @param recipeName the run's recipe name (may be null)
     * @param channels   image channels
     */
    public static Normalize normalizeFor(String recipeName, int channels) {
        if (channels <= 0) {
            throw new IllegalArgumentException("channels must be positive, got " + channels);
        }
        if (channels == 3) {
            boolean imageNet = recipeName != null && recipeName.toLowerCase(Locale.ROOT).contains("imagenet");
            return imageNet ? Normalize.imageNet() : Normalize.cifar10();
        }
        float[] m = new float[channels];
        float[] s = new float[channels];
        Arrays.fill(m, 0.5f);
        Arrays.fill(s, 0.5f);
        return new Normalize(m, s);
    }

    /** @return the normalisation in use */
    public Normalize normalize() {
        return normalize;
    }

    /** Features of every image of {@code data}. */
    public Map<String, INDArray> extract(ImageDataset data, String... taps) {
        int[] all = new int[data.size()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        return extract(data, all, taps);
    }

    /**
     * Features of the images {@code indices} of {@code data}.
     *
     * @return tap -> {@code [indices.length, D]} FLOAT features (feature maps global-average-pooled), in the order
     *     of {@code taps}
     * @throws IllegalArgumentException for an unknown tap, no taps, no or out-of-range indices, or images whose
     *                                  channel count differs from the normalisation's
     */
    public Map<String, INDArray> extract(ImageDataset data, int[] indices, String... taps) {
        Objects.requireNonNull(data, "data");
        if (taps == null || taps.length == 0) {
            throw new IllegalArgumentException("taps must name at least one vertex of the graph");
        }
        for (String t : taps) {
            if (graph.getVertex(t) == null) {
                throw new IllegalArgumentException("tap '" + t + "' is not a vertex of the graph; e.g. stage1..stage4, pool");
            }
        }
        if (indices == null || indices.length == 0) {
            throw new IllegalArgumentException("indices must select at least one image");
        }
        for (int i : indices) {
            if (i < 0 || i >= data.size()) {
                throw new IllegalArgumentException("index " + i + " is outside [0, " + data.size() + ") of " + data.name());
            }
        }
        if (data.channels() != normalize.mean().length) {
            throw new IllegalArgumentException("dataset " + data.name() + " has " + data.channels()
                    + " channels but the normalisation has " + normalize.mean().length);
        }
        Map<String, List<INDArray>> parts = new LinkedHashMap<>();
        for (String t : taps) {
            parts.put(t, new ArrayList<>());
        }
        // one folded snapshot per call (BatchNorm folded into the convolutions, ReLUs fused): 1.2-1.5x faster
        // forward passes; -Dumm4j.inference.fold=false reads the graph itself
        ComputationGraph g = InferenceGraph.foldingEnabled() ? InferenceGraph.of(graph, taps).graph() : graph;
        for (int from = 0; from < indices.length; from += batchSize) {
            int to = Math.min(indices.length, from + batchSize);
            INDArray x = batch(data, indices, from, to);
            Map<String, INDArray> acts = InferenceGraph.activations(g, x, taps);
            for (String t : taps) {
                INDArray a = acts.get(t);
                if (a == null) {
                    throw new IllegalStateException("the forward pass computed no activation for tap '" + t + "'");
                }
                parts.get(t).add(pool(t, a).castTo(DataType.FLOAT).dup('c'));
            }
        }
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, List<INDArray>> e : parts.entrySet()) {
            List<INDArray> l = e.getValue();
            out.put(e.getKey(), l.size() == 1 ? l.get(0) : Nd4j.vstack(l.toArray(new INDArray[0])));
        }
        return out;
    }

    /** {@code [N, C, H, W] -> [N, C]} by the mean over H and W; {@code [N, D]} unchanged. */
    static INDArray pool(String tap, INDArray a) {
        if (a.rank() == 2) {
            return a;
        }
        if (a.rank() == 4) {
            return a.mean(2, 3);
        }
        throw new IllegalArgumentException("tap '" + tap + "' has rank " + a.rank() + " activations "
                + Arrays.toString(a.shape()) + "; expected [N, D] or [N, C, H, W]");
    }

    /** Builds the normalised {@code [to - from, C, H, W]} FLOAT input. */
    INDArray batch(ImageDataset data, int[] indices, int from, int to) {
        int c = data.channels();
        int plane = data.height() * data.width();
        int per = data.imageBytes();
        int n = to - from;
        byte[] buf = new byte[per];
        float[] x = new float[n * per];
        float[] mean = normalize.mean();
        float[] std = normalize.std();
        for (int r = 0; r < n; r++) {
            data.copyImage(indices[from + r], buf, 0);
            int off = r * per;
            for (int ch = 0; ch < c; ch++) {
                float m = mean[ch];
                float inv = 1f / std[ch];
                for (int p = ch * plane; p < (ch + 1) * plane; p++) {
                    x[off + p] = ((buf[p] & 0xFF) / 255f - m) * inv;
                }
            }
        }
        return Nd4j.create(x, new long[]{n, c, data.height(), data.width()}, 'c');
    }
}
