package org.umm4j.ssl;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** MoCo's queue, the EMA schedule, and SwAV's Sinkhorn codes. */
class StateAndScheduleTest {

    @Test
    void queueIsFifoWithCapacityAndNormalisesKeys() {
        NegativeQueue q = new NegativeQueue(5, 2, DataType.DOUBLE);
        assertEquals(0, q.size());
        q.enqueue(Nd4j.createFromArray(new double[][]{{3, 4}, {0, 2}, {-1, 0}}));
        assertEquals(3, q.size());
        assertTrue(q.negatives().getRow(0).equalsWithEps(Nd4j.createFromArray(0.6, 0.8), 1e-12));
        q.enqueue(Nd4j.createFromArray(new double[][]{{5, 0}, {0, -7}, {1, 1}}));
        assertEquals(5, q.size());                           // the oldest key {3,4} was evicted
        INDArray neg = q.negatives();
        assertTrue(neg.getRow(0).equalsWithEps(Nd4j.createFromArray(0.0, 1.0), 1e-12));
        assertTrue(neg.getRow(4).equalsWithEps(Nd4j.createFromArray(Math.sqrt(0.5), Math.sqrt(0.5)), 1e-12));
        INDArray out = q.dequeue(2);
        assertEquals(3, q.size());
        assertTrue(out.getRow(1).equalsWithEps(Nd4j.createFromArray(-1.0, 0.0), 1e-12));
        assertThrows(IllegalArgumentException.class, () -> q.dequeue(4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> q.enqueue(Nd4j.rand(DataType.DOUBLE, 2, 3)));
        assertTrue(e.getMessage().contains("[2, 3]"), e.getMessage());
        NegativeQueue r = NegativeQueue.random(16, 4, DataType.FLOAT, 3);
        assertEquals(16, r.size());
        assertTrue(r.negatives().norm2(1).sub(1.0).amaxNumber().doubleValue() < 1e-6);
    }

    @Test
    void mocoUsesTheQueueAsNegatives() {
        SslTestSupport.RefCase c = SslTestSupport.referenceCase("mocov2");
        ObjectiveInput in = c.input(DataType.DOUBLE);
        NegativeQueue q = new NegativeQueue(7, 5, DataType.DOUBLE);
        q.enqueue(in.requireExtra(MocoV2.QUEUE));
        ObjectiveInput viaQueue = new ObjectiveInput(in.views(), in.targets(), Map.of(MocoV2.QUEUE, q.negatives()));
        assertEquals(c.loss(), new MocoV2().compute(viaQueue).loss(), 1e-9 * c.loss());
        // without negatives the InfoNCE of a single positive is exactly 0
        ObjectiveInput none = new ObjectiveInput(in.views(), in.targets(), Map.of());
        assertEquals(0.0, new MocoV2().compute(none).loss(), 1e-12);
        // with negatives the loss is positive
        assertTrue(new MocoV2().compute(viaQueue).loss() > 0.1);
    }

    @Test
    void cosineMomentumScheduleRunsFromBaseToOne() {
        MomentumSchedule s = MomentumSchedule.cosine(100);
        assertEquals(0.99, s.tau(0), 1e-15);
        assertEquals(0.995, s.tau(50), 1e-12);
        assertEquals(1.0, s.tau(100), 1e-15);
        assertEquals(1.0, s.tau(1000), 1e-15);
        assertEquals(1.0 - 0.01 * (Math.cos(Math.PI * 0.25) + 1) / 2, s.tau(25), 1e-15);
        for (int k = 1; k <= 100; k++) {
            assertTrue(s.tau(k) >= s.tau(k - 1));
        }
        INDArray target = Nd4j.createFromArray(1.0, 2.0);
        MomentumSchedule.update(target, Nd4j.createFromArray(3.0, 0.0), 0.75);
        assertTrue(target.equalsWithEps(Nd4j.createFromArray(1.5, 1.5), 1e-12));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new MomentumSchedule(0.9, 0.8, 10))
                .getMessage().contains("tauEnd"));
    }

    @Test
    void sinkhornCodesAreNearlyEquipartitioned() {
        INDArray scores = Nd4j.getRandomFactory().getNewRandomInstance(5).nextGaussian(new long[]{12, 4})
                .castTo(DataType.DOUBLE).muli(0.3);
        INDArray q = SwAV.sinkhorn(scores, 0.05, 3);
        // the last step normalises samples: each code sums to 1 exactly
        assertTrue(q.sum(1).sub(1.0).amaxNumber().doubleValue() < 1e-12);
        // prototypes are used roughly equally: each column sums to about N / K = 3
        assertTrue(q.sum(0).sub(3.0).amaxNumber().doubleValue() < 0.5, q.sum(0).toString());
        assertTrue(q.minNumber().doubleValue() >= 0);
    }
}
