package org.umm4j.ssl;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Clear errors on bad input, and the registry. */
class ValidationTest {
    private static INDArray m(int r, int c) {
        return Nd4j.rand(DataType.DOUBLE, r, c);
    }

    @Test
    void mismatchedShapesNameBothShapes() {
        for (String name : List.of("simclr", "barlow", "vicreg", "wmse")) {
            Objective o = Objectives.create(name, name.equals("wmse") ? Map.of("subBatchSize", 6.0) : Map.of());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> o.compute(m(6, 5), m(6, 4)),
                    name);
            assertTrue(e.getMessage().contains("[6, 5]") && e.getMessage().contains("[6, 4]"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Byol().compute(ObjectiveInput.withTargets(m(6, 5), m(6, 5), m(6, 5), m(5, 5))));
        assertTrue(e.getMessage().contains("[6, 5]") && e.getMessage().contains("[5, 5]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new SimClr().compute(m(6, 5), Nd4j.rand(DataType.DOUBLE, 6, 5, 1)));
        assertTrue(e.getMessage().contains("z2") && e.getMessage().contains("[6, 5, 1]"), e.getMessage());
    }

    @Test
    void missingTargetsExtrasAndBadSizesAreExplained() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Byol().compute(m(4, 3), m(4, 3)))
                .getMessage().contains("targets"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SwAV().compute(m(4, 3), m(4, 3)))
                .getMessage().contains("prototypes"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new WMse(4, 0).compute(m(6, 3), m(6, 3)))
                .getMessage().contains("multiple of subBatchSize"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new WMse(4, 0).compute(m(8, 5), m(8, 5)))
                .getMessage().contains("exceed the embedding size"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SimClr(0)).getMessage().contains("temperature"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new VicRegL(1.5, 2, 1, 1, 1)).getMessage()
                .contains("alpha"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SimClr().compute(
                m(4, 3).castTo(DataType.FLOAT), m(4, 3))).getMessage().contains("FLOAT"));
        SslTestSupport.RefCase c = SslTestSupport.referenceCase("vicregl");
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> Objectives.create("vicregl", Map.of("gamma", 7.0)).compute(c.input(DataType.DOUBLE)))
                .getMessage().contains("gamma"));
    }

    @Test
    void registryBuildsEveryNameAndRejectsUnknownOnes() {
        assertEquals(10, Objectives.NAMES.size());
        for (String name : Objectives.NAMES) {
            Objective o = Objectives.create(name);
            assertEquals(name, o.name());
            Objective again = Objectives.create(name, o.hyperParameters());
            assertEquals(o.hyperParameters(), again.hyperParameters(), name);
        }
        assertInstanceOf(SimClr.class, Objectives.create("SimCLR"));
        assertEquals(0.2, ((SimClr) Objectives.create("simclr", Map.of("temperature", 0.2))).temperature());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Objectives.create("dino"));
        for (String name : Objectives.NAMES) {
            assertTrue(e.getMessage().contains(name), e.getMessage());
        }
        e = assertThrows(IllegalArgumentException.class, () -> Objectives.create("simclr", Map.of("temprature", 0.1)));
        assertTrue(e.getMessage().contains("temprature") && e.getMessage().contains("temperature"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Objectives.create("wmse", Map.of("subBatchSize", 4.5)));
        assertTrue(e.getMessage().contains("subBatchSize"), e.getMessage());
    }
}
