package org.umm4j.spark;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.IUpdater;
import org.umm4j.nn.Heads;
import org.umm4j.nn.MlpHeadConfig;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.ResNets;
import org.umm4j.nn.Taps;
import org.umm4j.ssl.SslLossFunction;

import java.util.Objects;

/**
 * The graph that SSL pretraining trains through {@code fit()} (on one machine or on Spark):
 * {@code input [2N, C, H, W] -> ResNet backbone -> pool [2N, F] -> projector [2N, D] -> LossLayer(loss)}, where
 * the loss is an {@link SslLossFunction} over the stacked two views (rows 0..N-1 view 1, N..2N-1 view 2). Every
 * piece of it (configuration, {@code SslLossFunction} hyper-parameters) is in the graph's JSON, so Spark workers
 * rebuild it exactly. For {@code superinfo} the projector must emit {@code [mu | logvar]}, i.e. twice the
 * embedding width.
 */
public final class SslGraphs {
    /** Name of the loss layer (the graph's output). */
    public static final String LOSS = "ssl_loss";

    private SslGraphs() {
    }

    /**
     * @param backbone  the ResNet
     * @param projector the projection head; its input size must be the backbone's feature size
     * @param loss      the SSL loss
     * @param updater   optimiser stored in every layer
     * @return the initialised graph, output {@link #LOSS}
     */
    public static ComputationGraph build(ResNetConfig backbone, MlpHeadConfig projector, SslLossFunction loss,
                                         IUpdater updater) {
        Objects.requireNonNull(backbone, "backbone");
        Objects.requireNonNull(projector, "projector");
        Objects.requireNonNull(loss, "loss");
        Objects.requireNonNull(updater, "updater");
        if (projector.inputSize() != backbone.featureSize()) {
            throw new IllegalArgumentException("projector input size " + projector.inputSize()
                    + " must equal the backbone's feature size " + backbone.featureSize());
        }
        ComputationGraphConfiguration.GraphBuilder gb = ResNets.graphBuilder(backbone, updater);
        String head = Heads.addTo(gb, projector, Taps.POOL);
        gb.addLayer(LOSS, new LossLayer.Builder().lossFunction(loss).activation(Activation.IDENTITY).build(), head);
        ComputationGraph g = new ComputationGraph(gb.setOutputs(LOSS).build());
        g.init();
        return g;
    }

    /**
     * The default projector of a method, scaled: simclr {@link Heads#simclrProjector}, barlow and vicreg
     * {@link Heads#barlowTwinsProjector}, wmse and superinfo a SimCLR-shaped MLP; superinfo's output is doubled
     * for {@code [mu | logvar]}.
     *
     * @param method     one of {@link SslLossFunction#SUPPORTED}
     * @param inputSize  the backbone's feature size
     * @param scale      width factor for the hidden and output sizes (1 = paper sizes)
     */
    public static MlpHeadConfig projectorFor(String method, int inputSize, double scale) {
        Objects.requireNonNull(method, "method");
        if (!SslLossFunction.SUPPORTED.contains(method)) {
            throw new IllegalArgumentException("method '" + method + "' is not trainable through fit(); supported: "
                    + SslLossFunction.SUPPORTED);
        }
        MlpHeadConfig base = switch (method) {
            case "barlow", "vicreg" -> Heads.barlowTwinsProjector(inputSize);
            default -> Heads.simclrProjector(inputSize);
        };
        MlpHeadConfig scaled = scale == 1.0 ? base : base.scaled(scale);
        if (method.equals("superinfo")) {
            return new MlpHeadConfig(scaled.name(), inputSize, scaled.hiddenSizes(), 2 * scaled.outputSize(),
                    scaled.hiddenBatchNorm(), scaled.finalNorm(), scaled.outputBias());
        }
        return scaled;
    }
}
