package org.umm4j.backend;

import org.junit.jupiter.api.Test;
import org.umm4j.backend.GpuGuard.Backend;
import org.umm4j.backend.GpuGuard.DeviceRequest;
import org.umm4j.backend.GpuGuard.GpuInfo;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class GpuGuardTest {
    private static final GpuInfo H100 = new GpuInfo("NVIDIA H100 80GB HBM3", 9, 0);
    private static final GpuInfo A100 = new GpuInfo("NVIDIA A100-SXM4-40GB", 8, 0);
    private static final GpuInfo L4 = new GpuInfo("NVIDIA L4", 8, 9);
    private static final GpuInfo K80 = new GpuInfo("Tesla K80", 3, 7);
    private static final GpuInfo K20 = new GpuInfo("Tesla K20", 3, 5);
    private static final GpuInfo B200 = new GpuInfo("NVIDIA B200", 10, 0);

    @Test
    void supportedRangeIsKeplerSm37ToAda() {
        assertTrue(A100.supportedByNd4jCuda());
        assertTrue(L4.supportedByNd4jCuda(), "sm_86 cubins run on sm_89");
        assertTrue(K80.supportedByNd4jCuda());
        assertFalse(K20.supportedByNd4jCuda());
        assertFalse(H100.supportedByNd4jCuda(), "no PTX, so no Hopper");
        assertFalse(B200.supportedByNd4jCuda());
    }

    @Test
    void hopperFallsBackToCpuWithAReason() {
        GpuGuard.Decision d = GpuGuard.decide(List.of(H100), true, DeviceRequest.AUTO);
        assertEquals(Backend.CPU, d.backend());
        assertTrue(d.reason().contains("H100") && d.reason().contains("9.0"), d.reason());
    }

    @Test
    void supportedGpuUsesCudaOnlyWhenTheBackendIsPresent() {
        assertEquals(Backend.CUDA, GpuGuard.decide(List.of(A100), true, DeviceRequest.AUTO).backend());
        assertEquals(Backend.CUDA, GpuGuard.decide(List.of(H100, A100), true, DeviceRequest.GPU).backend());
        assertEquals(Backend.CPU, GpuGuard.decide(List.of(A100), false, DeviceRequest.AUTO).backend());
        assertEquals(Backend.CPU, GpuGuard.decide(List.of(A100), true, DeviceRequest.CPU).backend());
        assertEquals(Backend.CPU, GpuGuard.decide(List.of(), true, DeviceRequest.AUTO).backend());
    }

    @Test
    void explicitGpuRequestWithoutUsableGpuIsAnError() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> GpuGuard.decide(List.of(H100), true, DeviceRequest.GPU));
        assertTrue(e.getMessage().contains("--device gpu"));
        assertThrows(IllegalStateException.class, () -> GpuGuard.decide(List.of(), true, DeviceRequest.GPU));
    }

    @Test
    void parsesNvidiaSmiOutput() {
        List<GpuInfo> g = GpuGuard.parseNvidiaSmi(List.of("NVIDIA H100 80GB HBM3, 9.0", "Tesla T4, 7.5",
                "garbage", "Old GPU, [N/A]"));
        assertEquals(List.of(H100, new GpuInfo("Tesla T4", 7, 5)), g);
    }

    @Test
    void deviceRequestErrorListsValidValues() {
        assertEquals(DeviceRequest.GPU, DeviceRequest.parse("GPU"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DeviceRequest.parse("tpu"));
        assertTrue(e.getMessage().contains("auto, cpu, gpu"));
    }

    @Test
    void cpuBuildHasNoCudaBackend() {
        assertFalse(GpuGuard.cudaBackendOnClasspath());
    }
}
