package org.umm4j.cli;

import org.umm4j.backend.GpuGuard;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Applies {@link GpuGuard}'s decision before ND4J initialises.
 *
 * <p>ND4J reads its backend priorities from environment variables in a static initialiser, so when a
 * CUDA build runs on an unsupported GPU (e.g. Hopper) the CLI re-launches its own JVM once, with
 * {@code BACKEND_PRIORITY_GPU=0} and {@code BACKEND_PRIORITY_CPU=100}, after logging one line that says
 * why. In the default (CPU-only) build nothing happens.
 */
final class Launcher {
    static final String RELAUNCHED_ENV = "UMM4J_RELAUNCHED";
    private static final Logger LOG = LoggerFactory.getLogger(Launcher.class);

    private Launcher() {
    }

    /** Extracts {@code --device X} or {@code --device=X} from raw arguments; {@code auto} when absent. */
    static GpuGuard.DeviceRequest deviceRequest(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--device") && i + 1 < args.length) {
                return GpuGuard.DeviceRequest.parse(args[i + 1]);
            }
            if (args[i].startsWith("--device=")) {
                return GpuGuard.DeviceRequest.parse(args[i].substring("--device=".length()));
            }
        }
        return GpuGuard.DeviceRequest.AUTO;
    }

    /**
     * The class path of the classes that hold umm4j: the loading class loader's URLs when it has them (e.g. under
     * {@code mvn exec:java}, where {@code java.class.path} is Maven's own), else {@code java.class.path}.
     */
    static String classPath() {
        if (Umm4j.class.getClassLoader() instanceof URLClassLoader u && u.getURLs().length > 0) {
            List<String> parts = new ArrayList<>();
            for (URL url : u.getURLs()) {
                try {
                    parts.add(Path.of(url.toURI()).toString());
                } catch (URISyntaxException | IllegalArgumentException e) {
                    parts.add(url.getPath());
                }
            }
            return String.join(File.pathSeparator, parts);
        }
        return System.getProperty("java.class.path");
    }

    /**
     * @return the exit code of a re-launched child JVM, or empty when this JVM should go on itself
     */
    static Optional<Integer> relaunchIfNeeded(String[] args) throws IOException, InterruptedException {
        if (System.getenv(RELAUNCHED_ENV) != null || !GpuGuard.cudaBackendOnClasspath()) {
            return Optional.empty();
        }
        GpuGuard.Decision d = GpuGuard.decide(GpuGuard.detect(Duration.ofSeconds(10)), true, deviceRequest(args));
        if (d.backend() == GpuGuard.Backend.CUDA) {
            LOG.info("backend: {}", d.reason());
            return Optional.empty();
        }
        LOG.warn("backend: CPU, because {}", d.reason());
        if ("0".equals(System.getenv(GpuGuard.ENV_GPU_PRIORITY))) {
            return Optional.empty();
        }
        String command = ProcessHandle.current().info().command()
                .orElseThrow(() -> new IllegalStateException("cannot find the java executable to re-launch on the CPU backend; "
                        + "set " + GpuGuard.ENV_GPU_PRIORITY + "=0 and " + GpuGuard.ENV_CPU_PRIORITY + "=100 yourself"));
        List<String> cmd = new ArrayList<>();
        cmd.add(command);
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(classPath());
        cmd.add(Umm4j.class.getName());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
        Map<String, String> env = pb.environment();
        env.put(GpuGuard.ENV_GPU_PRIORITY, "0");
        env.put(GpuGuard.ENV_CPU_PRIORITY, "100");
        env.put(RELAUNCHED_ENV, "1");
        return Optional.of(pb.start().waitFor());
    }
}
