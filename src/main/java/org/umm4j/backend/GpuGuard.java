package org.umm4j.backend;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Decides between ND4J's CUDA and CPU backends <em>before</em> ND4J picks one itself.
 *
 * <p>ND4J 1.0.0-M2.1's CUDA build ({@code nd4j-cuda-11.6}) carries machine code for sm_37 to sm_86 and
 * no PTX. A cubin runs on GPUs of the same major compute capability and an equal or higher minor one, so
 * the backend runs on compute capability 3.7 to 8.9 (Kepler to Ada) and not on Hopper (9.0) or newer.
 * ND4J still selects the CUDA backend on such a GPU (it has the highest priority) and then fails in its
 * first kernel, so the choice must be made before {@code Nd4j} initialises: ND4J reads the backend
 * priorities only from the environment variables {@value #ENV_GPU_PRIORITY} and {@value #ENV_CPU_PRIORITY}
 * in a static initialiser, which is why the CLI re-launches its JVM with them set (see
 * {@code org.umm4j.cli.Launcher}); library users set them themselves or call {@link #decide} to learn
 * what to do.
 *
 * <p>The decision logic ({@link #decide}) is a pure function, tested without a GPU; detection
 * ({@link #detect}) asks {@code nvidia-smi} for each GPU's name and compute capability.
 */
public final class GpuGuard {
    /** ND4J's environment variable for the CUDA backend's priority (default 100). */
    public static final String ENV_GPU_PRIORITY = "BACKEND_PRIORITY_GPU";
    /** ND4J's environment variable for the CPU backend's priority (default 0). */
    public static final String ENV_CPU_PRIORITY = "BACKEND_PRIORITY_CPU";
    /** The class of ND4J's CUDA backend, present on the classpath only in the {@code cuda} build. */
    public static final String CUDA_BACKEND_CLASS = "org.nd4j.linalg.jcublas.JCublasBackend";

    private GpuGuard() {
    }

    /** What the user asked for with {@code --device}. */
    public enum DeviceRequest {
        /** use a supported GPU when there is one, else the CPU */
        AUTO,
        /** always the CPU */
        CPU,
        /** a GPU; an error when none is usable */
        GPU;

        /** Parses {@code auto|cpu|gpu} (case-insensitive); the error lists the valid values. */
        public static DeviceRequest parse(String s) {
            try {
                return valueOf(Objects.requireNonNull(s, "device").trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown device '" + s + "': expected one of auto, cpu, gpu");
            }
        }
    }

    /** The backend to run on. */
    public enum Backend { CPU, CUDA }

    /**
     * One GPU as reported by the driver.
     *
     * @param name  marketing name, e.g. {@code NVIDIA H100 80GB HBM3}
     * @param major compute capability major version
     * @param minor compute capability minor version
     */
    public record GpuInfo(String name, int major, int minor) {
        /** Validates the capability. */
        public GpuInfo {
            Objects.requireNonNull(name, "name");
            if (major < 1 || minor < 0) {
                throw new IllegalArgumentException("compute capability must be positive, got " + major + "." + minor);
            }
        }

        /** @return whether ND4J M2.1's CUDA kernels (sm_37..sm_86 cubins, no PTX) can run on this GPU */
        public boolean supportedByNd4jCuda() {
            return major >= 3 && major <= 8 && !(major == 3 && minor < 7);
        }

        @Override
        public String toString() {
            return name + " (compute capability " + major + "." + minor + ")";
        }
    }

    /**
     * The decision and a one-line reason for the log.
     *
     * @param backend the backend to use
     * @param reason  why, in one line
     */
    public record Decision(Backend backend, String reason) {
    }

    /**
     * Picks the backend.
     *
     * @param gpus              GPUs found on the machine (empty when none or no driver)
     * @param cudaOnClasspath   whether the CUDA backend is on the classpath ({@code -Pcuda} build)
     * @param request           the user's {@code --device}
     * @return the decision; never CUDA unless the backend is present and at least one GPU is supported
     * @throws IllegalStateException when {@code request} is GPU and no usable GPU exists
     */
    public static Decision decide(List<GpuInfo> gpus, boolean cudaOnClasspath, DeviceRequest request) {
        Objects.requireNonNull(gpus, "gpus");
        Objects.requireNonNull(request, "request");
        if (request == DeviceRequest.CPU) {
            return new Decision(Backend.CPU, "CPU requested (--device cpu)");
        }
        String why;
        if (!cudaOnClasspath) {
            why = "this build has no CUDA backend (build with -Pcuda for GPUs)";
        } else if (gpus.isEmpty()) {
            why = "no NVIDIA GPU found";
        } else {
            List<GpuInfo> ok = gpus.stream().filter(GpuInfo::supportedByNd4jCuda).toList();
            if (!ok.isEmpty()) {
                return new Decision(Backend.CUDA, "using CUDA on " + ok.get(0));
            }
            why = "GPU " + gpus.get(0) + " is not supported by ND4J 1.0.0-M2.1's CUDA build "
                    + "(compiled for compute capability 3.7 to 8.6, no PTX), falling back to the CPU backend";
        }
        if (request == DeviceRequest.GPU) {
            throw new IllegalStateException("--device gpu: " + why);
        }
        return new Decision(Backend.CPU, why);
    }

    /** @return whether ND4J's CUDA backend class can be loaded (without initialising it) */
    public static boolean cudaBackendOnClasspath() {
        try {
            Class.forName(CUDA_BACKEND_CLASS, false, GpuGuard.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /**
     * Lists the machine's NVIDIA GPUs with {@code nvidia-smi}; empty when it is missing or fails.
     *
     * @param timeout how long to wait for {@code nvidia-smi}
     */
    public static List<GpuInfo> detect(Duration timeout) {
        try {
            Process p = new ProcessBuilder("nvidia-smi", "--query-gpu=name,compute_cap", "--format=csv,noheader")
                    .redirectErrorStream(true).start();
            List<String> lines = new ArrayList<>();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            }
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                return List.of();
            }
            return p.exitValue() == 0 ? parseNvidiaSmi(lines) : List.of();
        } catch (IOException e) {
            return List.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
    }

    /**
     * Parses {@code nvidia-smi --query-gpu=name,compute_cap --format=csv,noheader} output
     * (lines such as {@code NVIDIA H100 80GB HBM3, 9.0}); lines that do not parse are ignored.
     */
    public static List<GpuInfo> parseNvidiaSmi(List<String> lines) {
        List<GpuInfo> out = new ArrayList<>();
        for (String line : lines) {
            int comma = line.lastIndexOf(',');
            if (comma < 0) {
                continue;
            }
            String name = line.substring(0, comma).trim();
            String[] cc = line.substring(comma + 1).trim().split("\\.");
            try {
                out.add(new GpuInfo(name, Integer.parseInt(cc[0]), cc.length > 1 ? Integer.parseInt(cc[1]) : 0));
            } catch (IllegalArgumentException e) {
                // e.g. "[N/A]" on old drivers: not a usable answer
            }
        }
        return out;
    }
}
