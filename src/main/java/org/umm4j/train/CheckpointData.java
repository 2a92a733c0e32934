package org.umm4j.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What one checkpoint holds: the trained graph (with its updater state), optional extra graphs by name (an EMA
 * target network, a projection head trained separately), extra arrays by name (a MoCo queue), a small map of
 * extra JSON state, the epoch and global step completed, and the run's seed.
 *
 * <p>No generator state is stored: umm4j derives every random stream from {@code (seed, epoch, step)}
 * ({@link StepRandom}), so {@code seed} plus the step counter is the complete RNG state of a run.
 * Built with {@link #builder()}: {@code setX} required, {@code optX} optional. Arrays are referenced, not copied:
 * save before mutating them further.
 */
public final class CheckpointData {
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.\\-]+");

    private final ComputationGraph graph;
    private final int epoch;
    private final long step;
    private final long seed;
    private final Map<String, ComputationGraph> graphs;
    private final Map<String, INDArray> arrays;
    private final Map<String, Object> state;

    private CheckpointData(Builder b) {
        this.graph = b.graph;
        this.epoch = b.epoch;
        this.step = b.step;
        this.seed = b.seed;
        this.graphs = Collections.unmodifiableMap(new LinkedHashMap<>(b.graphs));
        this.arrays = Collections.unmodifiableMap(new LinkedHashMap<>(b.arrays));
        this.state = Collections.unmodifiableMap(new LinkedHashMap<>(b.state));
    }

    public static Builder builder() {
        return new Builder();
    }

    public ComputationGraph graph() {
        return graph;
    }

    /** @return the last completed epoch (0-based) */
    public int epoch() {
        return epoch;
    }

    /** @return global steps completed */
    public long step() {
        return step;
    }

    public long seed() {
        return seed;
    }

    public Map<String, ComputationGraph> graphs() {
        return graphs;
    }

    public Map<String, INDArray> arrays() {
        return arrays;
    }

    public Map<String, Object> state() {
        return state;
    }

    /** Builder: {@link #setGraph}, {@link #setEpoch}, {@link #setStep}, {@link #setSeed} are required. */
    public static final class Builder {
        private ComputationGraph graph;
        private Integer epoch;
        private Long step;
        private Long seed;
        private final Map<String, ComputationGraph> graphs = new LinkedHashMap<>();
        private final Map<String, INDArray> arrays = new LinkedHashMap<>();
        private final Map<String, Object> state = new LinkedHashMap<>();

        private Builder() {
        }

        public Builder setGraph(ComputationGraph g) {
            this.graph = Checks.notNull("graph", g);
            return this;
        }

        public Builder setEpoch(int e) {
            if (e < 0) {
                throw new IllegalArgumentException("epoch must be >= 0, got " + e);
            }
            this.epoch = e;
            return this;
        }

        public Builder setStep(long s) {
            if (s < 0) {
                throw new IllegalArgumentException("step must be >= 0, got " + s);
            }
            this.step = s;
            return this;
        }

        public Builder setSeed(long s) {
            this.seed = s;
            return this;
        }

        /** Adds a named extra graph; its updater state is saved when it has one. */
        public Builder optGraph(String name, ComputationGraph g) {
            graphs.put(checkName("graph name", name), Checks.notNull("graph '" + name + "'", g));
            return this;
        }

        /** Adds a named array (any data type and shape). */
        public Builder optArray(String name, INDArray a) {
            arrays.put(checkName("array name", name), Checks.notNull("array '" + name + "'", a));
            return this;
        }

        /** Adds a JSON-serialisable value (number, string, boolean, list, map) to the extra state. */
        public Builder optState(String key, Object value) {
            state.put(checkName("state key", key), value);
            return this;
        }

        public CheckpointData build() {
            if (graph == null || epoch == null || step == null || seed == null) {
                throw new IllegalStateException("CheckpointData needs setGraph, setEpoch, setStep and setSeed; missing: "
                        + (graph == null ? "graph " : "") + (epoch == null ? "epoch " : "")
                        + (step == null ? "step " : "") + (seed == null ? "seed" : ""));
            }
            return new CheckpointData(this);
        }

        private static String checkName(String what, String name) {
            if (name == null || !NAME.matcher(name).matches()) {
                throw new IllegalArgumentException(what + " must match [A-Za-z0-9_.-]+, got " + name);
            }
            return name;
        }
    }
}
