package org.umm4j.train;

import org.umm4j.io.AtomicFiles;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A saved checkpoint: one directory {@code checkpoints/epoch-NNNN/} holding
 * <pre>
 *   state.json          {epoch, step, seed, savedAt, graphs: [names], arrays: [names], state: {...}}
 *   model.zip           the trained ComputationGraph with updater state (DL4J ModelSerializer)
 *   graph-NAME.zip      extra graphs (updater state included when they have one)
 *   array-NAME.bin      extra arrays (Nd4j.saveBinary)
 * </pre>
 * A checkpoint directory is complete by construction: {@link CheckpointStore#save} writes it under a temporary name
 * and renames it atomically. This class is a read handle; loading is lazy.
 */
public final class Checkpoint {
    static final String STATE = "state.json";
    static final String MODEL = "model.zip";

    private final Path dir;
    private final Map<String, Object> meta;

    private Checkpoint(Path dir, Map<String, Object> meta) {
        this.dir = dir;
        this.meta = meta;
    }

    /**
     * Opens a checkpoint directory.
     *
     * @throws IllegalArgumentException if it holds no {@code state.json}
     */
    public static Checkpoint open(Path dir) {
        Path state = dir.resolve(STATE);
        if (!Files.isRegularFile(state)) {
            throw new IllegalArgumentException("dir " + dir + " is not a checkpoint: no " + STATE);
        }
        return new Checkpoint(dir, Json.read(state));
    }

    /** @return the latest checkpoint of a run directory (the one its {@code checkpoints/latest} names), if any */
    public static Optional<Checkpoint> latest(Path runDir) {
        return new CheckpointStore(runDir.resolve(RunDirectory.CHECKPOINTS), Integer.MAX_VALUE).latest();
    }

    /** @return the checkpoint a run's {@code checkpoints/best} names (set by early stopping), if any */
    public static Optional<Checkpoint> best(Path runDir) {
        return new CheckpointStore(runDir.resolve(RunDirectory.CHECKPOINTS), Integer.MAX_VALUE).best();
    }

    /** @return every complete checkpoint of a run directory, by increasing epoch (empty if none) */
    public static List<Checkpoint> all(Path runDir) {
        return new CheckpointStore(runDir.resolve(RunDirectory.CHECKPOINTS), Integer.MAX_VALUE).list();
    }

    /** Saves into a run directory's {@code checkpoints/}, keeping the last {@code keepLast}. */
    public static Checkpoint save(RunDirectory run, CheckpointData data, int keepLast) {
        return run.checkpoints(keepLast).save(data);
    }

    public Path path() {
        return dir;
    }

    /** @return the last completed epoch (0-based) */
    public int epoch() {
        return ((Number) meta.get("epoch")).intValue();
    }

    /** @return global steps completed */
    public long step() {
        return ((Number) meta.get("step")).longValue();
    }

    public long seed() {
        return ((Number) meta.get("seed")).longValue();
    }

    /** @return the extra JSON state (unmodifiable) */
    @SuppressWarnings("unchecked")
    public Map<String, Object> state() {
        Object s = meta.get("state");
        return s == null ? Map.of() : Collections.unmodifiableMap((Map<String, Object>) s);
    }

    @SuppressWarnings("unchecked")
    public List<String> graphNames() {
        return List.copyOf((List<String>) meta.getOrDefault("graphs", List.of()));
    }

    @SuppressWarnings("unchecked")
    public List<String> arrayNames() {
        return List.copyOf((List<String>) meta.getOrDefault("arrays", List.of()));
    }

    /** Restores the trained graph, with its updater state when {@code loadUpdater}. */
    public ComputationGraph restoreGraph(boolean loadUpdater) {
        return restore(dir.resolve(MODEL), loadUpdater);
    }

    /** Restores a named extra graph. */
    public ComputationGraph restoreGraph(String name, boolean loadUpdater) {
        if (!graphNames().contains(name)) {
            throw new IllegalArgumentException("checkpoint " + dir + " has no graph '" + name + "'; it has "
                    + graphNames());
        }
        return restore(dir.resolve("graph-" + name + ".zip"), loadUpdater);
    }

    /** Reads a named extra array. */
    public INDArray readArray(String name) {
        if (!arrayNames().contains(name)) {
            throw new IllegalArgumentException("checkpoint " + dir + " has no array '" + name + "'; it has "
                    + arrayNames());
        }
        try {
            return Nd4j.readBinary(dir.resolve("array-" + name + ".bin").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read array " + name + " of " + dir, e);
        }
    }

    @Override
    public String toString() {
        return "Checkpoint(" + dir.getFileName() + ", epoch=" + epoch() + ", step=" + step() + ")";
    }

    /** Writes {@code data} into {@code dir} (which must exist and be empty); state.json is written last. */
    static void writeInto(Path dir, CheckpointData data) throws IOException {
        ModelSerializer.writeModel(data.graph(), dir.resolve(MODEL).toFile(), true);
        for (Map.Entry<String, ComputationGraph> e : data.graphs().entrySet()) {
            boolean hasUpdater = e.getValue().getUpdater(false) != null
                    && e.getValue().getUpdater(false).getStateViewArray() != null;
            ModelSerializer.writeModel(e.getValue(), dir.resolve("graph-" + e.getKey() + ".zip").toFile(), hasUpdater);
        }
        for (Map.Entry<String, INDArray> e : data.arrays().entrySet()) {
            Nd4j.saveBinary(e.getValue(), dir.resolve("array-" + e.getKey() + ".bin").toFile());
        }
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("epoch", data.epoch());
        meta.put("step", data.step());
        meta.put("seed", data.seed());
        meta.put("savedAt", java.time.Instant.now().toString());
        meta.put("graphs", new ArrayList<>(data.graphs().keySet()));
        meta.put("arrays", new ArrayList<>(data.arrays().keySet()));
        meta.put("state", data.state());
        AtomicFiles.writeString(dir.resolve(STATE), Json.write(meta));
    }

    private static ComputationGraph restore(Path file, boolean loadUpdater) {
        try {
            return ModelSerializer.restoreComputationGraph(file.toFile(), loadUpdater);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restore " + file, e);
        }
    }
}
