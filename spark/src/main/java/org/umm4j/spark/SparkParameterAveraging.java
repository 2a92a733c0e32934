package org.umm4j.spark;

import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.umm4j.backend.Umm4jBackend;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;

/**
 * The project's own parameter averaging on Spark core, for training loops that are not a DL4J {@code fit()} (UMM's
 * bilevel steps, any hand-written update). One round:
 * <pre>
 *   broadcast theta_r                                   (configuration JSON once, parameters every round)
 *   on each non-empty partition p:  theta_p = theta_r; K times: theta_p = step(theta_p, next batch of p)
 *   treeAggregate:                  S = sum_p theta_p,  P = number of non-empty partitions,  sum of losses
 *   on the driver:                  theta_{r+1} = S / P
 * </pre>
 * A partition cycles through its own minibatches (in RDD order) across local steps and rounds, so with K = 1 and
 * one batch per partition every round, {@code theta_{r+1} = mean_p (theta_r - lr grad_p)} for plain SGD:
 * synchronous data-parallel SGD on the mean gradient. Each worker rebuilds its replica from the configuration JSON
 * (so custom layers and losses must round-trip through DL4J's JSON) and starts every round afresh: optimiser state
 * inside {@link LocalStep} lives for one round only. A whole-batch loss is then a per-worker batch loss (no
 * cross-worker negatives). Parameters travel as FLOAT or DOUBLE INDArrays in the graph's data type; the sum is
 * accumulated in that type.
 */
public final class SparkParameterAveraging {

    /**
     * One round's outcome: the averaged state, the mean loss over all local steps, the workers used, and the means
     * of the extra per-step metrics a {@link PartitionRun} reports (over all local steps).
     */
    public record Round(INDArray params, double meanLoss, int workers, double[] extraMeans) {
        /** A round without extra metrics. */
        public Round(INDArray params, double meanLoss, int workers) {
            this(params, meanLoss, workers, new double[0]);
        }
    }

    /**
     * What one partition returns from {@link PartitionRun#run}.
     *
     * @param state     the partition's state after its local steps (same length and type as the broadcast state)
     * @param lossSum   sum of its local steps' losses
     * @param extraSums sums of extra per-step metrics (same length on every partition; may be empty)
     * @param steps     local steps run, &gt;= 1
     */
    public record LocalResult(INDArray state, double lossSum, double[] extraSums, long steps) implements Serializable {
    }

    /**
     * The work of one partition in one round of {@link #average}, shipped to the workers by Java serialisation
     * (capture only serialisable, immutable settings and {@code Broadcast} handles).
     *
     * @param <T> the RDD's element type
     */
    @FunctionalInterface
    public interface PartitionRun<T> extends Serializable {
        /**
         * @param start     a private copy of the broadcast state (the partition may modify it)
         * @param batches   the partition's elements, in RDD order (never empty)
         * @param partition the Spark partition index
         * @return the partition's new state and metrics
         */
        LocalResult run(INDArray start, List<T> batches, int partition);
    }

    /** The running sum that {@code treeAggregate} combines. */
    static final class Partial implements Serializable {
        private static final long serialVersionUID = 2L;
        INDArray paramSum;
        int workers;
        double lossSum;
        double[] extraSums = new double[0];
        long steps;

        Partial add(Partial o) {
            if (o.paramSum != null) {
                paramSum = paramSum == null ? o.paramSum.dup() : paramSum.addi(o.paramSum);
            }
            workers += o.workers;
            lossSum += o.lossSum;
            steps += o.steps;
            if (extraSums.length < o.extraSums.length) {
                extraSums = java.util.Arrays.copyOf(extraSums, o.extraSums.length);
            }
            for (int i = 0; i < o.extraSums.length; i++) {
                extraSums[i] += o.extraSums[i];
            }
            return this;
        }
    }

    private final JavaSparkContext sc;
    private final Broadcast<String> confJson;
    private final int localSteps;
    private final LocalStep step;
    private final int depth;

