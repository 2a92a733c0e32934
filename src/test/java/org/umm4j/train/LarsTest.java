package org.umm4j.train;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.umm4j.backend.Umm4jBackend;

import java.io.File;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

/**
 * LARS against a hand computation in DOUBLE. The gradient DL4J hands the updater is measured with a twin graph
 * trained by plain SGD (lr 1, no momentum): its parameter change is exactly that gradient.
 */
class LarsTest {
    private static final String[] WEIGHTS = {"d1_W", "d2_W", "out_W"};
    private static final String[] EXCLUDED = {"d1_b", "bn_gamma", "bn_beta", "out_b"};

    private DataType oldDefault;
    private DataType oldFloat;

    @BeforeEach
    void doubles() {
        Umm4jBackend.init();
        oldDefault = Nd4j.dataType();
        oldFloat = Nd4j.defaultFloatingPointType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    }

    @AfterEach
    void restore() {
        Nd4j.setDefaultDataTypes(oldDefault, oldFloat);
    }

    /** in(4) -> d1 dense(4->3, bias) -> bn -> d2 dense(3->3, no bias) -> out(3->2, MSE): d2_W and out_W share a block */
    static ComputationGraphConfiguration conf() {
        return new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).seed(7).weightInit(WeightInit.XAVIER)
                .graphBuilder().addInputs("in")
                .addLayer("d1", new DenseLayer.Builder().nIn(4).nOut(3).activation(Activation.TANH).build(), "in")
                .addLayer("bn", new BatchNormalization.Builder().nOut(3).build(), "d1")
                .addLayer("d2", new DenseLayer.Builder().nIn(3).nOut(3).hasBias(false).activation(Activation.TANH)
                        .build(), "bn")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(3).nOut(2)
                        .activation(Activation.IDENTITY).build(), "d2")
                .setOutputs("out").build();
    }

    static ComputationGraph graph(OptimizerConfig o) {
        ComputationGraphConfiguration c = o.applyTo(conf());
        ComputationGraph g = new ComputationGraph(c);
        g.init();
        return g;
    }

    static MultiDataSet batch() {
        INDArray x = Nd4j.rand(DataType.DOUBLE, 5, 4).subi(0.5).muli(3);
        INDArray y = Nd4j.rand(DataType.DOUBLE, 5, 2);
        return new MultiDataSet(x, y);
    }

    @Test
    void updatersAreAssignedPerParameter() {
        ComputationGraph g = graph(OptimizerConfig.lars(0.1, 0.9, 1e-4));
        assertEquals(Lars.class, g.getLayer("d1").conf().getLayer().getUpdaterByParam("W").getClass());
        assertEquals(SgdMomentum.class, g.getLayer("d1").conf().getLayer().getUpdaterByParam("b").getClass());
        assertEquals(SgdMomentum.class, g.getLayer("bn").conf().getLayer().getUpdaterByParam("gamma").getClass());
        assertEquals(SgdMomentum.class, g.getLayer("bn").conf().getLayer().getUpdaterByParam("beta").getClass());
        assertEquals(Lars.class, g.getLayer("out").conf().getLayer().getUpdaterByParam("W").getClass());
        assertEquals(List.of(), g.getLayer("d1").conf().getLayer().getRegularizationByParam("b"));
        // d1_W alone; d2_W + out_W merged into one block
        assertEquals(2, Lars.bind(g));
    }

    @Test
    void larsStepMatchesHandComputationAndExcludesBiasesAndBatchNorm() {
        double lr = 0.2, mu = 0.9, wd = 0.05, eta = 0.3;
        OptimizerConfig o = OptimizerConfig.lars(lr, mu, wd).withTrustCoefficient(eta);
        ComputationGraph lars = graph(o);
        Lars.bind(lars);
        ComputationGraph probe = graph(OptimizerConfig.sgd(1.0, 0.0));
        MultiDataSet data = batch();

        Map<String, double[]> vel = new HashMap<>();
        boolean trustDiffersFromOne = false;
        for (int step = 0; step < 3; step++) {
            Map<String, double[]> w = snapshot(lars);
            probe.setParams(lars.params().dup());
            probe.fit(data);
            Map<String, double[]> after = snapshot(probe);
            Map<String, double[]> grad = new HashMap<>();
            for (String k : w.keySet()) {
                grad.put(k, minus(w.get(k), after.get(k)));
            }
            lars.fit(data);
            Map<String, double[]> got = snapshot(lars);
            for (String k : WEIGHTS) {
                double[] wk = w.get(k), gk = grad.get(k);
                double wn = norm(wk), gn = norm(gk);
                double trust = eta * wn / (gn + wd * wn);
                trustDiffersFromOne |= Math.abs(trust - 1) > 0.05;
                double[] v = vel.computeIfAbsent(k, kk -> new double[wk.length]);
                for (int i = 0; i < v.length; i++) {
                    v[i] = mu * v[i] + lr * trust * (gk[i] + wd * wk[i]);
                    assertEquals(wk[i] - v[i], got.get(k)[i], 1e-12, k + "[" + i + "] at step " + step);
                }
            }
            for (String k : EXCLUDED) {
                double[] wk = w.get(k), gk = grad.get(k);
                double[] v = vel.computeIfAbsent(k, kk -> new double[wk.length]);
                for (int i = 0; i < v.length; i++) {
                    v[i] = mu * v[i] + lr * gk[i]; // plain momentum: no trust ratio, no weight decay
                    assertEquals(wk[i] - v[i], got.get(k)[i], 1e-12, k + "[" + i + "] at step " + step);
                }
            }
        }
        assertTrue(trustDiffersFromOne, "the test must exercise a trust ratio != 1");
    }

    @Test
    void updaterStateRoundTripsThroughModelSerializer(@TempDir Path dir) throws Exception {
        OptimizerConfig o = OptimizerConfig.lars(0.1, 0.9, 1e-3).withSchedule(new WarmupCosineSchedule(0.1, 0, 2, 20));
        ComputationGraph g = graph(o);
        Lars.bind(g);
        MultiDataSet data = batch();
        g.fit(data);
        g.fit(data);
        File f = dir.resolve("m.zip").toFile();
        ModelSerializer.writeModel(g, f, true);
        ComputationGraph r = ModelSerializer.restoreComputationGraph(f, true);
        assertEquals(g.params(), r.params());
        assertEquals(g.getUpdater().getStateViewArray(), r.getUpdater().getStateViewArray());
        assertTrue(g.getUpdater().getStateViewArray().amaxNumber().doubleValue() > 0, "momentum state is non-zero");
        assertEquals(g.getConfiguration().getIterationCount(), r.getConfiguration().getIterationCount());
        Lars.bind(r);
        g.fit(data);
        r.fit(data);
        assertEquals(g.params(), r.params(), "a restored LARS run continues identically");
    }

    @Test
    void trustRatioPerTensorAndZeroNormFallback() {
        // one block of two tensors: [w0 (2 values, all zero), w1 (3 values)]
        double lr = 0.5, mu = 0.8, wd = 0.1, eta = 0.02;
        Lars cfg = new Lars(lr, null, mu, wd, eta);
        INDArray params = Nd4j.createFromArray(0.0, 0.0, 3.0, 0.0, 4.0);
        INDArray state = Nd4j.zeros(DataType.DOUBLE, 1, 5);
        LarsGradientUpdater u = (LarsGradientUpdater) cfg.instantiate(state, true);
        u.bind(params, new long[]{0, 2, 5});
        INDArray g = Nd4j.createFromArray(new double[][]{{1.0, -2.0, 0.5, 1.0, -1.0}});
        u.applyUpdater(g, 0, 0);
        // w0: |w| = 0 -> trust 1, d = g
        assertEquals(lr * 1.0, g.getDouble(0, 0), 1e-15);
        assertEquals(lr * -2.0, g.getDouble(0, 1), 1e-15);
        // w1: |w| = 5, |g| = 1.5, trust = 0.02*5/(1.5+0.5) = 0.05, d = g + 0.1 w
        double t = eta * 5 / (1.5 + wd * 5);
        assertEquals(lr * t * (0.5 + 0.3), g.getDouble(0, 2), 1e-15);
        assertEquals(lr * t * 1.0, g.getDouble(0, 3), 1e-15);
        assertEquals(lr * t * (-1.0 + 0.4), g.getDouble(0, 4), 1e-15);
        // second step: momentum carries the first velocity
        INDArray v1 = g.dup();
        INDArray g2 = Nd4j.createFromArray(new double[][]{{0.0, 0.0, 0.0, 0.0, 0.0}});
        u.applyUpdater(g2, 1, 0); // |g| = 0 -> trust 1, d = wd w
        assertEquals(mu * v1.getDouble(0, 0), g2.getDouble(0, 0), 1e-15);
        assertEquals(mu * v1.getDouble(0, 2) + lr * wd * 3.0, g2.getDouble(0, 2), 1e-15);
        assertEquals(mu * v1.getDouble(0, 4) + lr * wd * 4.0, g2.getDouble(0, 4), 1e-15);
        assertEquals(g2, u.getState().get(SgdMomentum.VELOCITY).reshape(1, 5), "velocity kept in the state view");
        assertEquals(g2, state, "state view written in place");
    }

    @Test
    void unboundLarsFailsClearly() {
        ComputationGraph g = graph(OptimizerConfig.lars(0.1, 0.9, 1e-3));
        Throwable t = assertThrows(Throwable.class, () -> g.fit(batch()));
        boolean found = false;
        for (Throwable c = t; c != null; c = c.getCause()) {
            found |= c instanceof IllegalStateException && c.getMessage().contains("Lars.bind");
        }
        assertTrue(found, "cause chain names Lars.bind: " + t);
    }

    @Test
    void applyToExistingGraphSwitchesOptimiser() {
        ComputationGraph g = graph(OptimizerConfig.adam(1e-3));
        OptimizerConfig.lars(0.1, 0.9, 1e-3).applyTo(g);
        assertEquals(Lars.class, g.getLayer("d2").conf().getLayer().getUpdaterByParam("W").getClass());
        INDArray before = g.params().dup();
        g.fit(batch());
        assertNotEquals(before, g.params());
    }

    @Test
    void optimizerValidationNamesTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OptimizerConfig.sgd(0.1, 1.0));
        assertTrue(e.getMessage().contains("momentum"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> OptimizerConfig.adam(-1));
        assertTrue(e.getMessage().contains("learningRate"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> OptimizerConfig.lars(0.1, 0.9, -1));
        assertTrue(e.getMessage().contains("weightDecay"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> OptimizerConfig.lars(0.1, 0.9, 0).withTrustCoefficient(0));
        assertTrue(e.getMessage().contains("trustCoefficient"), e.getMessage());
    }

    private static Map<String, double[]> snapshot(ComputationGraph g) {
        Map<String, double[]> m = new HashMap<>();
        g.paramTable().forEach((k, v) -> m.put(k, v.dup('c').reshape(v.length()).toDoubleVector()));
        return m;
    }

    private static double[] minus(double[] a, double[] b) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = a[i] - b[i];
        }
        return r;
    }

    private static double norm(double[] a) {
        double s = 0;
        for (double x : a) {
            s += x * x;
        }
        return Math.sqrt(s);
    }
}
