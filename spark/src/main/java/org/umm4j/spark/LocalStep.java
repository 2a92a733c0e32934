package org.umm4j.spark;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;

import java.io.Serializable;

/**
 * One local optimisation step of {@link SparkParameterAveraging}, shipped to the workers by Java serialisation (so
 * it must hold only serialisable, immutable settings: no graphs, no arrays that change). It updates
 * {@code graph}'s parameters in place ({@code graph.params()} is the flat view) and returns the step's loss.
 */
@FunctionalInterface
public interface LocalStep extends Serializable {

    /**
     * @param graph     the worker's replica (parameters as left by the previous local step)
     * @param batch     this step's minibatch
     * @param round     averaging round (0-based)
     * @param localStep step within the round, {@code 0..K-1}
     * @param partition Spark partition (worker) index
     * @return the loss before the update
     */
    double apply(ComputationGraph graph, DataSet batch, long round, int localStep, int partition);

    /**
     * Plain SGD on the graph's own (minibatch-mean) loss: {@code theta <- theta - lr * dL/dtheta}. DL4J's
     * {@code computeGradientAndScore} leaves the gradient summed over the minibatch (its updater divides by the
     * minibatch size), so this step divides by {@code batch.numExamples()} too. The graph's updater is not used, so
     * no optimiser state has to be averaged.
     */
    static LocalStep sgd(double learningRate) {
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learningRate must be positive and finite, got " + learningRate);
        }
        return (graph, batch, round, localStep, partition) -> {
            graph.setInputs(batch.getFeatures());
            graph.setLabels(batch.getLabels());
            graph.computeGradientAndScore();
            double score = graph.score();
            // the flat gradient view is ordered like params(); it holds the sum over the minibatch
            graph.params().subi(graph.gradient().gradient().mul(learningRate / batch.numExamples()));
            return score;
        };
    }
}
