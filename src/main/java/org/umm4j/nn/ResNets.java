package org.umm4j.nn;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInitVarScalingNormalFanOut;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;
import org.umm4j.backend.Umm4jBackend;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Builds ResNet-18 and ResNet-50 backbones (He et al., CVPR 2016) as DL4J {@link ComputationGraph}s
 * from a {@link ResNetConfig}.
 *
 * <p>Architecture (torchvision's, without the final fully-connected layer): stem ({@link Stem}); four
 * stages of residual blocks with strides 1, 2, 2, 2 on their first block; global average pooling to
 * the feature vector ({@link Taps#POOL}, shape {@code [N, featureSize]}).
 * <ul>
 *   <li>Basic block (ResNet-18): {@code relu(bn(conv3x3(relu(bn(conv3x3_s(x))))) + sc(x))}.</li>
 *   <li>Bottleneck block (ResNet-50, "v1.5": the stride sits on the 3x3 convolution):
 *       {@code relu(bn(conv1x1(relu(bn(conv3x3_s(relu(bn(conv1x1(x)))))))) + sc(x))}, output width
 *       4 times the stage width.</li>
 *   <li>Shortcut {@code sc}: identity, or a projection {@code bn(conv1x1_s(x))} when the stride or the
 *       channel count changes.</li>
 * </ul>
 * Convolutions have no bias (BatchNorm follows each) and explicit zero padding ({@code k/2}), with
 * {@link ConvolutionMode#Truncate}, so output sizes are {@code floor((H + 2p - k)/s) + 1} as in PyTorch.
 * Weights use He initialisation with fan-out ({@code std = sqrt(2 / (k*k*c_out))}, truncated normal in
 * DL4J; torchvision uses an untruncated normal); BatchNorm starts at gamma 1, beta 0, with eps 1e-5 and
 * running-average decay 0.9 (PyTorch momentum 0.1). The layers are the ones with oneDNN helpers
 * (ConvolutionLayer, BatchNormalization, SubsamplingLayer, ActivationLayer, GlobalPoolingLayer,
 * ElementWiseVertex Add), and {@link Umm4jBackend#init()} is called before any graph is built.
 *
 * <p>Vertex names: {@link Taps} for the stem and stage outputs and the pool; inside block {@code b} of
 * stage {@code s} the vertices are {@code s<s>b<b>_conv1, _bn1, _relu1, _conv2, _bn2, [_relu2, _conv3,
 * _bn3,] [_proj_conv, _proj_bn,] _add, _out} (the last block's {@code _out} is named {@code stage<s>}).
 *
 * <p>The updater stored in the layers defaults to plain SGD with learning rate 0.01; trainers choose
 * their own through {@link #graphBuilder(ResNetConfig, IUpdater)} or DL4J's
 * {@code TransferLearning}/{@code FineTuneConfiguration}.
 */
public final class ResNets {
    /** Updater used when none is given. */
    public static final double DEFAULT_SGD_LR = 0.01;
    static final double BN_EPS = 1e-5;
    static final double BN_DECAY = 0.9;

    private ResNets() {
    }

    /** @return an initialised backbone graph with input {@link Taps#INPUT} and output {@link Taps#POOL} */
    public static ComputationGraph build(ResNetConfig cfg) {
        ComputationGraph g = new ComputationGraph(configuration(cfg));
        g.init();
        return g;
    }

    /** @return the configuration of the backbone alone (output {@link Taps#POOL}) with the default updater */
    public static ComputationGraphConfiguration configuration(ResNetConfig cfg) {
        return graphBuilder(cfg, new Sgd(DEFAULT_SGD_LR)).setOutputs(Taps.POOL).build();
    }

    /**
     * The backbone's vertices in a graph builder whose outputs are not yet set: add heads
     * ({@link Heads#addTo}) or a loss layer on {@link Taps#POOL}, then call {@code setOutputs(...)}.
     *
     * @param cfg     the backbone
     * @param updater optimiser stored in every layer (used by {@code fit} and by trainers that apply
     *                {@code graph.getUpdater()})
     */
    public static ComputationGraphConfiguration.GraphBuilder graphBuilder(ResNetConfig cfg, IUpdater updater) {
        Objects.requireNonNull(cfg, "cfg");
        Objects.requireNonNull(updater, "updater");
        ComputationGraphConfiguration.GraphBuilder gb = globalConfig(cfg.seed(), cfg.dataType(), updater)
                .graphBuilder()
                .addInputs(Taps.INPUT)
                .setInputTypes(InputType.convolutional(cfg.height(), cfg.width(), cfg.inputChannels()));
        addNodes(gb, nodes(cfg));
        return gb;
    }

    static NeuralNetConfiguration.Builder globalConfig(long seed, org.nd4j.linalg.api.buffer.DataType dt, IUpdater updater) {
        Umm4jBackend.init();
        return new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(dt)
                .updater(updater)
                .weightInit(new WeightInitVarScalingNormalFanOut(2.0))
                .convolutionMode(ConvolutionMode.Truncate);
    }

    /** One vertex of the backbone, in forward (topological) order. */
    record Node(String name, Layer layer, GraphVertex vertex, String... inputs) {
    }

    static void addNodes(ComputationGraphConfiguration.GraphBuilder gb, List<Node> nodes) {
        for (Node n : nodes) {
            if (n.layer() != null) {
                gb.addLayer(n.name(), n.layer(), n.inputs());
            } else {
                gb.addVertex(n.name(), n.vertex(), n.inputs());
            }
        }
    }

    /**
     * The backbone's vertices in forward order. Every tap in {@link Taps#SPLITTABLE} is a cut point: all
     * nodes after it depend on earlier nodes only through it, so a prefix/suffix of this list is f_e/f_l.
     */
    static List<Node> nodes(ResNetConfig cfg) {
        List<Node> out = new ArrayList<>();
        int[] widths = cfg.stageWidths();
        int e = cfg.expansion();
        int stemWidth = widths[0];
        if (cfg.stem() == Stem.IMAGENET) {
            out.add(new Node("stem_conv", conv(cfg.inputChannels(), stemWidth, 7, 2), null, Taps.INPUT));
            out.add(new Node("stem_bn", bn(stemWidth), null, "stem_conv"));
            out.add(new Node("stem_relu", relu(), null, "stem_bn"));
            out.add(new Node(Taps.STEM, new SubsamplingLayer.Builder(PoolingType.MAX)
                    .kernelSize(3, 3).stride(2, 2).padding(1, 1).build(), null, "stem_relu"));
        } else {
            out.add(new Node("stem_conv", conv(cfg.inputChannels(), stemWidth, 3, 1), null, Taps.INPUT));
            out.add(new Node("stem_bn", bn(stemWidth), null, "stem_conv"));
            out.add(new Node(Taps.STEM, relu(), null, "stem_bn"));
        }
        String prev = Taps.STEM;
        int inCh = stemWidth;
        int[] blocks = cfg.blocksPerStage();
        for (int s = 1; s <= 4; s++) {
            for (int b = 1; b <= blocks[s - 1]; b++) {
                int stride = (s > 1 && b == 1) ? 2 : 1;
                String name = b == blocks[s - 1] ? Taps.stage(s) : "s" + s + "b" + b + "_out";
                String p = "s" + s + "b" + b + "_";
                if (e == 1) {
                    basicBlock(out, p, prev, inCh, widths[s - 1], stride, name);
                } else {
                    bottleneckBlock(out, p, prev, inCh, widths[s - 1], e, stride, name);
                }
                prev = name;
                inCh = widths[s - 1] * e;
            }
        }
        out.add(new Node(Taps.POOL, new GlobalPoolingLayer.Builder(PoolingType.AVG).collapseDimensions(true).build(),
                null, prev));
        return out;
    }

    private static void basicBlock(List<Node> out, String p, String in, int inCh, int w, int stride, String name) {
        out.add(new Node(p + "conv1", conv(inCh, w, 3, stride), null, in));
        out.add(new Node(p + "bn1", bn(w), null, p + "conv1"));
        out.add(new Node(p + "relu1", relu(), null, p + "bn1"));
        out.add(new Node(p + "conv2", conv(w, w, 3, 1), null, p + "relu1"));
        out.add(new Node(p + "bn2", bn(w), null, p + "conv2"));
        String sc = shortcut(out, p, in, inCh, w, stride);
        out.add(new Node(p + "add", null, new ElementWiseVertex(ElementWiseVertex.Op.Add), p + "bn2", sc));
        out.add(new Node(name, relu(), null, p + "add"));
    }

    private static void bottleneckBlock(List<Node> out, String p, String in, int inCh, int w, int e, int stride,
                                        String name) {
        int outCh = w * e;
        out.add(new Node(p + "conv1", conv(inCh, w, 1, 1), null, in));
        out.add(new Node(p + "bn1", bn(w), null, p + "conv1"));
        out.add(new Node(p + "relu1", relu(), null, p + "bn1"));
        out.add(new Node(p + "conv2", conv(w, w, 3, stride), null, p + "relu1"));
        out.add(new Node(p + "bn2", bn(w), null, p + "conv2"));
        out.add(new Node(p + "relu2", relu(), null, p + "bn2"));
        out.add(new Node(p + "conv3", conv(w, outCh, 1, 1), null, p + "relu2"));
        out.add(new Node(p + "bn3", bn(outCh), null, p + "conv3"));
        String sc = shortcut(out, p, in, inCh, outCh, stride);
        out.add(new Node(p + "add", null, new ElementWiseVertex(ElementWiseVertex.Op.Add), p + "bn3", sc));
        out.add(new Node(name, relu(), null, p + "add"));
    }

    private static String shortcut(List<Node> out, String p, String in, int inCh, int outCh, int stride) {
        if (stride == 1 && inCh == outCh) {
            return in;
        }
        out.add(new Node(p + "proj_conv", conv(inCh, outCh, 1, stride), null, in));
        out.add(new Node(p + "proj_bn", bn(outCh), null, p + "proj_conv"));
        return p + "proj_bn";
    }

    private static ConvolutionLayer conv(int in, int out, int k, int stride) {
        return new ConvolutionLayer.Builder(k, k)
                .nIn(in).nOut(out)
                .stride(stride, stride)
                .padding(k / 2, k / 2)
                .hasBias(false)
                .activation(Activation.IDENTITY)
                .build();
    }

    static BatchNormalization bn(int n) {
        return new BatchNormalization.Builder().nIn(n).nOut(n).eps(BN_EPS).decay(BN_DECAY).build();
    }

    private static ActivationLayer relu() {
        return new ActivationLayer.Builder().activation(Activation.RELU).build();
    }
}
