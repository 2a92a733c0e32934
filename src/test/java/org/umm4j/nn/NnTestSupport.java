package org.umm4j.nn;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

/** Small helpers shared by the nn tests: seeded inputs and tiny configs. */
final class NnTestSupport {
    private NnTestSupport() {
    }

    /** Uniform(-1, 1) array from a java.util.Random seed (no global ND4J RNG state involved). */
    static INDArray random(long seed, DataType dt, long... shape) {
        Random r = new Random(seed);
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        double[] d = new double[(int) n];
        for (int i = 0; i < d.length; i++) {
            d[i] = 2 * r.nextDouble() - 1;
        }
        return Nd4j.create(d, shape, 'c').castTo(dt);
    }

    static ResNetConfig tiny(int depth, Stem stem, double width, int hw, DataType dt) {
        return ResNetConfig.builder().setDepth(depth).setStem(stem).setInput(3, hw, hw)
                .optWidthMultiplier(width).optSeed(7).optDataType(dt).build();
    }

    /** A tiny CIFAR ResNet-18 (width 1/8, 16 x 16 input) with the SimCLR projector at 1/64 of its size, SGD 0.1. */
    static Backbone tinyWithProjector(DataType dt) {
        ResNetConfig cfg = tiny(18, Stem.CIFAR, 0.125, 16, dt);
        return Backbone.create(cfg, new org.nd4j.linalg.learning.config.Sgd(0.1),
                Heads.simclrProjector(cfg.featureSize()).scaled(1.0 / 64));
    }

    /**
     * Moves BN running statistics away from their initial (0, 1) by a few train-mode passes and gives
     * gamma/beta non-trivial values, so that tests comparing inference outputs exercise every parameter.
     */
    static void perturbBatchNorm(ComputationGraph g, INDArray x, long seed) {
        for (int i = 0; i < 3; i++) {
            g.outputSingle(true, x.mul(1 + 0.5 * i));
        }
        Random r = new Random(seed);
        for (Layer l : g.getLayers()) {
            if (l.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.BatchNormalization) {
                INDArray gamma = l.getParam("gamma");
                INDArray beta = l.getParam("beta");
                if (gamma != null) {
                    for (long i = 0; i < gamma.length(); i++) {
                        gamma.putScalar(i, 0.5 + r.nextDouble());
                        beta.putScalar(i, 0.2 * (r.nextDouble() - 0.5));
                    }
                }
            }
        }
    }
}
