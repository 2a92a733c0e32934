package org.umm4j.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.umm4j.backend.Umm4jBackend;
import org.umm4j.data.DatasetChecksum;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.augment.MultiViewBatch;
import org.umm4j.data.augment.MultiViewBatchIterator;
import org.umm4j.data.augment.Recipe;
import org.umm4j.ssl.SslMethod;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Self-supervised pretraining: a {@link SslMethod} trained on augmented views of an {@link ImageDataset} by the
 * {@link TrainingLoop} (run directory, metrics, atomic checkpoints, exact resume, NaN guard).
 *
 * <p>Each epoch draws the batches of a {@link MultiViewBatchIterator} seeded by (seed, epoch), shuffled, with the
 * last incomplete batch dropped (batch statistics and the contrastive losses want full batches); steps per epoch
 * = floor(dataset size / batch size). The online graph gets the optimiser of {@link OptimizerConfig}; the method's
 * auxiliary state (EMA target, queue) travels in the checkpoints. An {@link EpochListener} can run after the last
 * step of every epoch (the label-free dR monitor) and add values to that step's metrics row.
 *
 * <p>Built with {@link #builder()}: required {@code setX}, optional {@code optX}.
 */
public final class Pretrainer {
    /** Called after the last step of each epoch with the online graph; returns extra metrics for that row. */
    @FunctionalInterface
    public interface EpochListener {
        /** @return named values for the metrics log (names must be in {@link Builder#optEpochListener}'s list) */
        Map<String, Double> afterEpoch(ComputationGraph online, int epoch);

        /**
         * Asked by the loop after {@link #afterEpoch} (and after every epoch, even one whose last loss was not
         * finite): force a checkpoint, mark the best one, stop early. Default: continue on the run's schedule.
         */
        default TrainingLoop.EpochDecision endOfEpoch(int epoch) {
            return TrainingLoop.EpochDecision.CONTINUE;
        }
    }

    private final ImageDataset dataset;
    private final Recipe recipe;
    private final SslMethod method;
    private final OptimizerConfig optimizer;
    private final TrainingConfig training;
    private final int batchSize;
    private final Path out;
    private final ProgressBar progress;
    private final EpochListener listener;
    private final List<String> listenerColumns;
    private final Map<String, Object> extraManifest;
    private final List<String> lossParts;
    private final int workers;
    private MultiViewBatchIterator iterator;
    private int iteratorEpoch = -1;

    private Pretrainer(Builder b) {
        this.dataset = b.dataset;
        this.recipe = b.recipe;
        this.method = b.method;
        this.optimizer = b.optimizer;
        this.batchSize = b.batchSize;
        this.out = b.out;
        this.progress = b.progress;
        this.listener = b.listener;
        this.listenerColumns = b.listenerColumns;
        this.extraManifest = b.extraManifest;
        this.lossParts = b.lossParts;
        this.workers = b.workers;
        int steps = dataset.size() / batchSize;
        if (steps == 0) {
            throw new IllegalArgumentException("batch size " + batchSize + " exceeds the dataset size " + dataset.size()
                    + " of " + dataset.name());
        }
        List<String> columns = new ArrayList<>(b.lossParts);
        columns.addAll(listenerColumns);
        this.training = new TrainingConfig(b.epochs, steps, b.seed, b.saveEvery, b.keepLast, columns);
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /** @return steps per epoch */
    public int stepsPerEpoch() {
        return training.stepsPerEpoch();
    }

    /** @return total steps of the run */
    public long totalSteps() {
        return training.totalSteps();
    }

    /**
     * Runs from scratch, or resumes from the latest checkpoint of {@code out} when {@code resume} is set.
     *
     * @return the loop's result (the trained online graph and the last checkpoint)
     */
    public TrainingLoop.Result run(boolean resume) {
        Umm4jBackend.init();
        RunDirectory run;
        if (resume) {
            run = RunDirectory.open(out);
        } else {
            Map<String, Object> cfg = new LinkedHashMap<>(extraManifest);
            cfg.put("method", method.name());
            cfg.put("objective", method.objective().hyperParameters());
            cfg.put("recipe", recipe.name());
            cfg.put("batchSize", batchSize);
            cfg.put("optimizer", optimizer.toMap());
            cfg.put("training", training.toMap());
            run = RunDirectory.create(out, cfg, training.seed(), dataset.name(), DatasetChecksum.sha256(dataset));
        }
        try {
            TrainingLoop.Builder lb = TrainingLoop.builder().setRun(run).setConfig(training)
                    .setGraphFactory(this::freshGraph).setStepFunction(this::step)
                    .optExtraState(new AuxiliaryState());
            if (progress != null) {
                lb.optProgress(progress);
            }
            if (listener != null) {
                lb.optEpochEndHook(listener::endOfEpoch);
            }
            TrainingLoop loop = lb.build();
            return resume ? loop.resume() : loop.run();
        } finally {
            closeIterator();
        }
    }

    private ComputationGraph freshGraph() {
        ComputationGraph g = optimizer.applyTo(method.createOnlineGraph());
        method.attach(g);
        return g;
    }

    private StepResult step(ComputationGraph graph, StepContext ctx) {
        if (iteratorEpoch != ctx.epoch()) {
            closeIterator();
            iterator = MultiViewBatchIterator.builder().setDataset(dataset).setRecipe(recipe).setBatchSize(batchSize)
                    .setSeed(training.seed()).optEpoch(ctx.epoch()).optShuffle(true).optDropLast(true)
                    .optWorkers(workers).build();
            iteratorEpoch = ctx.epoch();
        }
        if (!iterator.hasNext()) {
            throw new IllegalStateException("augmentation iterator ran out at epoch " + ctx.epoch() + " step " + ctx.step());
        }
        MultiViewBatch batch = iterator.next();
        List<INDArray> views = batch.views();
        SslMethod.StepOutput o = method.step(graph, views, ctx.globalStep(), ctx.epoch());
        Map<String, Double> logged = new HashMap<>();
        for (String part : lossParts) {
            Double v = o.parts().get(part);
            if (v != null) {
                logged.put(part, v);
            }
        }
        StepResult r = new StepResult(o.loss(), batch.size(), logged);
        if (listener != null && ctx.step() == training.stepsPerEpoch() - 1 && Double.isFinite(o.loss())) {
            for (Map.Entry<String, Double> e : listener.afterEpoch(graph, ctx.epoch()).entrySet()) {
                r = r.withExtra(e.getKey(), e.getValue());
            }
        }
        return r;
    }

    private void closeIterator() {
        if (iterator != null) {
            iterator.close();
            iterator = null;
            iteratorEpoch = -1;
        }
    }

    /** Saves and restores the method's auxiliary graphs and arrays with each checkpoint. */
    private final class AuxiliaryState implements ExtraState {
        private static final String GRAPHS = "auxiliaryGraphs";
        private static final String ARRAYS = "auxiliaryArrays";

        @Override
        public void save(CheckpointData.Builder checkpoint) {
            method.auxiliaryGraphs().forEach(checkpoint::optGraph);
            method.auxiliaryArrays().forEach(checkpoint::optArray);
            checkpoint.optState(GRAPHS, new ArrayList<>(method.auxiliaryGraphs().keySet()));
            checkpoint.optState(ARRAYS, new ArrayList<>(method.auxiliaryArrays().keySet()));
        }

        @Override
        public void restore(Checkpoint checkpoint) {
            Map<String, ComputationGraph> graphs = new HashMap<>();
            for (String name : checkpoint.graphNames()) {
                graphs.put(name, checkpoint.restoreGraph(name, false));
            }
            Map<String, INDArray> arrays = new HashMap<>();
            for (String name : checkpoint.arrayNames()) {
                arrays.put(name, checkpoint.readArray(name));
            }
            method.restoreAuxiliary(graphs, arrays);
        }
    }

    /** Builder: {@code setX} required, {@code optX} optional. */
    public static final class Builder {
        private ImageDataset dataset;
        private Recipe recipe;
        private SslMethod method;
        private OptimizerConfig optimizer;
        private Integer epochs;
        private Integer batchSize;
        private Path out;
        private long seed = 42;
        private int saveEvery = 1;
        private int keepLast = 1000;
        private ProgressBar progress;
        private EpochListener listener;
        private List<String> listenerColumns = List.of();
        private List<String> lossParts = List.of();
        private Map<String, Object> extraManifest = Map.of();
        private int workers = Runtime.getRuntime().availableProcessors();

        private Builder() {
        }

        public Builder setDataset(ImageDataset d) {
            this.dataset = d;
            return this;
        }

        public Builder setRecipe(Recipe r) {
            this.recipe = r;
            return this;
        }

        public Builder setMethod(SslMethod m) {
            this.method = m;
            return this;
        }

        public Builder setOptimizer(OptimizerConfig o) {
            this.optimizer = o;
            return this;
        }

        public Builder setEpochs(int e) {
            this.epochs = e;
            return this;
        }

        public Builder setBatchSize(int b) {
            this.batchSize = b;
            return this;
        }

        /** The run directory. */
        public Builder setOut(Path p) {
            this.out = p;
            return this;
        }

        public Builder optSeed(long s) {
            this.seed = s;
            return this;
        }

        /** Checkpoint every this many epochs (the last epoch is always saved); default 1. */
        public Builder optSaveEvery(int n) {
            this.saveEvery = n;
            return this;
        }

        /** Checkpoints kept; default all (1,000). */
        public Builder optKeepLast(int n) {
            this.keepLast = n;
            return this;
        }

        public Builder optProgress(ProgressBar p) {
            this.progress = p;
            return this;
        }

        /** Loss parts of the objective to log as metrics columns (e.g. {@code invariance}); other parts are not logged. */
        public Builder optLossParts(List<String> parts) {
            this.lossParts = List.copyOf(parts);
            return this;
        }

        /** A listener run after each epoch and the metrics columns it reports. */
        public Builder optEpochListener(EpochListener l, List<String> columns) {
            this.listener = Objects.requireNonNull(l, "listener");
            this.listenerColumns = List.copyOf(columns);
            return this;
        }

        /** Augmentation worker threads (default: available processors); speed only, never the content. */
        public Builder optWorkers(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("workers must be at least 1, got " + n);
            }
            this.workers = n;
            return this;
        }

        /** Extra entries for the manifest's config (e.g. the backbone and dataset settings). */
        public Builder optManifest(Map<String, Object> m) {
            this.extraManifest = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(m)); // null values allowed
            return this;
        }

        /** @return the pretrainer; errors name the missing or invalid field */
        public Pretrainer build() {
            Objects.requireNonNull(dataset, "dataset is required (setDataset)");
            Objects.requireNonNull(recipe, "recipe is required (setRecipe)");
            Objects.requireNonNull(method, "method is required (setMethod)");
            Objects.requireNonNull(optimizer, "optimizer is required (setOptimizer)");
            Objects.requireNonNull(epochs, "epochs is required (setEpochs)");
            Objects.requireNonNull(batchSize, "batchSize is required (setBatchSize)");
            Objects.requireNonNull(out, "out is required (setOut)");
            if (batchSize < 2) {
                throw new IllegalArgumentException("batchSize must be at least 2, got " + batchSize);
            }
            if (!method.acceptsViews(recipe.numViews())) {
                throw new IllegalArgumentException("recipe " + recipe.name() + " has " + recipe.numViews()
                        + " views, which method " + method.name() + " does not take (2 views, or 2 or more for swav)");
            }
            return new Pretrainer(this);
        }
    }
}
