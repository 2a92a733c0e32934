package org.umm4j.spark;

import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.umm4j.backend.Umm4jBackend;
import org.umm4j.data.augment.SampleSeeds;
import org.umm4j.nn.Backbone;
import org.umm4j.nn.SplitBackbone;
import org.umm4j.nn.Taps;
import org.umm4j.ssl.SslMethod;
import org.umm4j.train.Checkpoint;
import org.umm4j.train.CheckpointData;
import org.umm4j.train.CheckpointStore;
import org.umm4j.train.MetricsLog;
import org.umm4j.train.RunDirectory;
import org.umm4j.umm.Hypergradient;
import org.umm4j.umm.UmmConfig;
import org.umm4j.umm.UmmFineTuner;
import org.umm4j.umm.UmmProblem;
import scala.Tuple2;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Distributed UMM fine-tuning (arXiv 2410.00772; DESIGN.md sections 4 and 7) on Spark core with the project's own
 * parameter averaging ({@link SparkParameterAveraging#average}): the single-machine {@link UmmFineTuner}'s step, run
 * by W workers on their own batches between averages.
 *
 * <p><b>Data.</b> Each epoch, the driver draws the single-machine run's sample order (the Fisher-Yates permutation of
 * {@link SampleSeeds#shuffleRng}{@code (seed, epoch)} that {@code MultiViewBatchIterator} uses) and cuts it into
 * batches of B images; batch g goes to worker {@code g mod W}. With {@code R = floor(floor(N / B) / W / K)} rounds
 * per epoch, the first {@code W R K} batches are used (the rest of the epoch is dropped, at most
 * {@code W K - 1} batches plus the last incomplete one). The uint8 records are shuffled to their workers once per
 * epoch and kept in memory; the views are augmented on the worker at each step ({@link UmmBatch}).
 *
 * <p><b>One round r</b> (epoch e): broadcast the state (f_l's parameters with BatchNorm running statistics, and
 * Adam's moments); each worker w rebuilds f_e, f_l and the {@link UmmProblem} and runs K local UMM steps on its
 * batches {@code r K .. r K + K - 1} ({@link UmmWorker}: early features on the worker, hypergradient, Adam with the
 * global step count, commit); {@code treeAggregate} sums the W states; the driver divides by W.
 * <ul>
 *   <li><b>Averaged:</b> f_l's weights (theta, and phi = the projector for {@code neumann}), f_l's BatchNorm running
 *       mean and variance (DL4J keeps them as parameters, so they travel in the same vector), and Adam's m and v.
 *       f_e is frozen and broadcast once. Each worker's step moves the running statistics one step towards its
 *       own batch's statistics ({@code UmmProblem.commit}); the round averages the workers' results.</li>
 *   <li><b>Adam.</b> The moments are averaged like the parameters and the step count t runs on globally
 *       ({@code t = rounds so far x K + local step}), so bias correction never restarts (unlike DL4J M2's
 *       parameter-averaging workers, see the module README). Averaging is linear in m and v; keeping them per
 *       worker instead would need partition-to-executor affinity that Spark does not promise, and would make a
 *       retried task's result depend on where it ran. With W = 1 the run is the single-machine run, exactly.</li>
 *   <li><b>Batch statistics are per worker.</b> L_SSL, the instance membership of dR, the CPA sketch and BatchNorm
 *       see one worker's B images: the loss is a per-worker batch loss, not the loss of a W B batch.</li>
 * </ul>
 *
 * <p><b>Driver bookkeeping</b>, as the single-machine run: a {@link RunDirectory} (manifest with the {@code umm}
 * settings, the dataset/backbone entries the caller passes and the {@code spark} settings; {@code metrics.csv} with
 * one row per round: {@code step} = Adam steps t so far, {@code loss} = mean L_SSL after the update over the round's
 * W K local steps, the Adam learning rate, images/s counting each image once, {@code dR} (mean) and
 * {@code workers}); a checkpoint every {@code checkpointEvery} epochs and after the last, holding the FULL online
 * graph (source network with f_l written back, so {@code umm4j eval --run} reads it like any run) and the Adam
 * moments as {@code umm-adam-m}, {@code umm-adam-v} ({@code -phi}), like {@link UmmFineTuner}'s. An existing run
 * directory is resumed from its latest checkpoint.
 *
 * <p>Cost per round: the UMM step K times per worker (DESIGN.md section 4), a rebuild of f_e and f_l from JSON per
 * worker, and the state (about 3x f_l's parameters) shipped to and from every worker. Supported methods: those of
 * {@link UmmFineTuner} ({@code simclr, barlow, vicreg, wmse, byol}; BYOL's frozen EMA target is broadcast once and
 * gives the targets on the workers); joint mode is not offered.
 */
public final class SparkUmmFineTuner {
    private static final Logger LOG = LoggerFactory.getLogger(SparkUmmFineTuner.class);
    /** Extra metrics columns. */
    public static final List<String> EXTRA_COLUMNS = List.of("dR", "workers");
    private static final List<String> SUPPORTED = List.of("simclr", "barlow", "vicreg", "wmse", "byol");

    /** One averaging round's figures. */
    public record RoundMetrics(int epoch, int round, long step, double loss, double dR, int workers,
                               double imagesPerSecond) {
    }

    /** What {@link #run()} returns: the full online graph after the last round and one entry per round run. */
    public record Result(ComputationGraph graph, List<RoundMetrics> rounds) {
    }

    private final JavaSparkContext sc;
    private final Checkpoint source;
    private final SslMethod method;
    private final JavaRDD<ImageRecord> images;
    private final int channels;
    private final int height;
    private final int width;
    private final RecipeFactory recipe;
    private final String recipeName;
    private final SparkSslConfig config;
    private final String tap;
    private final UmmConfig umm;
    private final String hypergradient;
    private final Hypergradient.Difference hvp;
    private final double innerLr;
    private final double lr;
    private final UmmFineTuner.Mode mode;
    private final Path runDir;
    private final String datasetName;
    private final Map<String, Object> manifestExtras;

    // built by prepare()
    private ComputationGraph online;
    private SplitBackbone split;
    private ComputationGraph target;
    private UmmWorker worker;
    private long thetaLength;
    private long phiLength;

    private SparkUmmFineTuner(Builder b) {
        this.sc = b.sc;
        this.source = b.source;
        this.method = b.method;
        this.images = b.images;
        this.channels = b.channels;
        this.height = b.height;
        this.width = b.width;
        this.recipe = b.recipe;
        this.recipeName = b.recipe.get().name();
        this.config = b.config;
        this.tap = b.tap;
        this.umm = b.umm;
        this.hypergradient = b.hypergradient;
        this.hvp = b.hvp;
        this.innerLr = b.innerLr;
        this.lr = b.lr;
        this.mode = b.mode;
        this.runDir = b.runDir;
        this.datasetName = b.datasetName;
        this.manifestExtras = b.manifestExtras;
    }

    /** @return a builder: {@code setX} required, {@code optX} optional */
    public static Builder builder() {
        return new Builder();
    }

    /** Restores the source network, splits it and builds the worker's settings (idempotent). */
    void prepare() {
        if (worker != null) {
            return;
        }
        Umm4jBackend.init();
        online = source.restoreGraph(false);
        restoreAuxiliary(source);
        Backbone backbone = method.createOnline();
        copyByName(online, backbone.graph());
        split = backbone.split(tap);
        String projector = backbone.heads().isEmpty() ? null : backbone.heads().get(0).name();
        boolean splitPhi = mode == UmmFineTuner.Mode.UMM && "neumann".equals(hypergradient);
        UmmProblem probe = new UmmProblem(split.last(), method.objective(), umm, projector, splitPhi);
        thetaLength = probe.theta().length();
        phiLength = probe.phi().length();
        worker = new UmmWorker(split.early(), split.last(), target, method.objective().name(),
                method.objective().hyperParameters(), umm, projector, splitPhi, mode == UmmFineTuner.Mode.SSL_LAST,
                hypergradient, hvp, innerLr, lr, recipe, channels, height, width, config.seed(), thetaLength, phiLength);
        LOG.info("UMM on Spark: {} split at {}, theta {} and phi {} parameters, state {} entries", method.name(), tap,
                thetaLength, phiLength, worker.stateLength());
    }

    /** The method's auxiliary state (BYOL's EMA target) from a checkpoint, as {@code UmmFineTuner} restores it. */
    private void restoreAuxiliary(Checkpoint c) {
        Map<String, ComputationGraph> graphs = new LinkedHashMap<>();
        for (String name : c.graphNames()) {
            graphs.put(name, c.restoreGraph(name, false));
        }
        Map<String, INDArray> arrays = new LinkedHashMap<>();
        for (String name : c.arrayNames()) {
            if (!name.startsWith("umm-")) {
                arrays.put(name, c.readArray(name));
            }
        }
        method.restoreAuxiliary(graphs, arrays);
        target = method.auxiliaryGraphs().get("target");
    }

    /** @return the stop-gradient target's parameters (BYOL), or null */
    INDArray targetParams() {
        prepare();
        return target == null ? null : target.params();
    }

    /** @return the state of the source network: f_l's parameters and zero Adam moments */
    INDArray initialState() {
        prepare();
        return worker.initialState(split.last().params());
    }

    /** @return f_e's parameters */
    INDArray earlyParams() {
        prepare();
        return split.early().params();
    }

    /**
     * One averaging round on {@code batches} (each partition one worker), from {@code state}; package-private for
     * tests, which pass batches they built themselves.
     *
     * @param firstBatch index of each partition's first batch of this round
     * @param adamSteps  Adam steps taken before this round
     */
    SparkParameterAveraging.Round round(INDArray state, JavaRDD<UmmBatch> batches, Broadcast<INDArray> early,
                                        Broadcast<INDArray> targetParams, int firstBatch, long adamSteps, String what) {
        prepare();
        return roundOf(sc, worker, state, batches, early, targetParams, firstBatch, config.averagingFrequency(),
                adamSteps, what);
    }

    /** Static, so that the closure captures only serialisable values (never this driver object). */
    private static SparkParameterAveraging.Round roundOf(JavaSparkContext sc, UmmWorker w, INDArray state,
                                                         JavaRDD<UmmBatch> batches, Broadcast<INDArray> early,
                                                         Broadcast<INDArray> target, int firstBatch, int k,
                                                         long adamSteps, String what) {
        return SparkParameterAveraging.average(sc, state, batches, 2, what,
                (start, list, partition) -> w.run(start, list, firstBatch, k, adamSteps, early.value(),
                        target == null ? null : target.value()));
    }

    /** @return rounds per epoch {@code R = floor(floor(N / B) / W / K)} for {@code n} images */
    static int roundsPerEpoch(long n, SparkSslConfig c) {
        return (int) (n / c.pairsPerWorker() / c.workers() / c.averagingFrequency());
    }

    /**
     * The single-machine run's sample order of epoch {@code epoch} as positions: {@code position[i]} is where image
     * i comes in the Fisher-Yates permutation of {@code SampleSeeds.shuffleRng(seed, epoch)} that
     * {@code MultiViewBatchIterator} draws.
     */
    int[] epochPositions(int epoch, int n) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        SplittableRandom rng = SampleSeeds.shuffleRng(config.seed(), epoch);
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int[] position = new int[n];
        for (int p = 0; p < n; p++) {
            position[order[p]] = p;
        }
        return position;
    }

    /**
     * The epoch's batches from the broadcast {@link #epochPositions}: batch g (positions {@code [g B, (g + 1) B)})
     * goes to partition {@code g mod W}, in order; only the first {@code used} batches.
     */
    JavaRDD<UmmBatch> epochBatches(int epoch, Broadcast<int[]> pos, int used) {
        int n = pos.value().length;
        int b = config.pairsPerWorker();
        int w = config.workers();
        long firstStep = (long) epoch * used;
        long limit = (long) used * b;
        return images
                .filter(r -> {
                    if (r.index() >= pos.value().length) {
                        throw new IllegalArgumentException("image index " + r.index() + " is outside 0.." + (n - 1)
                                + ": records must be indexed 0..N-1");
                    }
                    return pos.value()[(int) r.index()] < limit;
                })
                .mapToPair(r -> new Tuple2<>(pos.value()[(int) r.index()], r))
                .repartitionAndSortWithinPartitions(new BatchPartitioner(w, b))
                .mapPartitions((Iterator<Tuple2<Integer, ImageRecord>> it) -> {
                    List<UmmBatch> out = new ArrayList<>();
                    List<ImageRecord> group = new ArrayList<>(b);
                    int current = -1;
                    while (it.hasNext()) {
                        Tuple2<Integer, ImageRecord> t = it.next();
                        int g = t._1() / b;
                        if (g != current && !group.isEmpty()) {
                            out.add(fullBatch(epoch, firstStep + current, group, b));
                            group = new ArrayList<>(b);
                        }
                        current = g;
                        group.add(t._2());
                    }
                    if (!group.isEmpty()) {
                        out.add(fullBatch(epoch, firstStep + current, group, b));
                    }
                    return out.iterator();
                });
    }

    /** @return the batch, which must hold exactly B records (else the records were not indexed 0..N-1) */
    private static UmmBatch fullBatch(int epoch, long step, List<ImageRecord> group, int b) {
        if (group.size() != b) {
            throw new IllegalArgumentException("batch " + step + " of epoch " + epoch + " has " + group.size()
                    + " images, expected " + b + ": the image records must be indexed 0..N-1, each index once");
        }
        return new UmmBatch(epoch, step, group);
    }

    /** Batch {@code g = position / B} to partition {@code g mod W}. */
    static final class BatchPartitioner extends Partitioner {
        private static final long serialVersionUID = 1L;
        private final int workers;
        private final int batch;

        BatchPartitioner(int workers, int batch) {
            this.workers = workers;
            this.batch = batch;
        }

        @Override
        public int numPartitions() {
            return workers;
        }

        @Override
        public int getPartition(Object key) {
            return ((Integer) key / batch) % workers;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof BatchPartitioner p && p.workers == workers && p.batch == batch;
        }

        @Override
        public int hashCode() {
            return 31 * workers + batch;
        }
    }

    /** Trains all (remaining) epochs. */
    public Result run() {
        prepare();
        long count = images.count();
        if (count > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("more than 2^31 images: " + count);
        }
        int n = (int) count;
        int rounds = roundsPerEpoch(n, config);
        if (rounds < 1) {
            throw new IllegalArgumentException(n + " images give no round: one round needs workers x batch x local steps = "
                    + config.workers() + " x " + config.pairsPerWorker() + " x " + config.averagingFrequency()
                    + " images; use fewer workers, local steps or a smaller batch");
        }
        int k = config.averagingFrequency();
        int used = config.workers() * rounds * k;
        INDArray state = initialState();
        int startEpoch = 0;
        RunDirectory run = null;
        MetricsLog metrics = null;
        CheckpointStore store = null;
        Broadcast<INDArray> early = sc.broadcast(earlyParams().dup());
        Broadcast<INDArray> targetB = target == null ? null : sc.broadcast(target.params().dup());
        List<RoundMetrics> out = new ArrayList<>();
        try {
            if (runDir != null) {
                if (RunDirectory.exists(runDir)) {
                    run = RunDirectory.open(runDir);
                    var latest = Checkpoint.latest(runDir);
                    if (latest.isPresent()) {
                        state = restoreState(latest.get());
                        startEpoch = latest.get().epoch() + 1;
                        metrics = run.resumeMetrics(EXTRA_COLUMNS, latest.get().step());
                        LOG.info("resuming {} from {}", runDir, latest.get());
                    }
                } else {
                    run = RunDirectory.create(runDir, manifest(rounds), config.seed(), datasetName, "spark:" + datasetName);
                }
                if (metrics == null) {
                    metrics = run.openMetrics(EXTRA_COLUMNS);
                }
                store = run.checkpoints(config.keepLast());
            }
            for (int epoch = startEpoch; epoch < config.epochs(); epoch++) {
                Broadcast<int[]> positions = sc.broadcast(epochPositions(epoch, n));
                JavaRDD<UmmBatch> batches = epochBatches(epoch, positions, used).persist(StorageLevel.MEMORY_ONLY());
                try {
                    for (int r = 0; r < rounds; r++) {
                        long t0 = ((long) epoch * rounds + r) * k;
                        long start = System.nanoTime();
                        SparkParameterAveraging.Round res = roundOf(sc, worker, state, batches, early, targetB, r * k, k,
                                t0, "epoch " + epoch + " round " + r);
                        double seconds = (System.nanoTime() - start) / 1e9;
                        state = res.params();
                        double ips = (double) res.workers() * k * config.pairsPerWorker() / seconds;
                        RoundMetrics m = new RoundMetrics(epoch, r, t0 + k, res.meanLoss(), res.extraMeans()[0],
                                res.workers(), ips);
                        out.add(m);
                        LOG.info("epoch {} round {} step {}: loss {} dR {} ({} workers, {} img/s)", epoch, r, m.step(),
                                m.loss(), m.dR(), m.workers(), String.format(Locale.ROOT, "%.1f", ips));
                        if (metrics != null) {
                            Map<String, Double> extras = new LinkedHashMap<>();
                            extras.put("dR", m.dR());
                            extras.put("workers", (double) m.workers());
                            metrics.append(epoch, m.step(), m.loss(), lr, ips, extras);
                        }
                        if (!Double.isFinite(m.loss())) {
                            throw new IllegalStateException("loss is " + m.loss() + " at epoch " + epoch + ", round " + r
                                    + " (the row is in metrics.csv; the last checkpoint is the last good state): lower "
                                    + "the learning rates");
                        }
                    }
                } finally {
                    batches.unpersist(false);
                    positions.destroy();
                }
                if (store != null && ((epoch + 1) % config.checkpointEvery() == 0 || epoch == config.epochs() - 1)) {
                    store.save(checkpoint(state, epoch, ((long) epoch + 1) * rounds * k));
                }
            }
        } finally {
            early.destroy();
            if (targetB != null) {
                targetB.destroy();
            }
            if (metrics != null) {
                metrics.close();
            }
        }
        return new Result(fullGraph(state), out);
    }

    private Map<String, Object> manifest(int rounds) {
        Map<String, Object> cfg = new LinkedHashMap<>(manifestExtras);
        cfg.put("method", method.name());
        cfg.put("objective", method.objective().hyperParameters());
        cfg.put("recipe", recipeName);
        cfg.put("batchSize", config.pairsPerWorker());
        Map<String, Object> u = new LinkedHashMap<>(umm.toMap());
        u.put("source", source.path().toAbsolutePath().toString());
        u.put("tap", tap);
        u.put("mode", mode.name().toLowerCase(Locale.ROOT));
        u.put("hypergradient", hypergradient);
        u.put("hvp", hvp.name().toLowerCase(Locale.ROOT));
        u.put("innerLr", innerLr);
        u.put("lr", lr);
        u.put("joint", false);
        cfg.put("umm", u);
        Map<String, Object> training = new LinkedHashMap<>();
        training.put("epochs", config.epochs());
        training.put("roundsPerEpoch", rounds);
        training.put("stepsPerEpoch", rounds * config.averagingFrequency());
        training.put("seed", config.seed());
        cfg.put("training", training);
        cfg.put("trainer", "spark-umm-parameter-averaging");
        cfg.put("spark", config.toManifest());
        cfg.put("sparkMaster", sc.master());
        return cfg;
    }

    /** @return the full online graph with f_l's parameters of {@code state} written back */
    ComputationGraph fullGraph(INDArray state) {
        ComputationGraph last = split.last();
        last.params().assign(worker.params(state).reshape(last.params().shape()));
        copyByName(last, online);
        return online;
    }

    private CheckpointData checkpoint(INDArray state, int epoch, long step) {
        CheckpointData.Builder b = CheckpointData.builder().setGraph(fullGraph(state)).setEpoch(epoch).setStep(step)
                .setSeed(config.seed());
        // the method's auxiliary state (BYOL's target, unchanged outside joint mode), as UmmFineTuner saves it
        method.auxiliaryGraphs().forEach(b::optGraph);
        method.auxiliaryArrays().forEach(b::optArray);
        INDArray[] mom = worker.moments(state);
        b.optArray("umm-adam-m", mom[0].dup());
        b.optArray("umm-adam-v", mom[1].dup());
        List<String> saved = new ArrayList<>(List.of("theta"));
        if (mom.length == 4) {
            b.optArray("umm-adam-m-phi", mom[2].dup());
            b.optArray("umm-adam-v-phi", mom[3].dup());
            saved.add("phi");
        }
        b.optState("ummAdam", saved);
        return b.build();
    }

    /** The state of a checkpoint of this run: its f_l parameters (by name) and Adam moments. */
    private INDArray restoreState(Checkpoint c) {
        ComputationGraph g = c.restoreGraph(false);
        ComputationGraph last = split.last();
        copyByName(g, last);
        INDArray state = worker.initialState(last.params());
        INDArray[] mom = worker.moments(state);
        mom[0].assign(c.readArray("umm-adam-m").reshape(mom[0].length()));
        mom[1].assign(c.readArray("umm-adam-v").reshape(mom[1].length()));
        if (mom.length == 4) {
            mom[2].assign(c.readArray("umm-adam-m-phi").reshape(mom[2].length()));
            mom[3].assign(c.readArray("umm-adam-v-phi").reshape(mom[3].length()));
        }
        return state;
    }

    private static void copyByName(ComputationGraph from, ComputationGraph to) {
        Map<String, INDArray> src = from.paramTable();
        for (Map.Entry<String, INDArray> e : to.paramTable().entrySet()) {
            INDArray s = src.get(e.getKey());
            if (s != null) {
                e.getValue().assign(s);
            }
        }
    }

    /**
     * Builder; {@code setSparkContext, setSource, setMethod, setImages, setImageShape, setRecipe, setConfig} are
     * required. {@code config.pairsPerWorker()} is each worker's batch size B and {@code config.averagingFrequency()}
     * the local steps K per round.
     */
    public static final class Builder {
        private JavaSparkContext sc;
        private Checkpoint source;
        private SslMethod method;
        private JavaRDD<ImageRecord> images;
        private int channels;
        private int height;
        private int width;
        private RecipeFactory recipe;
        private SparkSslConfig config;
        private String tap = Taps.EARLY_DEFAULT;
        private UmmConfig umm = UmmConfig.defaults();
        private String hypergradient = "unrolled";
        private Hypergradient.Difference hvp = Hypergradient.Difference.FORWARD;
        private double innerLr = 0.01;
        private double lr = 1e-4;
        private UmmFineTuner.Mode mode = UmmFineTuner.Mode.UMM;
        private Path runDir;
        private String datasetName = "unnamed";
        private Map<String, Object> manifestExtras = Map.of();

        private Builder() {
        }

        public Builder setSparkContext(JavaSparkContext sc) {
            this.sc = Objects.requireNonNull(sc, "sc");
            return this;
        }

        /** The pretraining checkpoint to fine-tune (its online graph). */
        public Builder setSource(Checkpoint source) {
            this.source = Objects.requireNonNull(source, "source");
            return this;
        }

        /** The source run's method (objective and heads). */
        public Builder setMethod(SslMethod method) {
            this.method = Objects.requireNonNull(method, "method");
            return this;
        }

        /** The training images, indexed 0..N-1 (e.g. {@code sc.parallelize(ImageRecord.fromDataset(d))}). */
        public Builder setImages(JavaRDD<ImageRecord> images) {
            this.images = Objects.requireNonNull(images, "images");
            return this;
        }

        /** Shape of every source image (uint8 CHW). */
        public Builder setImageShape(int channels, int height, int width) {
            if (channels < 1 || height < 1 || width < 1) {
                throw new IllegalArgumentException("image shape must be positive, got " + channels + "x" + height + "x"
                        + width);
            }
            this.channels = channels;
            this.height = height;
            this.width = width;
            return this;
        }

        /** The two-view recipe, built on the workers. */
        public Builder setRecipe(RecipeFactory recipe) {
            this.recipe = Objects.requireNonNull(recipe, "recipe");
            return this;
        }

        /** Epochs, per-worker batch B, workers W, local steps K, seed, checkpoint cadence. */
        public Builder setConfig(SparkSslConfig config) {
            this.config = Objects.requireNonNull(config, "config");
            return this;
        }

        /** Early tap (default stage2). */
        public Builder optTap(String tap) {
            this.tap = Objects.requireNonNull(tap, "tap");
            return this;
        }

        /** Loss weights and sketch settings (default {@link UmmConfig#defaults()}). */
        public Builder optUmm(UmmConfig umm) {
            this.umm = Objects.requireNonNull(umm, "umm");
            return this;
        }

        /** {@code unrolled} (default) or {@code neumann}. */
        public Builder optHypergradient(String name) {
            this.hypergradient = Objects.requireNonNull(name, "hypergradient");
            return this;
        }

        /** Finite-difference scheme of the Hessian-vector products (default forward, as the single-machine run). */
        public Builder optHvp(Hypergradient.Difference d) {
            this.hvp = Objects.requireNonNull(d, "hvp");
            return this;
        }

        /** Inner learning rate eta / Neumann alpha (default 0.01). */
        public Builder optInnerLr(double v) {
            this.innerLr = v;
            return this;
        }

        /** Adam learning rate (default 1e-4). */
        public Builder optLr(double v) {
            this.lr = v;
            return this;
        }

        /** UMM (default) or the SSL_LAST control. */
        public Builder optMode(UmmFineTuner.Mode mode) {
            this.mode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /** Run directory (manifest, metrics.csv, checkpoints); resumed when it already holds a run. */
        public Builder optRunDirectory(Path runDir) {
            this.runDir = Objects.requireNonNull(runDir, "runDir");
            return this;
        }

        /** The dataset name and extra manifest config entries (e.g. the dataset and backbone flags). */
        public Builder optManifest(String datasetName, Map<String, Object> extras) {
            this.datasetName = Objects.requireNonNull(datasetName, "datasetName");
            this.manifestExtras = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(extras, "extras")));
            return this;
        }

        /** @return the fine-tuner; errors name the missing or invalid field */
        public SparkUmmFineTuner build() {
            if (sc == null) {
                throw new IllegalStateException("sparkContext is required (setSparkContext)");
            }
            if (source == null) {
                throw new IllegalStateException("source is required (setSource)");
            }
            if (method == null) {
                throw new IllegalStateException("method is required (setMethod)");
            }
            if (images == null) {
                throw new IllegalStateException("images are required (setImages)");
            }
            if (channels == 0) {
                throw new IllegalStateException("image shape is required (setImageShape)");
            }
            if (recipe == null) {
                throw new IllegalStateException("recipe is required (setRecipe)");
            }
            if (config == null) {
                throw new IllegalStateException("config is required (setConfig)");
            }
            if (!SUPPORTED.contains(method.name())) {
                throw new IllegalArgumentException("method '" + method.name() + "' is not supported by distributed UMM; "
                        + "supported: " + String.join(", ", SUPPORTED) + " (SimSiam's self-targets and MoCo's queue change "
                        + "within a step)");
            }
            if (!Taps.SPLITTABLE.contains(tap)) {
                throw new IllegalArgumentException("tap '" + tap + "' is not one of " + Taps.SPLITTABLE);
            }
            if (!Hypergradient.NAMES.contains(hypergradient)) {
                throw new IllegalArgumentException("hypergradient '" + hypergradient + "' is not one of " + Hypergradient.NAMES);
            }
            if (!(innerLr > 0) || !(lr > 0) || !Double.isFinite(innerLr) || !Double.isFinite(lr)) {
                throw new IllegalArgumentException("innerLr and lr must be positive, got " + innerLr + " and " + lr);
            }
            if (recipe.get().numViews() != 2) {
                throw new IllegalArgumentException("recipe " + recipe.get().name() + " has " + recipe.get().numViews()
                        + " views, expected 2");
            }
            return new SparkUmmFineTuner(this);
        }
    }
}