    /**
     * @param sc         the Spark context
     * @param graph      the model; only its configuration is used here (parameters are passed per round)
     * @param localSteps K, local steps per partition per round, &gt;= 1
     * @param step       the local update
     * @param depth      {@code treeAggregate} depth, &gt;= 1 (2 is Spark's default)
     */
    public SparkParameterAveraging(JavaSparkContext sc, ComputationGraph graph, int localSteps, LocalStep step,
                                   int depth) {
        Objects.requireNonNull(sc, "sc");
        Objects.requireNonNull(graph, "graph");
        Objects.requireNonNull(step, "step");
        if (localSteps < 1) {
            throw new IllegalArgumentException("localSteps must be >= 1, got " + localSteps);
        }
        if (depth < 1) {
            throw new IllegalArgumentException("depth must be >= 1, got " + depth);
        }
        this.sc = sc;
        this.confJson = sc.broadcast(graph.getConfiguration().toJson());
        this.localSteps = localSteps;
        this.step = step;
        this.depth = depth;
    }

    /**
     * Runs one round from {@code params}.
     *
     * @param params flat parameters (not modified), in the layout of {@code graph.params()}
     * @param data   minibatches; each partition is one worker
     * @param round  round number, passed to the step and used to pick each partition's batches
     * @throws IllegalStateException if every partition is empty
     */
    public Round round(INDArray params, JavaRDD<DataSet> data, long round) {
        Objects.requireNonNull(params, "params");
        Objects.requireNonNull(data, "data");
        Broadcast<String> conf = confJson;
        int k = localSteps;
        LocalStep s = step;
        return average(sc, params, data, depth, "round " + round,
                (theta, batches, partition) -> localRun(conf.value(), theta, batches, k, s, round, partition));
    }

    /**
     * One generic averaging round: broadcast {@code state}, run {@code run} on every non-empty partition from a
     * private copy of it, {@code treeAggregate} the partitions' states (sum), their losses and extra metrics, and
     * return {@code sum / P} with P the non-empty partitions. Any state that is averaged coordinate-wise travels in
     * {@code state}: parameters, BatchNorm running statistics, optimiser moments (the UMM loop packs all of these
     * into one vector).
     *
     * @param state the state (not modified)
     * @param data  each partition is one worker
     * @param what  names the round in errors
     * @throws IllegalStateException if every partition is empty
     */
    public static <T> Round average(JavaSparkContext sc, INDArray state, JavaRDD<T> data, int depth, String what,
                                    PartitionRun<T> run) {
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(run, "run");
        if (depth < 1) {
            throw new IllegalArgumentException("depth must be >= 1, got " + depth);
        }
        Broadcast<INDArray> theta = sc.broadcast(state.dup());
        try {
            Partial total = data.mapPartitions((Iterator<T> it) -> {
                        List<T> batches = new ArrayList<>();
                        it.forEachRemaining(batches::add);
                        Partial p = new Partial();
                        if (!batches.isEmpty()) {
                            int partition = TaskContext.get() == null ? 0 : TaskContext.getPartitionId();
                            LocalResult r = run.run(theta.value().dup(), batches, partition);
                            p.paramSum = r.state().dup();
                            p.workers = 1;
                            p.lossSum = r.lossSum();
                            p.extraSums = r.extraSums().clone();
                            p.steps = r.steps();
                        }
                        return Collections.singletonList(p).iterator();
                    })
                    .treeAggregate(new Partial(), Partial::add, Partial::add, depth);
            if (total.workers == 0) {
                throw new IllegalStateException(what + ": every partition of the data is empty");
            }
            double[] extraMeans = total.extraSums.clone();
            for (int i = 0; i < extraMeans.length; i++) {
                extraMeans[i] /= total.steps;
            }
            return new Round(total.paramSum.divi(total.workers), total.lossSum / total.steps, total.workers, extraMeans);
        } finally {
            theta.destroy();
        }
    }

    /** The work of one partition: K local steps from theta. */
    static LocalResult localRun(String confJson, INDArray theta, List<DataSet> batches, int k, LocalStep step,
                                long round, int partition) {
        Umm4jBackend.init();
        ComputationGraph g = new ComputationGraph(ComputationGraphConfiguration.fromJson(confJson));
        g.init(theta, false);
        double lossSum = 0;
        for (int j = 0; j < k; j++) {
            // a partition walks through its batches across rounds: round r, step j uses batch (r K + j) mod size
            DataSet batch = batches.get((int) Math.floorMod(round * k + j, (long) batches.size()));
            lossSum += step.apply(g, batch, round, j, partition);
        }
        return new LocalResult(g.params(), lossSum, new double[0], k);
    }
    /** Releases the broadcast configuration. */
    public void close() {
        confJson.destroy();
    }
}
