package org.umm4j.ssl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** A few gradient-descent steps with the returned gradients lower every objective. */
class DescentTest {

    static List<SslTestSupport.RefCase> cases() {
        return SslTestSupport.referenceCases();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void stepsOnTheEmbeddingsLowerTheLoss(SslTestSupport.RefCase c) {
        Objective o = c.create();
        ObjectiveInput in = c.input(DataType.DOUBLE);
        double first = o.compute(in).loss();
        double last = first;
        for (int step = 0; step < 5; step++) {
            LossAndGradients r = o.compute(in);
            double norm = 0;
            for (INDArray g : r.gradients()) {
                norm += g.mul(g).sumNumber().doubleValue();
            }
            norm = Math.sqrt(norm);
            List<INDArray> next = new ArrayList<>();
            for (int v = 0; v < in.views().size(); v++) {
                // a fixed-length step along the negative gradient (normalised so every objective's scale works)
                next.add(in.view(v).sub(r.gradient(v).mul(0.02 / norm)));
            }
            in = new ObjectiveInput(next, in.targets(), in.extras());
            last = o.compute(in).loss();
        }
        assertTrue(last < first, c.name() + ": loss " + first + " -> " + last);
    }

    @Test
    void stepsOnALinearMapLowerSimClr() {
        // z_v = x_v W; dL/dW = sum_v x_v^T dL/dz_v
        var rnd = Nd4j.getRandomFactory().getNewRandomInstance(7);
        INDArray x1 = rnd.nextGaussian(new long[]{8, 6}).castTo(DataType.DOUBLE);
        INDArray x2 = x1.add(rnd.nextGaussian(new long[]{8, 6}).castTo(DataType.DOUBLE).muli(0.3));
        INDArray w = rnd.nextGaussian(new long[]{6, 4}).castTo(DataType.DOUBLE);
        Objective o = new SimClr(0.2);
        double first = o.compute(x1.mmul(w), x2.mmul(w)).loss();
        double loss = first;
        for (int step = 0; step < 20; step++) {
            LossAndGradients r = o.compute(x1.mmul(w), x2.mmul(w));
            INDArray dw = x1.transpose().mmul(r.gradient(0)).addi(x2.transpose().mmul(r.gradient(1)));
            w.subi(dw.muli(0.5));
            loss = o.compute(x1.mmul(w), x2.mmul(w)).loss();
        }
        assertTrue(loss < first - 0.1, "SimCLR " + first + " -> " + loss);
    }
}
