package org.umm4j.ssl;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.List;

/** Every objective's hand-derived gradient against central finite differences in DOUBLE (relative error &lt; 1e-6). */
class ObjectiveGradientTest {

    static List<SslTestSupport.RefCase> cases() {
        return SslTestSupport.referenceCases();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void gradientMatchesFiniteDifferences(SslTestSupport.RefCase c) {
        Objective o = c.create();
        ObjectiveInput in = c.input(DataType.DOUBLE);
        if (o instanceof SwAV swav) {
            // codes are constants of the gradient: freeze them so that the finite differences see the same function
            in = SslTestSupport.fixSwavCodes(swav, in);
            SslTestSupport.checkGradients(o, in, 1e-5, 1e-6, SwAV.PROTOTYPES);
        } else {
            SslTestSupport.checkGradients(o, in, 1e-5, 1e-6);
        }
    }
}
