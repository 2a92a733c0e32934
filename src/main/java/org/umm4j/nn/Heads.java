package org.umm4j.nn;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.distribution.UniformDistribution;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInitDistribution;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;

import java.util.List;
import java.util.Objects;

/**
 * Projection and prediction heads ({@link MlpHeadConfig}) with the papers' default sizes, and the two ways
 * to put a head into a graph.
 *
 * <p>Paper defaults ({@code in} = backbone feature size: 512 for ResNet-18, 2048 for ResNet-50):
 * <table>
 *   <caption>factory methods</caption>
 *   <tr><th>method</th><th>layers</th><th>source</th></tr>
 *   <tr><td>{@link #simclrProjector}</td><td>{@code in -> 2048 (BN, ReLU) -> 128}</td>
 *       <td>SimCLR, Chen et al. 2020 (2-layer MLP, 128-d output; hidden BN as in SimCLR v2)</td></tr>
 *   <tr><td>{@link #byolProjector}</td><td>{@code in -> 4096 (BN, ReLU) -> 256}</td>
 *       <td>BYOL, Grill et al. 2020, section 3.3</td></tr>
 *   <tr><td>{@link #byolPredictor}</td><td>{@code 256 -> 4096 (BN, ReLU) -> 256}</td><td>BYOL</td></tr>
 *   <tr><td>{@link #simsiamProjector}</td><td>{@code in -> 2048 (BN, ReLU) -> 2048 (BN, ReLU) -> 2048
 *       (BN, no affine)}</td><td>SimSiam, Chen and He 2021, section 4</td></tr>
 *   <tr><td>{@link #simsiamPredictor}</td><td>{@code 2048 -> 512 (BN, ReLU) -> 2048}</td><td>SimSiam</td></tr>
 *   <tr><td>{@link #barlowTwinsProjector}</td><td>{@code in -> 8192 (BN, ReLU) -> 8192 (BN, ReLU) -> 8192}
 *       (no output bias)</td><td>Barlow Twins, Zbontar et al. 2021, section 2; VICReg uses the same
 *       "expander" ({@link #vicregExpander})</td></tr>
 * </table>
 * {@link MlpHeadConfig#scaled(double)} shrinks these for tests and CPU demos.
 *
 * <p>Attaching a head: (1) as extra vertices of the backbone's graph ({@link #addTo} on a
 * {@link ResNets#graphBuilder} builder, or {@link Backbone#withHeads}), so that one
 * {@code feedForward(train=true)} followed by {@code ComputationGraph.backpropGradient(dLdz)} trains
 * backbone and head end to end (the head's output vertex is the graph's output; the graph has no loss
 * layer); or (2) as a separate graph ({@link #build}), whose input epsilon (from its own
 * {@code backpropGradient}) is then fed to the backbone graph. umm4j's backbones use (1).
 *
 * <p>Linear weights are initialised as PyTorch's {@code nn.Linear}: {@code U(-1/sqrt(fan_in),
 * 1/sqrt(fan_in))}; biases start at 0 (PyTorch draws them from the same uniform).
 */
public final class Heads {
    /** Name of the input vertex of a stand-alone head graph ({@link #build}). */
    public static final String INPUT = "in";

    private Heads() {
    }

    /** SimCLR projector {@code in -> 2048 -> 128}, named {@code projector}. */
    public static MlpHeadConfig simclrProjector(int in) {
        return MlpHeadConfig.builder().setName("projector").setInputSize(in).optHiddenSizes(2048).setOutputSize(128).build();
    }

    /** BYOL projector {@code in -> 4096 -> 256}, named {@code projector}. */
    public static MlpHeadConfig byolProjector(int in) {
        return MlpHeadConfig.builder().setName("projector").setInputSize(in).optHiddenSizes(4096).setOutputSize(256).build();
    }

    /** BYOL predictor {@code 256 -> 4096 -> 256}, named {@code predictor}. */
    public static MlpHeadConfig byolPredictor() {
        return MlpHeadConfig.builder().setName("predictor").setInputSize(256).optHiddenSizes(4096).setOutputSize(256).build();
    }

    /** SimSiam projector {@code in -> 2048 -> 2048 -> 2048} with a non-affine final BN, named {@code projector}. */
    public static MlpHeadConfig simsiamProjector(int in) {
        return MlpHeadConfig.builder().setName("projector").setInputSize(in).optHiddenSizes(2048, 2048).setOutputSize(2048)
                .optFinalNorm(MlpHeadConfig.FinalNorm.BATCH_NORM_NO_AFFINE).build();
    }

