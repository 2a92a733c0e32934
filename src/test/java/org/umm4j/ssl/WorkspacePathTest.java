package org.umm4j.ssl;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The workspace training path ({@code org.umm4j.nn.WorkspaceBackprop}) against the external-gradient path it
 * replaces (every method, the two-output VICRegL and SuperInfo, SimSiam's read of its projector output and SwAV's
 * multi-crop size groups included): from the same state, the same steps give the same losses and the same
 * parameters (BatchNorm running statistics included) to float rounding. DL4J's convolution helper on both paths
 * ({@code umm4j.fastconv=false}): umm4j's narrow-layer convolution gradients round differently on the twin's
 * buffers (3e-7 of the largest gradient; tested on their own in {@code WorkspaceBackpropTest} and
 * {@code NarrowConvHelperTest}), and Adam turns that into full-size steps of near-zero components.
 */
class WorkspacePathTest {

    private static List<INDArray> views(long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray a = Nd4j.rand(DataType.FLOAT, 8, 3, 16, 16);
        INDArray b = a.add(Nd4j.randn(DataType.FLOAT, 8, 3, 16, 16).muli(0.1));
        return List.of(a, b);
    }

    /** SwAV: two global views and two 8x8 local crops (two size groups: the twin runs twice per step). */
    private static List<INDArray> multiCrop(long seed) {
        List<INDArray> v = views(seed);
        INDArray a = v.get(0);
        INDArray l1 = a.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, 8),
                NDArrayIndex.interval(0, 8)).dup();
        INDArray l2 = v.get(1).get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(8, 16),
                NDArrayIndex.interval(4, 12)).dup();
        return List.of(v.get(0), v.get(1), l1, l2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"simclr", "barlow", "byol", "mocov2", "simsiam", "vicregl", "superinfo", "swav"})
    void sameStepsAsTheExternalGradientPath(String name) {
        String old = System.getProperty(org.umm4j.backend.Umm4jBackend.FAST_CONVOLUTION_PROPERTY);
        System.setProperty(org.umm4j.backend.Umm4jBackend.FAST_CONVOLUTION_PROPERTY, "false");
        try {
            sameSteps(name);
        } finally {
            if (old == null) {
                System.clearProperty(org.umm4j.backend.Umm4jBackend.FAST_CONVOLUTION_PROPERTY);
            } else {
                System.setProperty(org.umm4j.backend.Umm4jBackend.FAST_CONVOLUTION_PROPERTY, old);
            }
        }
    }

    private static void sameSteps(String name) {
        SslMethod fast = MethodsTest.tiny(name);
        SslMethod slow = MethodsTest.tiny(name);
        ((ComposedMethod) fast).workspacePathForTest(true);
        ((ComposedMethod) slow).workspacePathForTest(false);
        ComputationGraph gf = MethodsTest.withAdam(fast, 3e-3);
        ComputationGraph gs = MethodsTest.withAdam(slow, 3e-3);
        assertEquals(0.0, gf.params().sub(gs.params()).amaxNumber().doubleValue(), "same initial parameters");
        fast.attach(gf);
        slow.attach(gs);
        Object twin = null;
        for (int i = 0; i < 3; i++) {
            List<INDArray> v = name.equals("swav") ? multiCrop(10 + i) : views(10 + i);
            double lf = fast.step(gf, v, i, 1).loss();
            double ls = slow.step(gs, v, i, 1).loss();
            assertEquals(ls, lf, 1e-5 * Math.max(1, Math.abs(ls)), name + " loss at step " + i);
            // built once, reused by every later step of the same graph
            Object t = ((ComposedMethod) fast).workspaceTwinForTest();
            assertTrue(t != null && (twin == null || t == twin), name + ": twin rebuilt at step " + i);
            twin = t;
        }
        assertTrue(((ComposedMethod) fast).workspaceTwinForTest().isFor(gf));
        assertTrue(!((ComposedMethod) fast).workspaceTwinForTest().isFor(gs), "another graph's arrays");
        double diff = gf.params().sub(gs.params()).amaxNumber().doubleValue();
        double scale = gs.params().amaxNumber().doubleValue();
        assertTrue(diff <= 1e-4 * scale, name + ": parameters differ by " + diff + " (max |param| " + scale + ")");
        // the step moved the parameters at all (the comparison is not vacuous)
        SslMethod fresh = MethodsTest.tiny(name);
        ComputationGraph g0 = MethodsTest.withAdam(fresh, 3e-3);
        assertTrue(g0.params().sub(gf.params()).amaxNumber().doubleValue() > 100 * diff, name + ": parameters moved");
    }
}
