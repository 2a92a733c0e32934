package org.umm4j.export;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The naming rules between umm4j's DL4J vertex names ({@code org.umm4j.nn.ResNets}, {@code org.umm4j.nn.Heads})
 * and PyTorch module paths (torchvision's {@code ResNet} for the backbone).
 *
 * <table>
 *   <caption>DL4J layer -&gt; torch module</caption>
 *   <tr><th>DL4J</th><th>torch</th></tr>
 *   <tr><td>{@code stem_conv}, {@code stem_bn}</td><td>{@code conv1}, {@code bn1} (both stems)</td></tr>
 *   <tr><td>{@code s<S>b<B>_conv<k>}, {@code s<S>b<B>_bn<k>}</td><td>{@code layer<S>.<B-1>.conv<k>},
 *       {@code layer<S>.<B-1>.bn<k>}</td></tr>
 *   <tr><td>{@code s<S>b<B>_proj_conv}, {@code s<S>b<B>_proj_bn}</td><td>{@code layer<S>.<B-1>.downsample.0},
 *       {@code layer<S>.<B-1>.downsample.1}</td></tr>
 *   <tr><td>head {@code H}: {@code H_fc<i>}, {@code H_bn<i>}</td><td>{@code H.fc<i>}, {@code H.bn<i>}</td></tr>
 *   <tr><td>head output vertex {@code H} (a Linear)</td><td>{@code H.fc<L+1>} ({@code L} hidden layers)</td></tr>
 *   <tr><td>head output vertex {@code H} (a final BatchNorm)</td><td>{@code H.bn<L+1>}, after {@code H.fc<L+1>}</td></tr>
 * </table>
 * So a head's i-th Linear is always {@code fc<i>} and the BatchNorm after it {@code bn<i>}. Any other layer with
 * parameters is an error naming it: the exporter never guesses.
 */
final class TorchNames {
    /** What kind of torch module a DL4J layer maps to. */
    enum Kind { CONV, BATCH_NORM, LINEAR }

    /**
     * One DL4J layer and its torch module.
     *
     * @param layer DL4J layer (vertex) name
     * @param torch torch module path, e.g. {@code layer1.0.downsample.1}
     * @param kind  the module type
     * @param head  whether it belongs to a projection/prediction head rather than the backbone
     */
    record Module(String layer, String torch, Kind kind, boolean head) {
    }

    private static final Pattern BLOCK = Pattern.compile("s(\\d+)b(\\d+)_(conv|bn)(\\d+)");
    private static final Pattern PROJ = Pattern.compile("s(\\d+)b(\\d+)_proj_(conv|bn)");
    private static final Pattern HEAD_PART = Pattern.compile("([A-Za-z][A-Za-z0-9]*)_(fc|bn)(\\d+)");
    private static final Pattern HEAD_OUT = Pattern.compile("[A-Za-z][A-Za-z0-9]*");

    private TorchNames() {
    }

    /**
     * @return the modules of every layer with parameters, backbone first in torchvision's state-dict order
     *     (stem; then per block conv1, bn1, conv2, bn2, [conv3, bn3,] downsample), then the heads in forward order
     * @throws IllegalArgumentException naming the first layer that follows none of the rules
     */
    static List<Module> modules(ComputationGraph g) {
        List<Layer> layers = new ArrayList<>();
        Map<String, Integer> maxFc = new HashMap<>();
        for (Layer l : g.getLayers()) {
            if (l.numParams() == 0) {
                continue;
            }
            layers.add(l);
            Matcher m = HEAD_PART.matcher(name(l));
            if (m.matches() && m.group(2).equals("fc")) {
                maxFc.merge(m.group(1), Integer.parseInt(m.group(3)), Math::max);
            }
        }
        int[] topo = g.topologicalSortOrder();
        int[] position = new int[topo.length];
        for (int i = 0; i < topo.length; i++) {
            position[topo[i]] = i;
        }
        List<Module> out = new ArrayList<>();
        Map<String, long[]> order = new HashMap<>();
        for (Layer l : layers) {
            String n = name(l);
            Kind kind = kindOf(l);
            Module mod;
            long[] key;
            Matcher b = BLOCK.matcher(n);
            Matcher p = PROJ.matcher(n);
            Matcher h = HEAD_PART.matcher(n);
            if (n.equals("stem_conv") || n.equals("stem_bn")) {
                boolean conv = n.equals("stem_conv");
                mod = new Module(n, conv ? "conv1" : "bn1", expect(n, kind, conv ? Kind.CONV : Kind.BATCH_NORM), false);
                key = new long[]{0, 0, 0, conv ? 0 : 1};
            } else if (b.matches()) {
                int s = Integer.parseInt(b.group(1));
                int blk = Integer.parseInt(b.group(2));
                int k = Integer.parseInt(b.group(4));
                boolean conv = b.group(3).equals("conv");
                checkBlock(n, s, blk, k);
                mod = new Module(n, "layer" + s + "." + (blk - 1) + "." + b.group(3) + k,
                        expect(n, kind, conv ? Kind.CONV : Kind.BATCH_NORM), false);
                key = new long[]{0, s, blk, 2L * (k - 1) + (conv ? 0 : 1)};
            } else if (p.matches()) {
                int s = Integer.parseInt(p.group(1));
                int blk = Integer.parseInt(p.group(2));
                boolean conv = p.group(3).equals("conv");
                checkBlock(n, s, blk, 1);
                mod = new Module(n, "layer" + s + "." + (blk - 1) + ".downsample." + (conv ? 0 : 1),
                        expect(n, kind, conv ? Kind.CONV : Kind.BATCH_NORM), false);
                key = new long[]{0, s, blk, 100 + (conv ? 0 : 1)};
            } else if (h.matches() && !n.startsWith("stem")) {
                boolean fc = h.group(2).equals("fc");
                mod = new Module(n, h.group(1) + "." + h.group(2) + h.group(3),
                        expect(n, kind, fc ? Kind.LINEAR : Kind.BATCH_NORM), true);
                key = new long[]{1, position[g.getVertex(n).getVertexIndex()]};
            } else if (HEAD_OUT.matcher(n).matches() && (kind == Kind.LINEAR || kind == Kind.BATCH_NORM)) {
                int last = maxFc.getOrDefault(n, 0);
                String torch = kind == Kind.LINEAR ? n + ".fc" + (last + 1) : n + ".bn" + last;
                if (kind == Kind.BATCH_NORM && last == 0) {
                    throw new IllegalArgumentException("head output BatchNorm '" + n + "' has no Linear '" + n
                            + "_fc<i>' before it; cannot name it");
                }
                mod = new Module(n, torch, kind, true);
                key = new long[]{1, position[g.getVertex(n).getVertexIndex()]};
            } else {
                throw new IllegalArgumentException("layer '" + n + "' (" + l.conf().getLayer().getClass().getSimpleName()
                        + ", " + l.numParams() + " parameters) follows no umm4j naming rule (stem_conv, stem_bn, "
                        + "s<S>b<B>_conv<k>, s<S>b<B>_bn<k>, s<S>b<B>_proj_conv/_proj_bn, or a head's <name>_fc<i>, "
                        + "<name>_bn<i>, <name>); no torch name for it");
            }
            out.add(mod);
            order.put(n, key);
        }
        out.sort(Comparator.comparing(m -> order.get(m.layer()), java.util.Arrays::compare));
        return out;
    }

    static String name(Layer l) {
        return l.conf().getLayer().getLayerName();
    }

    private static Kind kindOf(Layer l) {
        Object c = l.conf().getLayer();
        if (c instanceof ConvolutionLayer) {
            return Kind.CONV;
        }
        if (c instanceof BatchNormalization) {
            return Kind.BATCH_NORM;
        }
        if (c instanceof DenseLayer) {
            return Kind.LINEAR;
        }
        return null;
    }

    private static Kind expect(String name, Kind actual, Kind expected) {
        if (actual != expected) {
            throw new IllegalArgumentException("layer '" + name + "' should be a " + expected + " layer by its name but is "
                    + (actual == null ? "an unsupported layer type" : "a " + actual + " layer"));
        }
        return expected;
    }

    private static void checkBlock(String name, int stage, int block, int k) {
        if (stage < 1 || stage > 4 || block < 1 || k < 1 || k > 3) {
            throw new IllegalArgumentException("layer '" + name + "': stage must be 1..4, block >= 1 and part 1..3");
        }
    }
}