    /** SimSiam predictor {@code 2048 -> 512 -> 2048}, named {@code predictor}. */
    public static MlpHeadConfig simsiamPredictor() {
        return MlpHeadConfig.builder().setName("predictor").setInputSize(2048).optHiddenSizes(512).setOutputSize(2048).build();
    }

    /** Barlow Twins projector {@code in -> 8192 -> 8192 -> 8192}, no output bias, named {@code projector}. */
    public static MlpHeadConfig barlowTwinsProjector(int in) {
        return MlpHeadConfig.builder().setName("projector").setInputSize(in).optHiddenSizes(8192, 8192).setOutputSize(8192)
                .optOutputBias(false).build();
    }

    /** VICReg expander: the same 8192-8192-8192 MLP as Barlow Twins, named {@code projector}. */
    public static MlpHeadConfig vicregExpander(int in) {
        return barlowTwinsProjector(in);
    }

    /**
     * Adds the head's vertices to a graph builder.
     *
     * @param gb    a builder with the vertex {@code input} (e.g. {@link Taps#POOL}) of width {@code head.inputSize()}
     * @param head  the head
     * @param input name of the vertex the head reads
     * @return the name of the head's output vertex ({@code head.name()})
     */
    public static String addTo(ComputationGraphConfiguration.GraphBuilder gb, MlpHeadConfig head, String input) {
        Objects.requireNonNull(gb, "gb");
        Objects.requireNonNull(head, "head");
        Objects.requireNonNull(input, "input");
        String p = head.name();
        String prev = input;
        int in = head.inputSize();
        List<Integer> hidden = head.hiddenSizes();
        for (int i = 0; i < hidden.size(); i++) {
            int h = hidden.get(i);
            String fc = p + "_fc" + (i + 1);
            gb.addLayer(fc, dense(in, h, !head.hiddenBatchNorm()), prev);
            prev = fc;
            if (head.hiddenBatchNorm()) {
                String bn = p + "_bn" + (i + 1);
                gb.addLayer(bn, ResNets.bn(h), prev);
                prev = bn;
            }
            String relu = p + "_relu" + (i + 1);
            gb.addLayer(relu, new ActivationLayer.Builder().activation(Activation.RELU).build(), prev);
            prev = relu;
            in = h;
        }
        boolean finalBn = head.finalNorm() != MlpHeadConfig.FinalNorm.NONE;
        String fcOut = finalBn ? p + "_fc" + (hidden.size() + 1) : p;
        gb.addLayer(fcOut, dense(in, head.outputSize(), head.outputBias() && !finalBn), prev);
        if (finalBn) {
            BatchNormalization.Builder b = new BatchNormalization.Builder().nIn(head.outputSize()).nOut(head.outputSize())
                    .eps(ResNets.BN_EPS).decay(ResNets.BN_DECAY);
            if (head.finalNorm() == MlpHeadConfig.FinalNorm.BATCH_NORM_NO_AFFINE) {
                b.lockGammaBeta(true).gamma(1.0).beta(0.0);
            }
            gb.addLayer(p, b.build(), fcOut);
        }
        return p;
    }

    /**
     * Builds a stand-alone, initialised head graph with input {@link #INPUT} ({@code [N, inputSize]}) and
     * output {@code head.name()} ({@code [N, outputSize]}).
     */
    public static ComputationGraph build(MlpHeadConfig head, long seed, DataType dataType, IUpdater updater) {
        ComputationGraphConfiguration.GraphBuilder gb = ResNets.globalConfig(seed, dataType, updater).graphBuilder()
                .addInputs(INPUT).setInputTypes(InputType.feedForward(head.inputSize()));
        String out = addTo(gb, head, INPUT);
        ComputationGraph g = new ComputationGraph(gb.setOutputs(out).build());
        g.init();
        return g;
    }

    /** {@link #build(MlpHeadConfig, long, DataType, IUpdater)} with FLOAT and SGD at {@link ResNets#DEFAULT_SGD_LR}. */
    public static ComputationGraph build(MlpHeadConfig head, long seed) {
        return build(head, seed, DataType.FLOAT, new Sgd(ResNets.DEFAULT_SGD_LR));
    }

    private static DenseLayer dense(int in, int out, boolean bias) {
        double b = 1.0 / Math.sqrt(in);
        return new DenseLayer.Builder().nIn(in).nOut(out).hasBias(bias)
                .activation(Activation.IDENTITY)
                .weightInit(new WeightInitDistribution(new UniformDistribution(-b, b)))
                .build();
    }
}
