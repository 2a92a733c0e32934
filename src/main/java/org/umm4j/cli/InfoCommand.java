package org.umm4j.cli;

import org.umm4j.backend.GpuGuard;
import org.umm4j.backend.Umm4jBackend;
import picocli.CommandLine.Command;

import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code umm4j info}: the version, the ND4J backend, the fast path and the GPUs found. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Print the umm4j version, ND4J backend, oneDNN fast path and GPU decision.")
final class InfoCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        boolean fast = Umm4jBackend.init();
        var gpus = GpuGuard.detect(Duration.ofSeconds(10));
        System.out.println("umm4j        " + VersionProvider.version());
        System.out.println("backend      " + Umm4jBackend.backendName());
        System.out.println("oneDNN path  " + (fast ? "on" : "off"));
        System.out.println("cores        " + Runtime.getRuntime().availableProcessors());
        System.out.println("gpus         " + (gpus.isEmpty() ? "none" : gpus));
        System.out.println("gpu decision " + GpuGuard.decide(gpus, GpuGuard.cudaBackendOnClasspath(),
                GpuGuard.DeviceRequest.AUTO).reason());
        return 0;
    }
}
