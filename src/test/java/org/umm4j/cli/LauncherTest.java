package org.umm4j.cli;

import org.junit.jupiter.api.Test;
import org.umm4j.backend.GpuGuard;

import java.io.File;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

class LauncherTest {
    @Test
    void childClassPathHoldsTheUmm4jClasses() throws Exception {
        Path own = Path.of(Umm4j.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertTrue(Arrays.stream(Launcher.classPath().split(File.pathSeparator)).map(Path::of).anyMatch(own::equals),
                "a re-launched JVM must find org.umm4j.cli.Umm4j at " + own);
    }

    @Test
    void deviceFlagIsReadBeforePicocli() {
        assertEquals(GpuGuard.DeviceRequest.AUTO, Launcher.deviceRequest(new String[]{"info"}));
        assertEquals(GpuGuard.DeviceRequest.CPU, Launcher.deviceRequest(new String[]{"demo", "--device", "cpu"}));
        assertEquals(GpuGuard.DeviceRequest.GPU, Launcher.deviceRequest(new String[]{"--device=GPU", "demo"}));
        assertThrows(IllegalArgumentException.class, () -> Launcher.deviceRequest(new String[]{"--device", "tpu"}));
    }

    @Test
    void theCpuBuildNeverRelaunches() throws Exception {
        assertTrue(Launcher.relaunchIfNeeded(new String[]{"info"}).isEmpty());
    }

    @Test
    void everyCommandAcceptsTheDeviceFlag() {
        assertEquals(0, Umm4j.run("info", "--device", "cpu"));
        assertEquals(0, Umm4j.run("--device", "cpu", "info"));
    }
}
