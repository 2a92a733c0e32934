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

    /** One round's outcome: the averaged parameters, the mean loss over all local steps and the workers used. */
    public record Round(INDArray params, double meanLoss, int workers) {
    }

    /** The running sum that {@code treeAggregate} combines. */
    static final class Partial implements Serializable {
        private static final long serialVersionUID = 1L;
        INDArray paramSum;
        int workers;
        double lossSum;
        long steps;

        Partial add(Partial o) {
            if (o.paramSum != null) {
                paramSum = paramSum == null ? o.paramSum.dup() : paramSum.addi(o.paramSum);
            }
            workers += o.workers;
            lossSum += o.lossSum;
            steps += o.steps;
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
        Broadcast<INDArray> theta = sc.broadcast(params.dup());
        Broadcast<String> conf = confJson;
        int k = localSteps;
        LocalStep s = step;
        try {
            Partial total = data.mapPartitions((Iterator<DataSet> it) -> {
                        List<DataSet> batches = new ArrayList<>();
                        it.forEachRemaining(batches::add);
                        if (batches.isEmpty()) {
                            return Collections.singletonList(new Partial()).iterator();
                        }
                        return Collections.singletonList(localRun(conf.value(), theta.value(), batches, k, s, round))
                                .iterator();
                    })
                    .treeAggregate(new Partial(), Partial::add, Partial::add, depth);
            if (total.workers == 0) {
                throw new IllegalStateException("round " + round + ": every partition of the data is empty");
            }
            return new Round(total.paramSum.divi(total.workers), total.lossSum / total.steps, total.workers);
        } finally {
            theta.destroy();
        }
    }

    /** The work of one partition: K local steps from theta. */
    static Partial localRun(String confJson, INDArray theta, List<DataSet> batches, int k, LocalStep step, long round) {
        Umm4jBackend.init();
        ComputationGraph g = new ComputationGraph(ComputationGraphConfiguration.fromJson(confJson));
        g.init(theta.dup(), false);
        int partition = TaskContext.get() == null ? 0 : TaskContext.getPartitionId();
        Partial p = new Partial();
        for (int j = 0; j < k; j++) {
            // a partition walks through its batches across rounds: round r, step j uses batch (r K + j) mod size
            DataSet batch = batches.get((int) Math.floorMod(round * k + j, (long) batches.size()));
            p.lossSum += step.apply(g, batch, round, j, partition);
            p.steps++;
        }
        p.paramSum = g.params().dup();
        p.workers = 1;
        return p;
    }

    /** Releases the broadcast configuration. */
    public void close() {
        confJson.destroy();
    }
}
