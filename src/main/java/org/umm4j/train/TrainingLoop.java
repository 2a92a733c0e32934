package org.umm4j.train;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;
import java.util.function.Supplier;

/**
 * A generic, resumable training loop: it owns epochs, steps, seeding, metrics, checkpoints, the non-finite-loss
 * guard and progress reporting, and delegates the step itself to a {@link StepFunction}, so every method (SSL
 * objectives, UMM) trains through the same loop.
 *
 * <p>Per step {@code (epoch e, step s, global g = e * stepsPerEpoch + s)} the loop: sets the graph's epoch count to
 * e and iteration count to g (so DL4J schedules by iteration follow the global step however the step function
 * updates the graph); binds LARS updaters ({@link Lars#bind}, idempotent); reseeds ND4J's global generator with
 * {@code StepRandom.seed(seed, e, g, ND4J_STREAM)} (dropout and {@code Nd4j.rand} inside the step); calls the step
 * function with a {@link java.util.SplittableRandom} derived from {@code (seed, e, g)}; stops with a
 * {@link NonFiniteLossException} on a NaN/infinite loss; appends a metrics row {@code (e, g + 1, loss, lr, img/s,
 * extras)}, where lr is the rate of the first layer's first parameter at iteration g. After every
 * {@code saveEvery}-th epoch and after the last one it saves a checkpoint {@code epoch-e} with step
 * {@code (e + 1) * stepsPerEpoch}, plus whatever the {@link ExtraState} adds. An optional {@link EpochEndHook}, asked
 * after each epoch's last step, can force that epoch's checkpoint, mark it as the run's best
 * ({@code checkpoints/best}, kept by pruning) and stop the run early (the stopping epoch is checkpointed).
 *
 * <p>Exact resume: {@link #resume()} restores the graph with its updater state from {@code checkpoints/latest},
 * restores the extra state, truncates {@code metrics.csv} after the checkpoint's step and continues with epoch
 * {@code e + 1}. Because no generator state exists outside (seed, epoch, step), a run of 4 epochs and a run of 2
 * epochs resumed for 2 more produce bit-identical parameters (tested). The ND4J generator is global state of ND4J:
 * do not train two loops concurrently in one JVM if their steps draw from it.
 */
public final class TrainingLoop {
    private static final Logger LOG = LoggerFactory.getLogger(TrainingLoop.class);

    private final RunDirectory run;
    private final Supplier<ComputationGraph> graphFactory;
    private final StepFunction stepFunction;
    private final TrainingConfig config;
    private final ExtraState extraState;
    private final ProgressBar progress;
    private final EpochEndHook epochEnd;

