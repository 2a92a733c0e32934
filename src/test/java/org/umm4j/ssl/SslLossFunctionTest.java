package org.umm4j.ssl;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Sgd;
import org.umm4j.backend.Umm4jBackend;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The DL4J bridge: JSON round trip, score and gradient conventions, and a tiny graph that learns. */
class SslLossFunctionTest {
    private static final int N = 8;
    private static final int IN = 6;

    @BeforeAll
    static void backend() {
        Umm4jBackend.init();
    }

    private static ComputationGraphConfiguration conf(SslLossFunction loss, int out) {
        return new NeuralNetConfiguration.Builder().seed(42).dataType(DataType.DOUBLE).updater(new Sgd(0.5))
                .weightInit(WeightInit.XAVIER).graphBuilder().addInputs("in")
                .addLayer("dense", new DenseLayer.Builder().nIn(IN).nOut(out).activation(Activation.IDENTITY).build(), "in")
                .addLayer("loss", new LossLayer.Builder().lossFunction(loss).activation(Activation.IDENTITY).build(), "dense")
                .setOutputs("loss").build();
    }

    /** Two noisy views of the same N samples, stacked [2N, IN]. */
    private static INDArray stackedViews(long seed) {
        var rnd = Nd4j.getRandomFactory().getNewRandomInstance(seed);
        INDArray x = rnd.nextGaussian(new long[]{N, IN}).castTo(DataType.DOUBLE);
        INDArray v1 = x.add(rnd.nextGaussian(new long[]{N, IN}).castTo(DataType.DOUBLE).muli(0.2));
        INDArray v2 = x.add(rnd.nextGaussian(new long[]{N, IN}).castTo(DataType.DOUBLE).muli(0.2));
        return Nd4j.vstack(v1, v2);
    }

    @Test
    void jsonRoundTripKeepsObjectiveAndEveryHyperParameter() {
        SslLossFunction loss = new SslLossFunction(new BarlowTwins(0.01, 0.5, 1e-5));
        ComputationGraphConfiguration c = conf(loss, 4);
        String json = c.toJson();
        assertTrue(json.contains("\"objective\" : \"barlow\"") && json.contains("\"lambda\" : 0.01")
                && json.contains("\"scale\" : 0.5"), json);
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(json);
        assertEquals(c, back);
        SslLossFunction restored = lossOf(back);
        assertEquals(loss, restored);
        assertEquals(Map.of("lambda", 0.01, "scale", 0.5, "eps", 1e-5), restored.objective().hyperParameters());
        for (String name : SslLossFunction.SUPPORTED) {
            SslLossFunction l = new SslLossFunction(Objectives.create(name));
            SslLossFunction r = lossOf(ComputationGraphConfiguration.fromJson(conf(l, 4).toJson()));
            assertEquals(l, r, name);
            assertEquals(Objectives.create(name).hyperParameters(), r.objective().hyperParameters(), name);
        }
    }

    private static SslLossFunction lossOf(ComputationGraphConfiguration c) {
        LayerVertex v = (LayerVertex) c.getVertices().get("loss");
        return (SslLossFunction) ((LossLayer) v.getLayerConf().getLayer()).getLossFn();
    }

    @Test
    void scoreIsTheObjectiveLossAndGradientIsItsBackprop() {
        ComputationGraph g = new ComputationGraph(conf(new SslLossFunction(new SimClr(0.5)), 4));
        g.init();
        INDArray x = stackedViews(1);
        INDArray labels = Nd4j.zeros(DataType.DOUBLE, 2 * N, 4);   // ignored by the loss
        g.setInputs(x);
        g.setLabels(labels);
        g.computeGradientAndScore();
        INDArray z = g.outputSingle(x);
        LossAndGradients r = new SimClr(0.5).compute(z.get(NDArrayIndex.interval(0, N), NDArrayIndex.all()).dup(),
                z.get(NDArrayIndex.interval(N, 2 * N), NDArrayIndex.all()).dup());
        assertEquals(r.loss(), g.score(), 1e-10 * r.loss());
        // DL4J's raw gradient is divided by the minibatch (2N) in the updater; after that it must be x^T dL/dz
        INDArray dz = Nd4j.vstack(r.gradient(0), r.gradient(1));
        INDArray expectedW = x.transpose().mmul(dz);
        INDArray rawW = g.gradient().getGradientFor("dense_W");
        assertTrue(rawW.div(2 * N).equalsWithEps(expectedW, 1e-10), rawW.div(2 * N) + " vs " + expectedW);
    }

    @Test
    void nonLinearActivationIsBackpropagated() {
        SslLossFunction loss = new SslLossFunction(new VicReg());
        INDArray pre = stackedViews(3).get(NDArrayIndex.all(), NDArrayIndex.interval(0, 4)).dup();
        INDArray grad = loss.computeGradient(null, pre, new ActivationTanH(), null);
        // finite differences of the averaged score against the pre-activation, times 2N
        for (int[] idx : new int[][]{{0, 0}, {5, 2}, {11, 3}}) {
            double h = 1e-6;
            double o = pre.getDouble(idx[0], idx[1]);
            pre.putScalar(idx[0], idx[1], o + h);
            double plus = loss.computeScore(null, pre, new ActivationTanH(), null, true);
            pre.putScalar(idx[0], idx[1], o - h);
            double minus = loss.computeScore(null, pre, new ActivationTanH(), null, true);
            pre.putScalar(idx[0], idx[1], o);
            assertEquals((plus - minus) / (2 * h) * pre.rows(), grad.getDouble(idx[0], idx[1]), 1e-6);
        }
        assertEquals(loss.computeScore(null, pre, new ActivationTanH(), null, true) * pre.rows(),
                loss.computeScore(null, pre, new ActivationTanH(), null, false), 1e-9);
    }

    @Test
    void fittingATinyGraphLowersTheSimClrLoss() {
        ComputationGraph g = new ComputationGraph(conf(new SslLossFunction(new SimClr(0.5)), 4));
        g.init();
        DataSet ds = new DataSet(stackedViews(2), Nd4j.zeros(DataType.DOUBLE, 2 * N, 4));
        double first = g.score(ds);
        for (int i = 0; i < 15; i++) {
            g.fit(ds);
        }
        double last = g.score(ds);
        assertTrue(last < first - 0.05, first + " -> " + last);
    }

    @Test
    void objectivesNeedingTargetsOrStateAreRejected() {
        for (String name : new String[]{"byol", "simsiam", "mocov2", "swav", "vicregl"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new SslLossFunction(name, Map.of()));
            assertTrue(e.getMessage().contains("external errors") && e.getMessage().contains(name), e.getMessage());
        }
        SslLossFunction l = new SslLossFunction(new SimClr());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> l.computeScore(null,
                Nd4j.rand(DataType.DOUBLE, 5, 3), new ActivationTanH(), null, true)).getMessage().contains("[5, 3]"));
    }
}
