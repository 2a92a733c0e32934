package org.umm4j.train;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.SplittableRandom;

/** Tiny dense graphs and random regression data for the train package's tests. */
final class TinyGraphs {
    static final int IN = 4;
    static final int OUT = 2;

    private TinyGraphs() {
    }

    /** in(4) -> dense(8, tanh, dropout 0.8) -> out(2, identity, MSE), initialised, with {@code o}'s updaters. */
    static ComputationGraph dense(OptimizerConfig o, long seed) {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(seed)
                .weightInit(WeightInit.XAVIER).graphBuilder().addInputs("in")
                .addLayer("h", new DenseLayer.Builder().nIn(IN).nOut(8).activation(Activation.TANH).dropOut(0.8).build(),
                        "in")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(8).nOut(OUT)
                        .activation(Activation.IDENTITY).build(), "h")
                .setOutputs("out").build();
        ComputationGraph g = new ComputationGraph(o.applyTo(conf));
        g.init();
        return g;
    }

    /** A batch of {@code n} samples of y = A x + noise, drawn from {@code rng} only. */
    static MultiDataSet batch(SplittableRandom rng, int n) {
        float[] x = new float[n * IN];
        float[] y = new float[n * OUT];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < IN; j++) {
                x[i * IN + j] = (float) rng.nextGaussian();
            }
            y[i * OUT] = x[i * IN] - 0.5f * x[i * IN + 1] + 0.1f * (float) rng.nextGaussian();
            y[i * OUT + 1] = 0.3f * x[i * IN + 2] * x[i * IN + 3] + 0.1f * (float) rng.nextGaussian();
        }
        INDArray xa = Nd4j.create(x, new long[]{n, IN});
        INDArray ya = Nd4j.create(y, new long[]{n, OUT});
        return new MultiDataSet(xa, ya);
    }
}
