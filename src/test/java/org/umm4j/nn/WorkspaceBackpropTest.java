package org.umm4j.nn;

import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkspaceBackpropTest {

    @Test
    void theForwardCacheChangesNoGradient() {
        ComputationGraph ga = NnTestSupport.tinyWithProjector(DataType.FLOAT).graph();
        ComputationGraph gb = ga.clone();
        WorkspaceBackprop cached = new WorkspaceBackprop(ga, true);
        WorkspaceBackprop plain = new WorkspaceBackprop(gb, false);
        assertTrue(cached.cachesForward());
        assertFalse(plain.cachesForward());
        for (int step = 0; step < 2; step++) {
            INDArray x = NnTestSupport.random(30 + step, DataType.FLOAT, 6, 3, 16, 16);
            // a fixed, non-trivial objective: dL/dz = z / 10 - 0.05
            Gradient g1 = cached.backprop(x, z -> z.div(10).subi(0.05));
            Gradient g2 = plain.backprop(x.dup(), z -> z.div(10).subi(0.05));
            assertEquals(g2.gradient(), g1.gradient(), "step " + step);
            assertTrue(g1.gradient().amaxNumber().doubleValue() > 0);
            // BatchNorm running statistics are updated identically by both forward passes
            assertEquals(gb.params(), ga.params(), "step " + step);
        }
    }
}
