package org.umm4j.ssl;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.Stem;
import org.umm4j.nn.Taps;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** SwAV's prototypes and multi-crop, and the two-output graphs of VICRegL and SuperInfo. */
class MultiOutputMethodsTest {

    private static List<INDArray> views(DataType t, int n, int size, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray a = Nd4j.rand(DataType.DOUBLE, n, 3, size, size).castTo(t);
        INDArray b = a.add(Nd4j.randn(DataType.DOUBLE, n, 3, size, size).muli(0.1).castTo(t));
        return List.of(a, b);
    }

    @Test
    void twoOutputGraphsExposeTheirHeadsAndKeepBackboneNames() {
        SslMethod vl = MethodsTest.tiny("vicregl");
        ComputationGraph g = vl.createOnlineGraph();
        assertEquals(List.of("projector", ComposedMethod.LOCAL), g.getConfiguration().getNetworkOutputs());
        INDArray[] out = g.output(views(DataType.FLOAT, 2, 16, 1).get(0));
        assertEquals(2, out[0].rank());
        // local projector: 512/64 = 8 channels on the 2x2 stage-4 map of a 16 px CIFAR-stem input
        assertArrayEquals(new long[]{2, 8, 2, 2}, out[1].shape());
        assertNotNull(g.getVertex(Taps.STAGE4));
        assertEquals(vl.createOnline().graph().getParam("stem_conv_W").length(), g.getParam("stem_conv_W").length());

        SslMethod si = MethodsTest.tiny("superinfo");
        ComputationGraph gs = si.createOnlineGraph();
        assertEquals(List.of("mu", "logvar"), gs.getConfiguration().getNetworkOutputs());
        INDArray[] o = gs.output(views(DataType.FLOAT, 2, 16, 1).get(0));
        assertArrayEquals(o[0].shape(), o[1].shape());
        // both heads read the pool: 64 features at width 0.125, not the other head
        assertEquals(MethodsTest.tinyResNet().featureSize(), gs.getLayer("logvar_fc1").getParam("W").rows());
    }

