package org.umm4j.spark;

import org.apache.spark.SparkException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

@Tag("slow")
class SparkParameterAveragingTest {
    private static final int IN = 3;
    private static final int OUT = 2;
    private static final double LR = 0.1;

    /** A single dense output layer y = x W + b with MSE, in DOUBLE. */
    private static ComputationGraph linear() {
        ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(7).dataType(DataType.DOUBLE)
                .weightInit(WeightInit.XAVIER).graphBuilder().addInputs("in")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(IN).nOut(OUT)
                        .activation(Activation.IDENTITY).build(), "in")
                .setOutputs("out").build());
        g.init();
        return g;
    }

    private static DataSet batch(long seed, int n) {
        Nd4j.getRandom().setSeed(seed);
        return new DataSet(Nd4j.rand(DataType.DOUBLE, n, IN).subi(0.5), Nd4j.rand(DataType.DOUBLE, n, OUT));
    }

    /**
     * One SGD step by hand: DL4J's MSE is L = 1/n sum_i 1/OUT sum_j (yhat_ij - y_ij)^2, so
     * dL/dW = X^T G, dL/db = sum_i G_i with G = 2 (yhat - y) / (OUT n).
     */
    private static double[][] handStep(double[][] w, double[] b, DataSet d) {
        double[][] x = d.getFeatures().toDoubleMatrix();
        double[][] y = d.getLabels().toDoubleMatrix();
        int n = x.length;
        double[][] gw = new double[IN][OUT];
        double[] gb = new double[OUT];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < OUT; j++) {
                double yhat = b[j];
                for (int k = 0; k < IN; k++) {
                    yhat += x[i][k] * w[k][j];
                }
                double g = 2 * (yhat - y[i][j]) / (OUT * n);
                gb[j] += g;
                for (int k = 0; k < IN; k++) {
                    gw[k][j] += x[i][k] * g;
                }
            }
        }
        double[][] out = new double[IN + 1][OUT];
        for (int j = 0; j < OUT; j++) {
            for (int k = 0; k < IN; k++) {
                out[k][j] = w[k][j] - LR * gw[k][j];
            }
            out[IN][j] = b[j] - LR * gb[j];
        }
        return out;
    }

    private static void assertParams(double[][] expectedWb, ComputationGraph template, INDArray params) {
        ComputationGraph g = template.clone();
        g.setParams(params);
        double[][] w = g.getParam("out_W").toDoubleMatrix();
        double[] b = g.getParam("out_b").toDoubleVector();
        for (int j = 0; j < OUT; j++) {
            for (int k = 0; k < IN; k++) {
                assertEquals(expectedWb[k][j], w[k][j], 1e-12, "W[" + k + "][" + j + "]");
            }
            assertEquals(expectedWb[IN][j], b[j], 1e-12, "b[" + j + "]");
        }
    }

    @Test
    void twoWorkersOneLocalStepGiveTheMeanOfTheirSgdUpdates() {
        ComputationGraph g = linear();
        double[][] w0 = g.getParam("out_W").toDoubleMatrix();
        double[] b0 = g.getParam("out_b").toDoubleVector();
        DataSet d1 = batch(11, 5);
        DataSet d2 = batch(12, 7);
        double[][] u1 = handStep(w0, b0, d1);
        double[][] u2 = handStep(w0, b0, d2);
        double[][] mean = new double[IN + 1][OUT];
        for (int k = 0; k <= IN; k++) {
            for (int j = 0; j < OUT; j++) {
                mean[k][j] = 0.5 * (u1[k][j] + u2[k][j]);
            }
        }
        try (JavaSparkContext sc = LocalSpark.start("local[2]")) {
            JavaRDD<DataSet> data = sc.parallelize(List.of(d1, d2), 2);
            SparkParameterAveraging avg = new SparkParameterAveraging(sc, g, 1, LocalStep.sgd(LR), 2);
            INDArray before = g.params().dup();
            SparkParameterAveraging.Round r = avg.round(g.params(), data, 0);
            assertEquals(2, r.workers());
            assertParams(mean, g, r.params());
            assertEquals(before, g.params(), "the driver's parameters are not modified");
            // the mean loss is the mean of the two workers' losses before their steps
            double l1 = g.score(d1, false);
            double l2 = g.score(d2, false);
            assertEquals(0.5 * (l1 + l2), r.meanLoss(), 1e-12);
            avg.close();
        }
    }

    @Test
    void twoLocalStepsOnOneWorkerAreTwoSequentialSgdSteps() {
        ComputationGraph g = linear();
        DataSet d1 = batch(21, 4);
        DataSet d2 = batch(22, 4);
        double[][] s1 = handStep(g.getParam("out_W").toDoubleMatrix(), g.getParam("out_b").toDoubleVector(), d1);
        double[][] w1 = new double[IN][];
        System.arraycopy(s1, 0, w1, 0, IN);
        double[][] s2 = handStep(w1, s1[IN], d2);
        try (JavaSparkContext sc = LocalSpark.start("local[2]")) {
            SparkParameterAveraging avg = new SparkParameterAveraging(sc, g, 2, LocalStep.sgd(LR), 2);
            SparkParameterAveraging.Round r = avg.round(g.params(), sc.parallelize(List.of(d1, d2), 1), 0);
            assertEquals(1, r.workers());
            assertParams(s2, g, r.params());
            avg.close();
        }
    }

    /** Throws in partition 0 on its first attempt only. */
    private static LocalStep failingOnce() {
        LocalStep sgd = LocalStep.sgd(LR);
        return (graph, batch, round, localStep, partition) -> {
            TaskContext tc = TaskContext.get();
            if (tc != null && tc.attemptNumber() == 0 && partition == 0) {
                throw new IllegalStateException("injected failure on the first attempt of partition 0");
            }
            return sgd.apply(graph, batch, round, localStep, partition);
        };
    }

    @Test
    void aFailedTaskIsRetriedAndTheRoundGivesTheSameParameters() {
        ComputationGraph g = linear();
        DataSet d1 = batch(31, 6);
        DataSet d2 = batch(32, 6);
        INDArray clean;
        try (JavaSparkContext sc = LocalSpark.start("local[2]")) {
            JavaRDD<DataSet> data = sc.parallelize(List.of(d1, d2), 2);
            clean = new SparkParameterAveraging(sc, g, 1, LocalStep.sgd(LR), 2).round(g.params(), data, 0).params();
            // without retries (local[2]: one attempt per task) the injected failure fails the round
            SparkParameterAveraging failing = new SparkParameterAveraging(sc, g, 1, failingOnce(), 2);
            assertThrows(SparkException.class, () -> failing.round(g.params(), data, 0));
        }
        try (JavaSparkContext sc = LocalSpark.start("local[2,2]")) {
            JavaRDD<DataSet> data = sc.parallelize(List.of(d1, d2), 2);
            SparkParameterAveraging.Round r = new SparkParameterAveraging(sc, g, 1, failingOnce(), 2)
                    .round(g.params(), data, 0);
            assertEquals(2, r.workers());
            assertEquals(clean, r.params());
        }
    }
}
