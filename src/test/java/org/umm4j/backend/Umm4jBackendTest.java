package org.umm4j.backend;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.layers.LayerHelper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import static org.junit.jupiter.api.Assertions.*;

class Umm4jBackendTest {

    private static MultiLayerNetwork tinyConvNet() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1).list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.RELU).build())
                .layer(new BatchNormalization.Builder().build())
                .layer(new SubsamplingLayer.Builder(2, 2).stride(2, 2).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(2)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(8, 8, 3)).build());
        net.init();
        // helpers are created lazily on the first forward pass
        net.output(Nd4j.rand(2, 3, 8, 8));
        return net;
    }

    private static String helperName(LayerHelper h) {
        return h == null ? "none" : h.getClass().getSimpleName();
    }

    @Test
    void oneDnnNativesAreLoaded() {
        assertEquals("CPU", Umm4jBackend.backendName());
        assertTrue(Umm4jBackend.nativeOneDnnEnabled(), "the linux-x86_64-onednn natives should be on the classpath");
        assertTrue(org.nd4j.nativeblas.Nd4jCpu.Environment.getInstance().isUseMKLDNN());
    }

    @Test
    void fastPathIsDefaultAndLayersReportTheOneDnnHelper() {
        assertTrue(Umm4jBackend.init());
        MultiLayerNetwork net = tinyConvNet();
        assertEquals("MKLDNNConvHelper", helperName(net.getLayer(0).getHelper()));
        assertEquals("MKLDNNBatchNormHelper", helperName(net.getLayer(1).getHelper()));
        assertEquals("MKLDNNSubsamplingHelper", helperName(net.getLayer(2).getHelper()));
    }

    @Test
    void fastPathCanBeSwitchedOff() {
        try {
            Umm4jBackend.setFastPath(false);
            assertFalse(Umm4jBackend.fastPathEnabled());
            MultiLayerNetwork net = tinyConvNet();
            assertNull(net.getLayer(0).getHelper());
        } finally {
            Umm4jBackend.setFastPath(true);
        }
        assertTrue(Umm4jBackend.fastPathEnabled());
    }

    @Test
    void convolutionHelperFollowsItsPropertyAndRejectsUnknownValues() {
        assertTrue(Umm4jBackend.init());
        String key = Umm4jBackend.FAST_CONVOLUTION_PROPERTY;
        String old = System.getProperty(key);
        try {
            java.util.Map<String, String> expected = java.util.Map.of("dnnl", "DnnlConvHelper", "true",
                    "DnnlConvHelper", "deconv", "NarrowConvHelper", "false", "MKLDNNConvHelper");
            for (var e : expected.entrySet()) {
                System.setProperty(key, e.getKey());
                org.deeplearning4j.nn.graph.ComputationGraph g = tinyConvNet().toComputationGraph();
                g.output(Nd4j.rand(2, 3, 8, 8));
                String conv = g.getLayer(0).getConfig().getLayerName();
                int replaced = Umm4jBackend.useFastConvolution(g, java.util.Set.of());
                assertEquals(e.getValue(), helperName(g.getLayer(0).getHelper()), e.getKey());
                assertEquals(e.getKey().equals("false") ? 0 : 1, replaced, e.getKey());
                assertEquals(0, Umm4jBackend.useFastConvolution(g, java.util.Set.of(conv)), "idempotent");
            }
            System.setProperty(key, "fastest");
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                    () -> Umm4jBackend.useFastConvolution(tinyConvNet().toComputationGraph(), java.util.Set.of()));
            assertTrue(ex.getMessage().contains(key) && ex.getMessage().contains("fastest")
                    && ex.getMessage().contains("dnnl"), ex.getMessage());
        } finally {
            restore(key, old);
        }
    }

    @Test
    void winogradPropertyMapsToAChannelThresholdAndRejectsUnknownValues() {
        String key = Umm4jBackend.WINOGRAD_PROPERTY;
        String old = System.getProperty(key);
        try {
            System.clearProperty(key);
            assertEquals(32, Umm4jBackend.winogradMinChannels(), "default auto");
            java.util.Map<String, Integer> expected = java.util.Map.of("auto", 32, "true", 32, " ALL ", 1,
                    "false", Integer.MAX_VALUE);
            for (var e : expected.entrySet()) {
                System.setProperty(key, e.getKey());
                assertEquals(e.getValue(), Umm4jBackend.winogradMinChannels(), e.getKey());
            }
            System.setProperty(key, "fast");
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                    () -> Umm4jBackend.useFastConvolution(tinyConvNet().toComputationGraph(), java.util.Set.of()));
            assertTrue(ex.getMessage().contains(key) && ex.getMessage().contains("fast")
                    && ex.getMessage().contains("auto"), ex.getMessage());
        } finally {
            restore(key, old);
        }
    }

    private static void restore(String key, String old) {
        if (old == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, old);
        }
    }
}