    @Test
    void gridConventionAndGamma() {
        INDArray c = ComposedMethod.gridCoords(2, 2, 3, DataType.DOUBLE);
        assertArrayEquals(new long[]{2, 6, 2}, c.shape());
        // location (i=1, j=2) of a 2x3 map is index 5: x = 2.5/3, y = 1.5/2
        assertEquals(2.5 / 3, c.getDouble(1, 5, 0), 1e-12);
        assertEquals(0.75, c.getDouble(1, 5, 1), 1e-12);
        assertEquals(1.0 / 6, c.getDouble(0, 0, 0), 1e-12);
        // 16 px CIFAR stem -> 2x2 map: round(4 * 20/49) = 2; 32 px -> 4x4: 7; 224 px ImageNet stem -> 7x7: 20
        assertEquals(2, ComposedMethod.defaultGamma(MethodsTest.tinyResNet()));
        assertEquals(7, ComposedMethod.defaultGamma(ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR)
                .setInput(3, 32, 32).optWidthMultiplier(0.125).build()));
        assertEquals(20, ComposedMethod.defaultGamma(ResNetConfig.builder().setDepth(18).setStem(Stem.IMAGENET)
                .setInput(3, 224, 224).optWidthMultiplier(0.125).build()));
        assertEquals(47, ComposedMethod.prototypeCount(1.0 / 64));
    }

    /** Prototypes: frozen in epoch 0, then stepped and re-normalised; their updater state makes a resume exact. */
    @Test
    void swavPrototypesTrainAfterTheFirstEpochAndResumeExactly() {
        SslMethod m = MethodsTest.tiny("swav");
        ComputationGraph g = MethodsTest.withAdam(m, 1e-2);
        m.attach(g);
        List<INDArray> v = new ArrayList<>(views(DataType.FLOAT, 8, 16, 4));
        v.add(v.get(0).get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, 8),
                NDArrayIndex.interval(0, 8)).dup());
        INDArray c0 = m.auxiliaryArrays().get("prototypes").dup();
        assertArrayEquals(new long[]{2, 47}, c0.shape());
        assertEquals(1.0, c0.norm2(0).minNumber().doubleValue(), 1e-5);
        m.step(g, v, 0, 0);
        assertEquals(c0, m.auxiliaryArrays().get("prototypes"), "frozen during epoch 0");
        m.step(g, v, 1, 1);
        INDArray c1 = m.auxiliaryArrays().get("prototypes").dup();
        assertNotEquals(c0, c1);
        assertTrue(m.auxiliaryArrays().containsKey("prototypesUpdater"));

        // checkpoint now, then one more step here and on a restored copy: identical
        ComputationGraph saved = g.clone();
        Map<String, INDArray> arrays = new HashMap<>();
        m.auxiliaryArrays().forEach((k, a) -> arrays.put(k, a.dup()));
        double loss = m.step(g, v, 2, 1).loss();
        SslMethod r = MethodsTest.tiny("swav");
        r.restoreAuxiliary(Map.of(), arrays);
        double loss2 = r.step(saved, v, 2, 1).loss();
        assertEquals(loss, loss2, 1e-6);
        assertEquals(m.auxiliaryArrays().get("prototypes"), r.auxiliaryArrays().get("prototypes"));
        assertEquals(m.auxiliaryArrays().get("prototypesUpdater"), r.auxiliaryArrays().get("prototypesUpdater"));
        assertEquals(g.params(), saved.params());
    }

    /** The multi-size backward sums the groups' gradients: equal to two separate backward passes added up. */
    @Test
    void swavSumsTheGradientsOfTheSizeGroups() {
        ComposedMethod m = (ComposedMethod) MethodsTest.tiny("swav");
        ComputationGraph g = m.createOnlineGraph();
        m.attach(g);
        List<INDArray> v = new ArrayList<>(views(DataType.FLOAT, 8, 16, 5));
        INDArray local = v.get(0).get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(4, 12),
                NDArrayIndex.interval(4, 12)).dup();
        v.add(local);
        LossAndGradients lg = m.swavLossAndBackprop(g, v, 8);
        INDArray total = g.getFlattenedGradients().dup();
        // the Gradient handed to the updater sees the summed array (its entries are views of the flattened one)
        INDArray w = m.lastGradientForTest().gradientForVariable().get("stem_conv_W");
        assertEquals(total.reshape(-1).get(NDArrayIndex.interval(0, w.length())).sumNumber().doubleValue(),
                w.sumNumber().doubleValue(), 1e-6 * (1 + Math.abs(w.sumNumber().doubleValue())));

        // by hand: the global group (views 0, 1) and the local group (view 2), each forward + backward on its own
        g.feedForward(new INDArray[]{Nd4j.concat(0, v.get(0), v.get(1))}, true, false);
        g.backpropGradient(Nd4j.concat(0, lg.gradient(0), lg.gradient(1)));
        INDArray global = g.getFlattenedGradients().dup();
        g.feedForward(new INDArray[]{local}, true, false);
        g.backpropGradient(lg.gradient(2));
        INDArray sum = g.getFlattenedGradients().add(global);
        assertTrue(global.norm2Number().doubleValue() > 0 && g.getFlattenedGradients().norm2Number().doubleValue() > 0);
        assertEquals(0, total.sub(sum).norm2Number().doubleValue(), 1e-5 * sum.norm2Number().doubleValue());
    }

    /**
     * The two-output backward (backpropGradient(epsA, epsB)) against central finite differences of the loss on a tiny
     * DOUBLE network, for VICRegL (global + local outputs) and SuperInfo (mean + log-variance outputs).
     */
    @Tag("slow")
    @ParameterizedTest
    @ValueSource(strings = {"vicregl", "superinfo"})
    void twoOutputBackwardMatchesFiniteDifferences(String name) {
        ResNetConfig rc = ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, 16, 16)
                .optWidthMultiplier(0.125).optSeed(3).optDataType(DataType.DOUBLE).build();
        ComposedMethod m = (ComposedMethod) Methods.create(MethodConfig.of(name, rc, 100, 5).withHeadScale(1.0 / 32));
        ComputationGraph g = m.createOnlineGraph();
        m.attach(g);
        List<INDArray> v = views(DataType.DOUBLE, 6, 16, 7);
        double loss = m.lossAndBackprop(g, v, 3, 6).loss();
        INDArray grad = g.getFlattenedGradients().dup().reshape(-1);
        INDArray params = g.params().reshape(-1);
        // probe the largest gradients and random others, in the backbone and in both heads
        List<Integer> probe = new ArrayList<>();
        INDArray absSorted = Nd4j.sortWithIndices(Transforms.abs(grad.dup()), 0, false)[0];
        for (int i = 0; i < 3; i++) {
            probe.add(absSorted.getInt(i));
        }
        SplittableRandom rnd = new SplittableRandom(11);
        for (String layer : List.of("stem_conv", name.equals("vicregl") ? "local" : "logvar",
                name.equals("vicregl") ? "projector" : "mu")) {
            long[] range = paramRange(g, layer);
            for (int i = 0; i < 2; i++) {
                probe.add((int) (range[0] + rnd.nextLong(range[1] - range[0])));
            }
        }
        double h = 1e-6;
        int checked = 0;
        for (int idx : probe) {
            double p0 = params.getDouble(idx);
            params.putScalar(idx, p0 + h);
            double up = m.lossAndBackprop(g, v, 3, 6).loss();
            params.putScalar(idx, p0 - h);
            double down = m.lossAndBackprop(g, v, 3, 6).loss();
            params.putScalar(idx, p0);
            double fd = (up - down) / (2 * h);
            double an = grad.getDouble(idx);
            assertEquals(fd, an, 1e-6 + 1e-4 * Math.abs(fd), name + " param " + idx + " (loss " + loss + ")");
            checked++;
        }
        assertEquals(9, checked);
        assertTrue(Math.abs(grad.getDouble(probe.get(0))) > 1e-6, "largest gradient is not trivially zero");
    }

    /** [start, end) of a layer's parameters in the flattened vector. */
    private static long[] paramRange(ComputationGraph g, String layer) {
        long offset = 0;
        for (org.deeplearning4j.nn.api.Layer l : g.getLayers()) {
            long np = l.numParams();
            if (l.conf().getLayer().getLayerName().equals(layer)) {
                return new long[]{offset, offset + np};
            }
            offset += np;
        }
        throw new IllegalArgumentException("no layer " + layer);
    }
}
