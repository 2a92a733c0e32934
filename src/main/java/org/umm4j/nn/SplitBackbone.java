package org.umm4j.nn;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A backbone split at a tap into {@code f = f_l o f_e} (DESIGN.md section 4, UMM):
 * <ul>
 *   <li>f_e ({@link #early()}): input {@link Taps#INPUT} {@code [N, C, H, W]} -> output {@code tap}
 *       {@code [N, C_t, H_t, W_t]}; frozen, run it in inference mode ({@link #earlyFeatures}).</li>
 *   <li>f_l ({@link #last()}): input vertex named {@code tap} {@code [N, C_t, H_t, W_t]} -> the parent's
 *       output (pooled features {@code [N, featureSize]}, or the last head's output when the parent has
 *       heads); trainable, with its own updater state (train it with {@link ExternalGradients}).</li>
 * </ul>
 * Both graphs have the same vertex names as the parent and hold COPIES of its parameters (BN running
 * statistics included), so that in inference mode {@code f_l(f_e(x)) == f(x)} (to float rounding; exactly
 * in DOUBLE). Copies rather than views: DL4J's flattened parameter vector follows each graph's own
 * topological order, so f_l's parameters are not a contiguous slice of the parent's. After training f_l,
 * {@link #writeBack()} copies its parameters into the parent; {@link #refresh()} copies the parent's into
 * both parts.
 */
public final class SplitBackbone {
    private final Backbone parent;
    private final String tap;
    private final ComputationGraph early;
    private final ComputationGraph last;
    private final Set<String> earlyNames = new HashSet<>();
    private final long[] tapShape;

    SplitBackbone(Backbone parent, String tap) {
        this.parent = parent;
        this.tap = tap;
        ResNetConfig cfg = parent.config();
        IUpdater updater = parent.updater();
        List<ResNets.Node> nodes = ResNets.nodes(cfg);
        int cut = -1;
        for (int i = 0; i < nodes.size(); i++) {
            if (nodes.get(i).name().equals(tap)) {
                cut = i;
            }
        }
        if (cut < 0) {
            throw new IllegalArgumentException("tap '" + tap + "' is not a vertex of the backbone");
        }
        List<ResNets.Node> head = nodes.subList(0, cut + 1);
        List<ResNets.Node> tail = nodes.subList(cut + 1, nodes.size());
        head.forEach(n -> earlyNames.add(n.name()));
        // the tail may only read vertices of the tail or the tap itself: that is what makes the tap a cut point
        Set<String> available = new HashSet<>();
        available.add(tap);
        for (ResNets.Node n : tail) {
            for (String in : n.inputs()) {
                if (!available.contains(in)) {
                    throw new IllegalStateException("tap '" + tap + "' is not a cut point: '" + n.name() + "' reads '" + in + "'");
                }
            }
            available.add(n.name());
        }

        InputType inType = InputType.convolutional(cfg.height(), cfg.width(), cfg.inputChannels());
        ComputationGraphConfiguration.GraphBuilder eb = ResNets.globalConfig(cfg.seed(), cfg.dataType(), updater)
                .graphBuilder().addInputs(Taps.INPUT).setInputTypes(inType);
        ResNets.addNodes(eb, head);
        this.early = new ComputationGraph(eb.setOutputs(tap).build());
        early.init();

        InputType tapType = parent.activationTypes().get(tap);
        long[] s = tapType.getShape(true);
        this.tapShape = Arrays.copyOfRange(s, 1, s.length);
        ComputationGraphConfiguration.GraphBuilder lb = ResNets.globalConfig(cfg.seed(), cfg.dataType(), updater)
                .graphBuilder().addInputs(tap).setInputTypes(tapType);
        ResNets.addNodes(lb, tail);
        String out = Backbone.addHeads(lb, cfg, parent.heads());
        this.last = new ComputationGraph(lb.setOutputs(out).build());
        last.init();
        refresh();
    }

    /** @return the tap the backbone was split at (f_l's input vertex name) */
    public String tap() {
        return tap;
    }

    /** @return the backbone this split was made from */
    public Backbone parent() {
        return parent;
    }

    /** @return f_e: input -> tap */
    public ComputationGraph early() {
        return early;
    }

    /** @return f_l: tap -> output (pooled features or last head) */
    public ComputationGraph last() {
        return last;
    }

    /** @return per-example shape of the tap activation for the config's input size, {@code [C_t, H_t, W_t]} */
    public long[] tapShape() {
        return tapShape.clone();
    }

    /** @return f_e(x) in inference mode (frozen BN statistics), {@code [N, C_t, H_t, W_t]} */
    public INDArray earlyFeatures(INDArray x) {
        parent.checkInput(x);
        return early.outputSingle(false, x);
    }

    /** @return f_l(e); {@code train = true} uses batch statistics in f_l's BatchNorm layers */
    public INDArray lastOutput(INDArray e, boolean train) {
        if (e == null || e.rank() != 4 || e.size(1) != tapShape[0]) {
            throw new IllegalArgumentException("e must be the '" + tap + "' activation [N, " + tapShape[0] + ", H, W], got "
                    + (e == null ? "null" : Arrays.toString(e.shape())));
        }
        return train ? last.feedForward(e, true).get(last.getConfiguration().getNetworkOutputs().get(0))
                : last.outputSingle(false, e);
    }

    /** Copies f_l's parameters (BN running statistics included) into the parent backbone. */
    public void writeBack() {
        Backbone.copyParamsByName(last, parent.graph(), name -> !earlyNames.contains(name));
    }

    /** Copies the parent's current parameters into f_e and f_l (e.g. after the parent was trained). */
    public void refresh() {
        Backbone.copyParamsByName(parent.graph(), early, name -> true);
        Backbone.copyParamsByName(parent.graph(), last, name -> true);
    }
}
