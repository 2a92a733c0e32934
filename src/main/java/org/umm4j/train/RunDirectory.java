package org.umm4j.train;

import org.umm4j.io.AtomicFiles;

import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.umm4j.backend.Umm4jBackend;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The output folder of one training run:
 * <pre>
 *   out/
 *     manifest.json     what produced the run (see below), written once at creation
 *     metrics.csv       one row per step ({@link MetricsLog})
 *     checkpoints/      epoch-NNNN/ folders and the {@code latest} pointer ({@link CheckpointStore})
 * </pre>
 * {@code manifest.json} holds: {@code config} (the run's configuration as a map), {@code seed},
 * {@code umm4jVersion} (the jar manifest's Implementation-Version, or {@code "dev"} when run from classes),
 * {@code dl4jVersion}, {@code nd4jVersion} (from the Maven {@code pom.properties} inside their jars),
 * {@code backend} ({@link Umm4jBackend#backendName()}), {@code oneDnn} ({@link Umm4jBackend#fastPathEnabled()}),
 * {@code dataset} and {@code datasetChecksum} (strings passed in), {@code startTime} (ISO-8601 UTC),
 * {@code hostCores} and {@code host}. Every replacing write is atomic ({@link AtomicFiles}).
 */
public final class RunDirectory {
    public static final String MANIFEST = "manifest.json";
    public static final String METRICS = "metrics.csv";
    public static final String CHECKPOINTS = "checkpoints";

    private static final Logger LOG = LoggerFactory.getLogger(RunDirectory.class);

    private final Path root;
    private final Map<String, Object> manifest;

    private RunDirectory(Path root, Map<String, Object> manifest) {
        this.root = root;
        this.manifest = Collections.unmodifiableMap(manifest);
    }

    /**
     * Creates a new run directory (the folder may exist but must not hold a manifest yet).
     *
     * @param config          the run's configuration, serialisable to JSON (plain values, lists, maps, records)
     * @param seed            the run's master seed
     * @param datasetName     e.g. {@code "cifar10"}
     * @param datasetChecksum e.g. a SHA-256 of the dataset files, or {@code "synthetic"}
     * @throws IllegalStateException if {@code dir} already holds a run
     */
    public static RunDirectory create(Path dir, Map<String, ?> config, long seed, String datasetName,
                                      String datasetChecksum) {
        Checks.notNull("dir", dir);
        Checks.notNull("config", config);
        Checks.notNull("datasetName", datasetName);
        Checks.notNull("datasetChecksum", datasetChecksum);
        Path manifestFile = dir.resolve(MANIFEST);
        if (Files.exists(manifestFile)) {
            throw new IllegalStateException(dir + " already holds a run (" + MANIFEST + " exists): open() it to resume "
                    + "or choose another directory");
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("config", new LinkedHashMap<>(config));
        m.put("seed", seed);
        m.put("umm4jVersion", umm4jVersion());
        m.put("dl4jVersion", mavenVersion("org.deeplearning4j", "deeplearning4j-nn"));
        m.put("nd4jVersion", mavenVersion("org.nd4j", "nd4j-api"));
        m.put("backend", Umm4jBackend.backendName());
        m.put("oneDnn", Umm4jBackend.fastPathEnabled());
        m.put("dataset", datasetName);
        m.put("datasetChecksum", datasetChecksum);
        m.put("startTime", Instant.now().toString());
        m.put("hostCores", Runtime.getRuntime().availableProcessors());
        m.put("host", hostName());
        try {
            Files.createDirectories(dir.resolve(CHECKPOINTS));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create run directory " + dir, e);
        }
        AtomicFiles.writeString(manifestFile, Json.write(m));
        LOG.info("created run directory {}", dir);
        return new RunDirectory(dir, Json.read(manifestFile));
    }

    /**
     * Opens an existing run directory (to resume or to evaluate it).
     *
     * @throws IllegalArgumentException if {@code dir} holds no manifest
     */
    public static RunDirectory open(Path dir) {
        Path manifestFile = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(manifestFile)) {
            throw new IllegalArgumentException("dir " + dir + " is not a run directory: no " + MANIFEST);
        }
        try {
            Files.createDirectories(dir.resolve(CHECKPOINTS));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir.resolve(CHECKPOINTS), e);
        }
        return new RunDirectory(dir, Json.read(manifestFile));
    }

    /** @return whether {@code dir} holds a run (a manifest) */
    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve(MANIFEST));
    }

    public Path root() {
        return root;
    }

    public Path manifestFile() {
        return root.resolve(MANIFEST);
    }

    public Path metricsFile() {
        return root.resolve(METRICS);
    }

    public Path checkpointsDir() {
        return root.resolve(CHECKPOINTS);
    }

    /** @return the manifest as read back from disk (unmodifiable) */
    public Map<String, Object> manifest() {
        return manifest;
    }

    /** @return the seed recorded in the manifest */
    public long seed() {
        return ((Number) manifest.get("seed")).longValue();
    }

    /** Opens {@code metrics.csv} for a fresh run (creating it with its header). */
    public MetricsLog openMetrics(List<String> extraColumns) {
        return MetricsLog.open(metricsFile(), extraColumns);
    }

    /** Opens {@code metrics.csv} to continue after global step {@code lastStep}, dropping later rows. */
    public MetricsLog resumeMetrics(List<String> extraColumns, long lastStep) {
        return MetricsLog.openForResume(metricsFile(), extraColumns, lastStep);
    }

    /** @return a checkpoint store over {@code checkpoints/} keeping the last {@code keepLast} checkpoints */
    public CheckpointStore checkpoints(int keepLast) {
        return new CheckpointStore(checkpointsDir(), keepLast);
    }

    /** @return umm4j's version from the jar manifest, or {@code "dev"} when running from classes */
    public static String umm4jVersion() {
        String v = RunDirectory.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    /** @return the version in a jar's Maven {@code pom.properties}, or {@code "unknown"} */
    static String mavenVersion(String groupId, String artifactId) {
        String res = "/META-INF/maven/" + groupId + "/" + artifactId + "/pom.properties";
        try (InputStream in = Nd4j.class.getResourceAsStream(res)) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
