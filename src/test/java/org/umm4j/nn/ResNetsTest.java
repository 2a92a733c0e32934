package org.umm4j.nn;

import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class ResNetsTest {

    private static long[] shape(INDArray a) {
        return a.shape();
    }

    @Test
    void cifarStemTapShapes() {
        Backbone b = Backbone.create(NnTestSupport.tiny(18, Stem.CIFAR, 0.125, 16, DataType.FLOAT));
        Map<String, INDArray> f = b.features(NnTestSupport.random(1, DataType.FLOAT, 2, 3, 16, 16), Taps.ALL.toArray(String[]::new));
        assertArrayEquals(new long[]{2, 8, 16, 16}, shape(f.get(Taps.STEM)));
        assertArrayEquals(new long[]{2, 8, 16, 16}, shape(f.get(Taps.STAGE1)));
        assertArrayEquals(new long[]{2, 16, 8, 8}, shape(f.get(Taps.STAGE2)));
        assertArrayEquals(new long[]{2, 32, 4, 4}, shape(f.get(Taps.STAGE3)));
        assertArrayEquals(new long[]{2, 64, 2, 2}, shape(f.get(Taps.STAGE4)));
        assertArrayEquals(new long[]{2, 64}, shape(f.get(Taps.POOL)));
        assertArrayEquals(new long[]{16, 8, 8}, b.tapShape(Taps.STAGE2));
        assertArrayEquals(new long[]{64}, b.tapShape(Taps.POOL));
    }

    @Test
    void imageNetStemTapShapesAtAnotherWidth() {
        Backbone b = Backbone.create(NnTestSupport.tiny(18, Stem.IMAGENET, 0.25, 32, DataType.FLOAT));
        Map<String, INDArray> f = b.features(NnTestSupport.random(2, DataType.FLOAT, 3, 3, 32, 32),
                Taps.STEM, Taps.STAGE2, Taps.STAGE4, Taps.POOL);
        assertArrayEquals(new long[]{3, 16, 8, 8}, shape(f.get(Taps.STEM)));   // 32 -conv/2-> 16 -pool/2-> 8
        assertArrayEquals(new long[]{3, 32, 4, 4}, shape(f.get(Taps.STAGE2)));
        assertArrayEquals(new long[]{3, 128, 1, 1}, shape(f.get(Taps.STAGE4)));
        assertArrayEquals(new long[]{3, 128}, shape(f.get(Taps.POOL)));
    }

    @Test
    void resnet50BottleneckShapesAndStrideOnTheThreeByThree() {
        Backbone b = Backbone.create(NnTestSupport.tiny(50, Stem.CIFAR, 0.125, 16, DataType.FLOAT));
        Map<String, INDArray> f = b.features(NnTestSupport.random(3, DataType.FLOAT, 2, 3, 16, 16),
                Taps.STAGE1, "s2b1_relu1", "s2b1_conv2", Taps.STAGE3, Taps.POOL);
        assertArrayEquals(new long[]{2, 32, 16, 16}, shape(f.get(Taps.STAGE1)));      // 8 * 4
        assertArrayEquals(new long[]{2, 16, 16, 16}, shape(f.get("s2b1_relu1")));     // 1x1 keeps the size
        assertArrayEquals(new long[]{2, 16, 8, 8}, shape(f.get("s2b1_conv2")));       // the 3x3 strides (v1.5)
        assertArrayEquals(new long[]{2, 128, 4, 4}, shape(f.get(Taps.STAGE3)));
        assertArrayEquals(new long[]{2, 256}, shape(f.get(Taps.POOL)));
        ComputationGraph g = b.graph();
        assertArrayEquals(new int[]{2, 2}, ((ConvolutionLayer) g.getLayer("s2b1_conv2").conf().getLayer()).getStride());
        assertArrayEquals(new int[]{1, 1}, ((ConvolutionLayer) g.getLayer("s2b1_conv1").conf().getLayer()).getStride());
    }

    @Test
    void layersRunOnTheOneDnnFastPath() {
        Backbone b = Backbone.create(NnTestSupport.tiny(18, Stem.IMAGENET, 0.125, 16, DataType.FLOAT));
        b.output(NnTestSupport.random(5, DataType.FLOAT, 2, 3, 16, 16)); // helpers are created on first use
        ComputationGraph g = b.graph();
        assertEquals("MKLDNNConvHelper", g.getLayer("s3b1_conv2").getHelper().getClass().getSimpleName());
        assertEquals("MKLDNNBatchNormHelper", g.getLayer("s3b1_bn2").getHelper().getClass().getSimpleName());
        assertEquals("MKLDNNSubsamplingHelper", g.getLayer(Taps.STEM).getHelper().getClass().getSimpleName());
    }

    @Test
    void convolutionsHaveNoBias() {
        ComputationGraph g = ResNets.build(NnTestSupport.tiny(18, Stem.IMAGENET, 0.125, 16, DataType.FLOAT));
        int convs = 0;
        for (org.deeplearning4j.nn.api.Layer l : g.getLayers()) {
            if (l.conf().getLayer() instanceof ConvolutionLayer) {
                convs++;
                assertNull(l.getParam("b"), l.conf().getLayer().getLayerName());
            }
        }
        assertEquals(1 + 16 + 3, convs); // stem, 8 blocks x 2, 3 projections
    }

    @Test
    void residualBlocksAddTheirShortcutAndPoolIsTheSpatialMean() {
        Backbone b = Backbone.create(NnTestSupport.tiny(18, Stem.CIFAR, 0.125, 8, DataType.DOUBLE));
        // train mode: in inference mode DL4J's ActivationLayer overwrites its input (see Backbone#features)
        Map<String, INDArray> f = b.features(true, NnTestSupport.random(4, DataType.DOUBLE, 2, 3, 8, 8),
                Taps.STEM, "s1b1_bn2", "s1b1_add", "s1b1_out", "s2b1_bn2", "s2b1_proj_bn", "s2b1_add",
                Taps.STAGE4, Taps.POOL);
        // identity shortcut in stage 1, projection in stage 2, ReLU after the sum
        assertEquals(f.get("s1b1_bn2").add(f.get(Taps.STEM)), f.get("s1b1_add"));
        assertEquals(Transforms.relu(f.get("s1b1_add"), true), f.get("s1b1_out"));
        assertEquals(f.get("s2b1_bn2").add(f.get("s2b1_proj_bn")), f.get("s2b1_add"));
        INDArray mean = f.get(Taps.STAGE4).mean(2, 3);
        assertTrue(mean.equalsWithEps(f.get(Taps.POOL), 1e-12));
        // ReLU outputs are non-negative and the stem is not all zero
        assertTrue(f.get(Taps.STEM).minNumber().doubleValue() >= 0);
        assertTrue(f.get(Taps.STEM).maxNumber().doubleValue() > 0);
        assertNotEquals(Nd4j.zeros(DataType.DOUBLE, 2, 8), f.get(Taps.POOL).getColumns(0, 1, 2, 3, 4, 5, 6, 7));
    }

    @Test
    void sameSeedSameWeightsOtherSeedOtherWeights() {
        ResNetConfig c = NnTestSupport.tiny(18, Stem.CIFAR, 0.125, 8, DataType.FLOAT);
        INDArray p1 = ResNets.build(c).params();
        INDArray p2 = ResNets.build(c).params();
        ResNetConfig other = ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, 8, 8)
                .optWidthMultiplier(0.125).optSeed(8).build();
        assertEquals(p1, p2);
        assertNotEquals(p1, ResNets.build(other).params());
    }

    @Test
    void heInitialisationWithFanOut() {
        // std of a truncated (2 sigma) normal with sigma = sqrt(2 / (k*k*c_out)) is 0.8796 sigma
        ComputationGraph g = ResNets.build(ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, 8, 8)
                .optWidthMultiplier(0.5).optSeed(3).build());
        INDArray w = g.getLayer("s4b2_conv2").getParam("W"); // 256 -> 256, 3x3
        double sigma = Math.sqrt(2.0 / (9 * 256));
        assertEquals(0.8796 * sigma, w.stdNumber().doubleValue(), 0.01 * sigma);
    }
}
