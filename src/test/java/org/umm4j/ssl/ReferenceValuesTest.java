package org.umm4j.ssl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Losses against the independent numpy values in src/test/resources/ssl/ssl-reference.json (generator
 * ssl_reference.py beside it): 1e-9 relative in DOUBLE; FLOAT inputs compute in FLOAT and stay close.
 */
class ReferenceValuesTest {

    static List<SslTestSupport.RefCase> cases() {
        return SslTestSupport.referenceCases();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void doubleLossMatchesNumpy(SslTestSupport.RefCase c) {
        double loss = c.create().compute(c.input(DataType.DOUBLE)).loss();
        assertEquals(c.loss(), loss, 1e-9 * Math.abs(c.loss()), c.name());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void floatInputComputesInFloat(SslTestSupport.RefCase c) {
        LossAndGradients r = c.create().compute(c.input(DataType.FLOAT));
        for (INDArray g : r.gradients()) {
            assertEquals(DataType.FLOAT, g.dataType(), c.name());
        }
        assertEquals(c.loss(), r.loss(), 1e-3 * Math.max(1, Math.abs(c.loss())), c.name());
    }

    @Test
    void everyObjectiveHasAReferenceCase() {
        for (String name : Objectives.NAMES) {
            assertTrue(cases().stream().anyMatch(c -> c.objective().equals(name)), name);
        }
    }

    @Test
    void vicreglAcceptsLocationMajorFeatureMaps() {
        SslTestSupport.RefCase c = SslTestSupport.referenceCase("vicregl");
        ObjectiveInput in = c.input(DataType.DOUBLE);
        // [N, C, H, W] -> [N, H W, C]
        INDArray y1 = in.view(2);
        INDArray y2 = in.view(3);
        INDArray l1 = y1.permute(0, 2, 3, 1).dup('c').reshape(y1.size(0), 6, y1.size(1));
        INDArray l2 = y2.permute(0, 2, 3, 1).dup('c').reshape(y2.size(0), 6, y2.size(1));
        ObjectiveInput loc = new ObjectiveInput(List.of(in.view(0), in.view(1), l1, l2), List.of(), in.extras());
        LossAndGradients a = c.create().compute(in);
        LossAndGradients b = c.create().compute(loc);
        assertEquals(c.loss(), b.loss(), 1e-9 * c.loss());
        INDArray ga = a.gradient(2).permute(0, 2, 3, 1).dup('c').reshape(l1.shape());
        assertTrue(ga.equalsWithEps(b.gradient(2), 1e-12));
    }
}
