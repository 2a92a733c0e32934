package org.umm4j.spark;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.learning.config.Sgd;
import org.umm4j.nn.MlpHeadConfig;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.Stem;
import org.umm4j.ssl.SslLossFunction;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SslGraphsTest {

    @Test
    void theLossAndItsHyperParametersSurviveTheJsonThatWorkersRebuildFrom() {
        ResNetConfig b = ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, 8, 8)
                .optWidthMultiplier(0.0625).optSeed(1).build();
        MlpHeadConfig head = SslGraphs.projectorFor("simclr", b.featureSize(), 0.01);
        ComputationGraph g = SslGraphs.build(b, head, new SslLossFunction("simclr", Map.of("temperature", 0.2)),
                new Sgd(0.1));
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(g.getConfiguration().toJson());
        var layer = back.getVertices().get(SslGraphs.LOSS);
        SslLossFunction loss = (SslLossFunction) ((LossLayer) ((org.deeplearning4j.nn.conf.graph.LayerVertex) layer)
                .getLayerConf().getLayer()).getLossFn();
        assertEquals("simclr", loss.objective().name());
        assertEquals(0.2, loss.hyperParameters().get("temperature"), 0);
        assertEquals(g.getConfiguration(), back);
    }

    @Test
    void projectorsPerMethodAndErrors() {
        assertEquals(2 * SslGraphs.projectorFor("simclr", 32, 0.5).outputSize(),
                SslGraphs.projectorFor("superinfo", 32, 0.5).outputSize(), "superinfo emits [mu | logvar]");
        assertEquals(4096, SslGraphs.projectorFor("barlow", 32, 0.5).outputSize());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SslGraphs.projectorFor("byol", 32, 1));
        assertTrue(e.getMessage().contains("byol"));
        ResNetConfig b = ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, 8, 8)
                .optWidthMultiplier(0.0625).optSeed(1).build();
        e = assertThrows(IllegalArgumentException.class, () -> SslGraphs.build(b,
                SslGraphs.projectorFor("simclr", b.featureSize() + 1, 0.01), new SslLossFunction(), new Sgd(0.1)));
        assertTrue(e.getMessage().contains("feature size"), e.getMessage());
    }
}