    private TrainingLoop(Builder b) {
        this.run = b.run;
        this.graphFactory = b.graphFactory;
        this.stepFunction = b.stepFunction;
        this.config = b.config;
        this.extraState = b.extraState;
        this.progress = b.progress;
        this.epochEnd = b.epochEnd;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * What an {@link EpochEndHook} decides after an epoch's last step: save a checkpoint of this epoch even when
     * {@code saveEvery} would skip it, mark this epoch's checkpoint as the run's best ({@code checkpoints/best},
     * implies saving it, never pruned), and/or stop the run after this epoch (a checkpoint of the epoch is then
     * saved too, so the run always ends on a checkpoint).
     */
    public record EpochDecision(boolean save, boolean best, boolean stop) {
        /** Nothing to do: the loop's own schedule applies. */
        public static final EpochDecision CONTINUE = new EpochDecision(false, false, false);
    }

    /** Called once per epoch after its last step, before the checkpoint decision (e.g. early stopping). */
    @FunctionalInterface
    public interface EpochEndHook {
        /** @return what to do with this epoch; never null */
        EpochDecision afterEpoch(int epoch);
    }

    /** What a run ended with. */
    public record Result(ComputationGraph graph, int epochsCompleted, long globalSteps, double lastLoss,
                         Checkpoint lastCheckpoint) {
    }

    /**
     * Trains from scratch: builds the graph with the factory (which returns an {@code init()}ed graph). Rows left in
     * {@code metrics.csv} by an earlier attempt that never reached a checkpoint are discarded.
     *
     * @throws IllegalStateException if the run directory already holds a checkpoint (use {@link #resume()})
     */
    public Result run() {
        if (run.checkpoints(config.keepLast()).latest().isPresent()) {
            throw new IllegalStateException(run.root() + " already holds checkpoints: call resume() or use a new run "
                    + "directory");
        }
        ComputationGraph graph = graphFactory.get();
        if (graph == null) {
            throw new IllegalStateException("graphFactory returned null");
        }
        try (MetricsLog metrics = run.resumeMetrics(config.extraColumns(), 0)) {
            return train(graph, 0, null, metrics);
        }
    }

    /**
     * Continues from the latest checkpoint up to {@code config.epochs()}.
     *
     * @throws IllegalStateException if there is no checkpoint, or it was written with another seed or another
     *                               number of steps per epoch
     */
    public Result resume() {
        Checkpoint ckpt = run.checkpoints(config.keepLast()).latest().orElseThrow(() -> new IllegalStateException(
                "no checkpoint to resume from in " + run.checkpointsDir()));
        if (ckpt.seed() != config.seed()) {
            throw new IllegalStateException("seed " + config.seed() + " differs from the checkpoint's seed " + ckpt.seed()
                    + " (" + ckpt.path() + "): an exact resume needs the same seed");
        }
        if (ckpt.step() != (long) (ckpt.epoch() + 1) * config.stepsPerEpoch()) {
            throw new IllegalStateException("stepsPerEpoch " + config.stepsPerEpoch() + " does not match checkpoint "
                    + ckpt + " (step should be (epoch + 1) * stepsPerEpoch)");
        }
        ComputationGraph graph = ckpt.restoreGraph(true);
        if (extraState != null) {
            extraState.restore(ckpt);
        }
        LOG.info("resuming {} from {}", run.root(), ckpt);
        try (MetricsLog metrics = run.resumeMetrics(config.extraColumns(), ckpt.step())) {
            return train(graph, ckpt.epoch() + 1, ckpt, metrics);
        }
    }

    /** Resumes when the run has a checkpoint, otherwise starts fresh. */
    public Result runOrResume() {
        return run.checkpoints(config.keepLast()).latest().isPresent() ? resume() : run();
    }

    private Result train(ComputationGraph graph, int startEpoch, Checkpoint lastGood, MetricsLog metrics) {
        CheckpointStore store = run.checkpoints(config.keepLast());
        int spe = config.stepsPerEpoch();
        long global = (long) startEpoch * spe;
        if (progress != null) {
            progress.begin(global);
        }
        double lastLoss = Double.NaN;
        int epoch = startEpoch;
        for (; epoch < config.epochs(); epoch++) {
            graph.getConfiguration().setEpochCount(epoch);
            for (int s = 0; s < spe; s++, global++) {
                if (global > Integer.MAX_VALUE) {
                    throw new IllegalStateException("global step " + global + " exceeds DL4J's int iteration count");
                }
                graph.getConfiguration().setIterationCount((int) global);
                Lars.bind(graph);
                Nd4j.getRandom().setSeed(StepRandom.seed(config.seed(), epoch, global, StepRandom.ND4J_STREAM));
                double lr = learningRate(graph, (int) global, epoch);
                StepContext ctx = new StepContext(epoch, s, global, StepRandom.forStep(config.seed(), epoch, global),
                        config.seed());
                long t0 = System.nanoTime();
                StepResult r;
                try {
                    r = stepFunction.step(graph, ctx);
                } catch (RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    throw new IllegalStateException("step function failed at epoch " + epoch + ", step " + s, e);
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                if (r == null) {
                    throw new IllegalStateException("step function returned null at epoch " + epoch + ", step " + s);
                }
                double imgPerSec = seconds > 0 ? r.images() / seconds : 0;
                metrics.append(epoch, global + 1, r.loss(), lr, imgPerSec, r.extras());
                if (!Double.isFinite(r.loss())) {
                    String good = lastGood == null ? "no checkpoint was saved yet"
                            : "the last good checkpoint is " + lastGood.path().getFileName() + " (step " + lastGood.step()
                            + ")";
                    throw new NonFiniteLossException(epoch, s, global, r.loss(), good);
                }
                lastLoss = r.loss();
                if (progress != null) {
                    progress.update(epoch, config.epochs(), s + 1, spe, r.loss(), imgPerSec);
                }
            }
            graph.getConfiguration().setIterationCount((int) global);
            EpochDecision decision = epochEnd == null ? EpochDecision.CONTINUE : epochEnd.afterEpoch(epoch);
            if (decision == null) {
                throw new IllegalStateException("epoch-end hook returned null at epoch " + epoch);
            }
            if ((epoch + 1) % config.saveEvery() == 0 || epoch == config.epochs() - 1 || decision.save()
                    || decision.best() || decision.stop()) {
                CheckpointData.Builder b = CheckpointData.builder().setGraph(graph).setEpoch(epoch).setStep(global)
                        .setSeed(config.seed());
                if (extraState != null) {
                    extraState.save(b);
                }
                lastGood = store.save(b.build());
                if (decision.best()) {
                    store.markBest(epoch);
                }
            }
            LOG.debug("epoch {} done, loss {}", epoch, lastLoss);
            if (decision.stop()) {
                LOG.info("stopping after epoch {} as the epoch-end hook asked", epoch);
                epoch++;
                break;
            }
        }
        return new Result(graph, epoch, global, lastLoss, lastGood);
    }

    /** @return the learning rate of the first layer's first parameter that has one, or NaN */
    static double learningRate(ComputationGraph graph, int iteration, int epoch) {
        for (Layer l : graph.getLayers()) {
            for (String key : l.paramTable().keySet()) {
                IUpdater u = l.conf().getLayer().getUpdaterByParam(key);
                if (u != null && u.hasLearningRate()) {
                    return u.getLearningRate(iteration, epoch);
                }
            }
        }
        return Double.NaN;
    }

    /** Builder: {@code setRun}, {@code setGraphFactory}, {@code setStepFunction}, {@code setConfig} required. */
    public static final class Builder {
        private RunDirectory run;
        private Supplier<ComputationGraph> graphFactory;
        private StepFunction stepFunction;
        private TrainingConfig config;
        private ExtraState extraState;
        private ProgressBar progress;
        private EpochEndHook epochEnd;

        private Builder() {
        }

        public Builder setRun(RunDirectory r) {
            this.run = Checks.notNull("run", r);
            return this;
        }

        /** Builds the graph of a fresh run, already {@code init()}ed (not called on resume). */
        public Builder setGraphFactory(Supplier<ComputationGraph> f) {
            this.graphFactory = Checks.notNull("graphFactory", f);
            return this;
        }

        public Builder setStepFunction(StepFunction f) {
            this.stepFunction = Checks.notNull("stepFunction", f);
            return this;
        }

        public Builder setConfig(TrainingConfig c) {
            this.config = Checks.notNull("config", c);
            return this;
        }

        public Builder optExtraState(ExtraState s) {
            this.extraState = s;
            return this;
        }

        public Builder optProgress(ProgressBar p) {
            this.progress = p;
            return this;
        }

        /** A hook run after each epoch that may force a checkpoint, mark the best one or stop the run. */
        public Builder optEpochEndHook(EpochEndHook h) {
            this.epochEnd = h;
            return this;
        }

        public TrainingLoop build() {
            if (run == null || graphFactory == null || stepFunction == null || config == null) {
                throw new IllegalStateException("TrainingLoop needs setRun, setGraphFactory, setStepFunction and "
                        + "setConfig; missing: " + (run == null ? "run " : "") + (graphFactory == null ? "graphFactory " : "")
                        + (stepFunction == null ? "stepFunction " : "") + (config == null ? "config" : ""));
            }
            return new TrainingLoop(this);
        }
    }

    /** @return the run directory this loop writes into */
    public RunDirectory runDirectory() {
        return run;
    }

    /** @return the latest checkpoint of this loop's run, if any */
    public Optional<Checkpoint> latestCheckpoint() {
        return run.checkpoints(config.keepLast()).latest();
    }
}
