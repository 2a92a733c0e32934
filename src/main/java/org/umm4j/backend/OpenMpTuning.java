package org.umm4j.backend;

import com.sun.jna.Library;
import com.sun.jna.Native;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Sets libgomp's spin-wait count for ND4J's OpenMP threads before ND4J loads its native library:
 * {@code GOMP_SPINCOUNT=10000} unless the environment already sets it or
 * {@code -D}{@value #PROPERTY}{@code =off|N} says otherwise.
 *
 * <p>Why: an idle OpenMP worker of libgomp spins for a long time (by default up to ~300,000 iterations) before it
 * sleeps. DL4J runs much of a training step between native ops (its graph bookkeeping, umm4j's BatchNorm passes on
 * the Java fork-join pool), and on a machine with as many cores as OpenMP threads the spinning worker takes the core
 * the Java worker needs. Measured on 2 cores, OMP_NUM_THREADS=2 (benchmarks/README.md): SimCLR width-16 step
 * +2-11 % images/s, BYOL width 16 +11-15 %, SimCLR width 64 +11 %, CPU time per step -7 to -17 %. (PyTorch, whose
 * intra-op work is all native, does not gain: 212 and 186 vs 154 and 176 img/s.)
 *
 * <p>libgomp reads the variable once, when it loads; the JVM cannot change its own environment, so this calls the C
 * library's {@code setenv} through JNA (Linux only). When libgomp is already loaded (an ND4J array was created before
 * {@link Umm4jBackend#init()}), nothing changes and the reason is returned; set {@code GOMP_SPINCOUNT} in the
 * environment then.
 */
final class OpenMpTuning {
    /** System property: a spin count (non-negative integer) or {@code off}; default {@value #DEFAULT}. */
    static final String PROPERTY = "umm4j.gomp.spincount";
    static final String DEFAULT = "10000";
    static final String VARIABLE = "GOMP_SPINCOUNT";

    private OpenMpTuning() {
    }

    private interface CLibrary extends Library {
        int setenv(String name, String value, int overwrite);

        String getenv(String name);
    }

    /**
     * Applies the setting if it can still take effect.
     *
     * @return what was done, for a log line
     * @throws IllegalArgumentException if the property is neither {@code off} nor a non-negative integer
     */
    static String apply() {
        String value = System.getProperty(PROPERTY, DEFAULT).trim();
        boolean linux = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux");
        String decision = decide(value, linux, linux ? System.getenv(VARIABLE) : null, linux && libgompLoaded());
        if (decision == null) {
            int rc = libc().setenv(VARIABLE, value, 0);
            return rc == 0 ? VARIABLE + "=" + value : "setenv failed (" + rc + ")";
        }
        return decision;
    }

    /**
     * The decision, separated from its side effects for tests.
     *
     * @return null when {@code GOMP_SPINCOUNT=value} should be set, else why not
     */
    static String decide(String value, boolean linux, String environment, boolean loaded) {
        if ("off".equalsIgnoreCase(value)) {
            return "off (-D" + PROPERTY + "=off)";
        }
        if (!value.matches("\\d{1,10}")) {
            throw new IllegalArgumentException("-D" + PROPERTY + " must be a non-negative integer or 'off', got '"
                    + value + "'");
        }
        if (!linux) {
            return "not Linux: libgomp settings not applied";
        }
        if (environment != null) {
            return VARIABLE + "=" + environment + " from the environment";
        }
        if (loaded) {
            return "libgomp already loaded: set " + VARIABLE + " in the environment to change it";
        }
        return null;
    }

    /** @return the value of an environment variable as the C library sees it now (setenv included) */
    static String nativeGetenv(String name) {
        return libc().getenv(name);
    }

    /** Sets an environment variable in the C library (for tests of the mechanism). */
    static int nativeSetenv(String name, String value) {
        return libc().setenv(name, value, 1);
    }

    private static CLibrary libc() {
        return Native.loadLibrary("c", CLibrary.class);
    }

    private static boolean libgompLoaded() {
        try {
            return Files.readString(Path.of("/proc/self/maps"), StandardCharsets.US_ASCII).contains("libgomp");
        } catch (IOException | RuntimeException e) {
            return true; // cannot tell: do not touch the environment
        }
    }
}
