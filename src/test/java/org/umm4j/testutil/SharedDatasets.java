package org.umm4j.testutil;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the real datasets of {@code ../shared/datasets} for integration tests.
 *
 * <p>Looks at the system property {@code umm4j.shared.datasets}, the environment variable
 * {@code UMM4J_SHARED_DATASETS}, then {@code ../shared/datasets} and {@code ../../shared/datasets}
 * relative to the working directory. Tests that need the files call {@link #require(String)}, which
 * skips (with the reason) on a machine that has none, e.g. a clone outside the workspace.
 */
public final class SharedDatasets {
    private SharedDatasets() {
    }

    public static Path root() {
        String p = System.getProperty("umm4j.shared.datasets", System.getenv("UMM4J_SHARED_DATASETS"));
        if (p != null && !p.isBlank()) {
            return Path.of(p);
        }
        for (String c : new String[]{"../shared/datasets", "../../shared/datasets"}) {
            Path path = Path.of(c).toAbsolutePath().normalize();
            if (Files.isDirectory(path)) {
                return path;
            }
        }
        return Path.of("../shared/datasets").toAbsolutePath().normalize();
    }

    /** @return {@code root().resolve(relative)}, skipping the calling test when it does not exist */
    public static Path require(String relative) {
        Path p = root().resolve(relative);
        Assumptions.assumeTrue(Files.exists(p), "shared dataset not found: " + p);
        return p;
    }
}
