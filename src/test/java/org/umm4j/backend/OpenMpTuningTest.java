package org.umm4j.backend;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@link OpenMpTuning}: when GOMP_SPINCOUNT is set, and the native setenv it relies on. */
class OpenMpTuningTest {

    @Test
    void setsTheSpinCountOnlyWhenItCanStillTakeEffect() {
        assertNull(OpenMpTuning.decide("10000", true, null, false), "Linux, not set, libgomp not loaded: set it");
        assertNull(OpenMpTuning.decide("0", true, null, false));
        assertTrue(OpenMpTuning.decide("10000", true, "300000", false).contains("from the environment"));
        assertTrue(OpenMpTuning.decide("10000", true, null, true).contains("already loaded"));
        assertTrue(OpenMpTuning.decide("10000", false, null, false).contains("not Linux"));
        assertTrue(OpenMpTuning.decide("OFF", true, null, false).startsWith("off"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OpenMpTuning.decide("-5", true, null, false));
        assertTrue(e.getMessage().contains(OpenMpTuning.PROPERTY) && e.getMessage().contains("-5"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> OpenMpTuning.decide("fast", true, null, false));
    }

    @Test
    void nativeSetenvIsSeenByTheCLibrary() {
        assumeTrue(System.getProperty("os.name", "").toLowerCase().contains("linux"), "Linux only");
        String name = "UMM4J_OPENMP_TUNING_TEST";
        assertNull(OpenMpTuning.nativeGetenv(name));
        assertEquals(0, OpenMpTuning.nativeSetenv(name, "42"));
        assertEquals("42", OpenMpTuning.nativeGetenv(name));
        // in this JVM ND4J has usually loaded libgomp already: apply() then only reports why it does nothing
        String what = Umm4jBackend.tuneOpenMp();
        assertTrue(what.startsWith(OpenMpTuning.VARIABLE) || what.contains("already loaded")
                || what.contains("environment"), what);
    }
}
