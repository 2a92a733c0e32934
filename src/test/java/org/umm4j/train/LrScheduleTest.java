package org.umm4j.train;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.serde.JsonMappers;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.schedule.ISchedule;

import static org.junit.jupiter.api.Assertions.*;

class LrScheduleTest {

    @Test
    void warmupCosineClosedForm() {
        double b = 0.4, f = 0.004;
        WarmupCosineSchedule s = new WarmupCosineSchedule(b, f, 10, 110);
        assertEquals(b / 10, s.valueAt(0, 0), 1e-15, "first warm-up step is b/W");
        assertEquals(b * 5 / 10, s.valueAt(4, 0), 1e-15);
        assertEquals(b, s.valueAt(9, 0), 1e-15, "warm-up ends at b");
        assertEquals(b, s.valueAt(10, 0), 1e-15, "cosine starts at b");
        // half-way through the cosine part: cos(pi/2) = 0
        assertEquals((b + f) / 2, s.valueAt(60, 3), 1e-15);
        // a quarter: f + (b-f)(1+cos(pi/4))/2
        assertEquals(f + (b - f) * (1 + Math.sqrt(0.5)) / 2, s.valueAt(35, 0), 1e-15);
        assertEquals(f, s.valueAt(110, 0), 1e-15, "end value");
        assertEquals(f, s.valueAt(5000, 0), 1e-15, "stays at the end value");
        // monotone decreasing after warm-up
        for (int t = 10; t < 110; t++) {
            assertTrue(s.valueAt(t + 1, 0) <= s.valueAt(t, 0), "non-increasing at " + t);
        }
    }

    @Test
    void cosineOnlyStartsAtBase() {
        WarmupCosineSchedule s = WarmupCosineSchedule.cosine(0.1, 0.0, 100);
        assertEquals(0.1, s.valueAt(0, 0), 1e-15);
        assertEquals(0.05, s.valueAt(50, 0), 1e-15);
        assertEquals(0.1 * (1 + Math.cos(Math.PI * 0.99)) / 2, s.valueAt(99, 0), 1e-15);
        assertEquals(0.0, s.valueAt(100, 0), 1e-15);
    }

    @Test
    void exponentialClosedForm() {
        ExponentialDecaySchedule s = new ExponentialDecaySchedule(1.0, 0.01, 100);
        assertEquals(1.0, s.valueAt(0, 0), 1e-15);
        assertEquals(0.1, s.valueAt(50, 0), 1e-14);
        assertEquals(0.01, s.valueAt(100, 0), 1e-15);
        assertEquals(0.01, s.valueAt(300, 0), 1e-15);
        assertEquals(Math.pow(0.01, 0.01), s.gamma(), 1e-15);
        assertEquals(s.valueAt(37, 0) * s.gamma(), s.valueAt(38, 0), 1e-14, "geometric per step");
    }

    @Test
    void constant() {
        ConstantSchedule s = new ConstantSchedule(0.3);
        assertEquals(0.3, s.valueAt(0, 0));
        assertEquals(0.3, s.valueAt(123456, 7));
    }

    @Test
    void validationNamesTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new WarmupCosineSchedule(0.1, 0, 100, 100));
        assertTrue(e.getMessage().contains("warmupSteps"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new WarmupCosineSchedule(0.1, 0.2, 0, 100));
        assertTrue(e.getMessage().contains("finalLr"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ExponentialDecaySchedule(0.1, 0, 10));
        assertTrue(e.getMessage().contains("finalLr"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ConstantSchedule(-1));
        assertTrue(e.getMessage().contains("lr"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new WarmupCosineSchedule(0.1, 0, 0, 10).valueAt(-1, 0));
        assertTrue(e.getMessage().contains("iteration"), e.getMessage());
    }

    @Test
    void schedulesRoundTripInsideUpdatersThroughDl4jJson() throws Exception {
        ISchedule[] schedules = {new WarmupCosineSchedule(0.3, 0.001, 5, 50), WarmupCosineSchedule.cosine(0.3, 0, 50),
                new ExponentialDecaySchedule(0.3, 0.003, 50), new ConstantSchedule(0.3)};
        for (ISchedule s : schedules) {
            for (OptimizerConfig oc : new OptimizerConfig[]{OptimizerConfig.lars(0.3, 0.9, 1e-6),
                    OptimizerConfig.sgd(0.3, 0.9).withWeightDecay(5e-4), OptimizerConfig.adam(0.3).withWeightDecay(1e-4)}) {
                OptimizerConfig o = oc.withSchedule(s);
                ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().graphBuilder()
                        .addInputs("in")
                        .addLayer("d", new DenseLayer.Builder().nIn(3).nOut(4).activation(Activation.RELU).build(), "in")
                        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(4).nOut(2)
                                .activation(Activation.IDENTITY).build(), "d")
                        .setOutputs("out").build();
                o.applyTo(conf);
                String json = conf.toJson();
                ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(json);
                assertEquals(conf, back, "configuration round trip for " + o);
                IUpdater u = ((org.deeplearning4j.nn.conf.layers.BaseLayer) ((org.deeplearning4j.nn.conf.graph.LayerVertex)
                        back.getVertices().get("d")).getLayerConf().getLayer()).getIUpdater();
                assertEquals(o.weightUpdater(), u);
                assertEquals(s.valueAt(7, 0), u.getLearningRate(7, 0), 0.0, "schedule survives: " + u);
                // the bare updater through DL4J's mapper too
                String uj = JsonMappers.getMapper().writeValueAsString(o.weightUpdater());
                assertEquals(o.weightUpdater(), JsonMappers.getMapper().readValue(uj, IUpdater.class), uj);
                if (o.type() == OptimizerConfig.Type.ADAM) {
                    assertInstanceOf(Adam.class, u);
                }
            }
        }
    }
}
