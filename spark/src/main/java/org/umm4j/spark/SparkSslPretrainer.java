package org.umm4j.spark;

import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.umm4j.data.augment.SampleSeeds;
import org.umm4j.train.Checkpoint;
import org.umm4j.train.CheckpointData;
import org.umm4j.train.CheckpointStore;
import org.umm4j.train.MetricsLog;
import org.umm4j.train.RunDirectory;
import scala.Tuple2;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Distributed SSL pretraining through DL4J's {@link SparkComputationGraph} with a
 * {@link ParameterAveragingTrainingMaster}, for a graph built by {@link SslGraphs} (a {@code LossLayer} with an
 * {@link org.umm4j.ssl.SslLossFunction}).
 *
 * <p>Per epoch the driver: (1) shuffles the uint8 {@link ImageRecord}s into {@code workers} partitions with keys
 * {@code derive(seed, epoch, index)} (a random, seeded partition and order each epoch); (2) on the workers,
 * {@link PairBatchFunction} augments the two views of each image and stacks N images into one {@code [2N, ...]}
 * DataSet, dropping a partition's last incomplete group; (3) {@code SparkComputationGraph.fit} trains: each of the
 * {@code workers} replicas starts from the driver's parameters and updater state, runs {@code averagingFrequency}
 * minibatches, and the driver averages parameters and updater state; repeated until the epoch's batches are used.
 * The training master uses the {@code Direct} approach (the batches are already in the RDD; {@code Export} would
 * write every epoch's freshly augmented views to disk once more) and {@code batchSizePerWorker = 2N} equal to the
 * rows of each DataSet, so DL4J never merges or splits the stacked pairs.
 *
 * <p>On the driver, like the single-machine trainer: a {@link RunDirectory} (manifest, {@code metrics.csv} with
 * per-epoch rows: the training score of the last averaging round as {@code loss}, the first layer's learning rate,
 * images/s counting both views as two images and the extra columns {@code fixed_batch_loss}, the loss on a fixed
 * augmented batch with batch statistics (comparable across epochs, unlike the noisy training score), and
 * {@code batches}), and a checkpoint via {@link CheckpointStore} every {@code checkpointEvery} epochs. An existing
 * run directory is resumed from its latest checkpoint (the graph with its updater state; augmentations and shuffles
 * are functions of (seed, epoch), so the remaining epochs see the data they would have seen).
 *
 * <p>A whole-batch loss is a per-worker batch loss: SimCLR's negatives, Barlow Twins' cross-correlation and
 * VICReg's variance/covariance are computed over one worker's N images, never across workers, and BatchNorm
 * statistics are per worker minibatch (running statistics are averaged like parameters). DL4J M2's workers start
 * every averaging round at iteration 0, so Adam's bias correction restarts each round (m and v carry on): momentum
 * SGD (Nesterov) reproduces single-machine training exactly, Adam does not (see the module README).
 */
public final class SparkSslPretrainer {
    private static final Logger LOG = LoggerFactory.getLogger(SparkSslPretrainer.class);
    /** Extra metrics columns written by this trainer. */
    public static final List<String> EXTRA_COLUMNS = List.of("fixed_batch_loss", "batches");

    /** One epoch's figures. */
    public record EpochMetrics(int epoch, long step, double loss, double fixedBatchLoss, int batches,
                               double imagesPerSecond) {
    }

    /** What {@link #run()} returns: the trained graph (the driver's copy) and one entry per epoch run. */
    public record Result(ComputationGraph graph, List<EpochMetrics> epochs) {
    }

    private final JavaSparkContext sc;
    private final ComputationGraph initialGraph;
    private final JavaRDD<ImageRecord> images;
    private final int channels;
    private final int height;
    private final int width;
    private final RecipeFactory recipe;
    private final SparkSslConfig config;
    private final Path runDir;
    private final Map<String, Object> manifestExtras;
    private final String datasetName;
    private final int fixedBatchPairs;

    private SparkSslPretrainer(Builder b) {
        this.sc = b.sc;
        this.initialGraph = b.graph;
        this.images = b.images;
        this.channels = b.channels;
        this.height = b.height;
        this.width = b.width;
        this.recipe = b.recipe;
        this.config = b.config;
        this.runDir = b.runDir;
        this.manifestExtras = b.manifestExtras;
        this.datasetName = b.datasetName;
        this.fixedBatchPairs = b.fixedBatchPairs;
    }

    /** @return a builder: {@code setX} required, {@code optX} optional */
    public static Builder builder() {
        return new Builder();
    }

    /** The epoch's minibatches: a seeded shuffle into {@code workers} partitions, then augmentation on the workers. */
    JavaRDD<DataSet> epochBatches(int epoch) {
        long seed = config.seed();
        return images
                .mapToPair(r -> new Tuple2<>(SampleSeeds.derive(seed, epoch, r.index()), r))
                .repartitionAndSortWithinPartitions(new HashPartitioner(config.workers()))
                .values()
                .mapPartitions(new PairBatchFunction(recipe, channels, height, width, config.pairsPerWorker(), seed, epoch));
    }

    /**
     * The training master for these settings: {@code workers} replicas, minibatches of {@code 2N} rows (equal to each
     * DataSet's rows, so DL4J never re-batches the stacked pairs), averaging every {@code averagingFrequency}
     * minibatches, updater state averaged too, the {@code Direct} approach, no prefetch thread.
     */
    public static ParameterAveragingTrainingMaster trainingMaster(SparkSslConfig config) {
        int rows = config.rowsPerWorkerBatch();
        return new ParameterAveragingTrainingMaster.Builder(config.workers(), rows)
                .batchSizePerWorker(rows)
                .averagingFrequency(config.averagingFrequency())
                .workerPrefetchNumBatches(0)
                .rddTrainingApproach(RDDTrainingApproach.Direct)
                .saveUpdater(true)
                .rngSeed(config.seed())
                .build();
    }

    /** Trains all (remaining) epochs. */
    public Result run() {
        RunDirectory run = null;
        ComputationGraph graph = initialGraph;
        int startEpoch = 0;
        long step = 0;
        if (runDir != null) {
            if (RunDirectory.exists(runDir)) {
                run = RunDirectory.open(runDir);
                Optional<Checkpoint> latest = Checkpoint.latest(runDir);
                if (latest.isPresent()) {
                    graph = latest.get().restoreGraph(true);
                    startEpoch = latest.get().epoch() + 1;
                    step = latest.get().step();
                    LOG.info("resuming {} from {}", runDir, latest.get());
                }
            } else {
                Map<String, Object> cfg = new LinkedHashMap<>(manifestExtras);
                cfg.put("trainer", "spark-parameter-averaging");
                cfg.put("recipe", recipe.get().name());
                cfg.put("spark", config.toManifest());
                cfg.put("sparkMaster", sc.master());
                run = RunDirectory.create(runDir, cfg, config.seed(), datasetName, "spark:" + datasetName);
            }
        }
        DataSet fixed = fixedBatchPairs > 0 ? fixedBatch() : null;
        List<EpochMetrics> out = new ArrayList<>();
        SparkComputationGraph spark = new SparkComputationGraph(sc, graph, trainingMaster(config));
        MetricsLog metrics = null;
        try {
            if (run != null) {
                metrics = startEpoch > 0 ? run.resumeMetrics(EXTRA_COLUMNS, step) : run.openMetrics(EXTRA_COLUMNS);
            }
            CheckpointStore store = run == null ? null : run.checkpoints(config.keepLast());
            for (int epoch = startEpoch; epoch < config.epochs(); epoch++) {
                long t0 = System.nanoTime();
                JavaRDD<DataSet> batches = epochBatches(epoch).persist(StorageLevel.MEMORY_ONLY());
                int n = (int) batches.count();
                if (n == 0) {
                    throw new IllegalStateException("epoch " + epoch + " has no minibatch: every partition holds fewer "
                            + "than pairsPerWorker=" + config.pairsPerWorker() + " images (" + config.workers()
                            + " workers); use fewer workers, smaller batches or more images");
                }
                spark.getNetwork().getConfiguration().setEpochCount(epoch);
                spark.fit(batches);
                batches.unpersist(false);
                double seconds = (System.nanoTime() - t0) / 1e9;
                ComputationGraph g = spark.getNetwork();
                step += (n + config.workers() - 1) / config.workers();
                double fixedLoss = fixed == null ? Double.NaN : g.score(fixed, true);
                double ips = 2.0 * n * config.pairsPerWorker() / seconds;
                EpochMetrics m = new EpochMetrics(epoch, step, spark.getScore(), fixedLoss, n, ips);
                out.add(m);
                LOG.info("epoch {} step {} loss {} fixed-batch loss {} ({} batches, {} img/s)", epoch, step, m.loss(),
                        fixedLoss, n, String.format("%.1f", ips));
                if (!Double.isFinite(m.loss())) {
                    throw new IllegalStateException("training score is " + m.loss() + " after epoch " + epoch
                            + ": lower the learning rate");
                }
                if (metrics != null) {
                    Map<String, Double> extras = new LinkedHashMap<>();
                    if (fixed != null) {
                        extras.put("fixed_batch_loss", fixedLoss);
                    }
                    extras.put("batches", (double) n);
                    metrics.append(epoch, step, m.loss(), learningRate(g), ips, extras);
                }
                if (store != null && ((epoch + 1) % config.checkpointEvery() == 0 || epoch == config.epochs() - 1)) {
                    store.save(CheckpointData.builder().setGraph(g).setEpoch(epoch).setStep(step)
                            .setSeed(config.seed()).build());
                }
            }
        } finally {
            if (metrics != null) {
                metrics.close();
            }
        }
        return new Result(spark.getNetwork(), out);
    }

    /** A fixed batch: the first {@code fixedBatchPairs} images (by index) with their views at epoch -1. */
    private DataSet fixedBatch() {
        int pairs = fixedBatchPairs;   // a local, so that the closure does not capture this trainer
        List<ImageRecord> first = images.filter(r -> r.index() < pairs).collect();
        List<ImageRecord> sorted = new ArrayList<>(first);
        sorted.sort((a, b) -> Long.compare(a.index(), b.index()));
        if (sorted.size() < 2) {
            throw new IllegalStateException("fixed batch needs at least 2 images with index < " + fixedBatchPairs);
        }
        PairBatchFunction f = new PairBatchFunction(recipe, channels, height, width, sorted.size(), config.seed(), -1);
        return f.batch(recipe.get(), sorted);
    }

    private static double learningRate(ComputationGraph g) {
        try {
            return g.getLearningRate(g.getLayers()[0].conf().getLayer().getLayerName());
        } catch (RuntimeException e) {
            return Double.NaN;   // layers without an updater (e.g. a frozen first layer)
        }
    }

    /** Builder; {@code setSparkContext, setGraph, setImages, setImageShape, setRecipe, setConfig} are required. */
    public static final class Builder {
        private JavaSparkContext sc;
        private ComputationGraph graph;
        private JavaRDD<ImageRecord> images;
        private int channels;
        private int height;
        private int width;
        private RecipeFactory recipe;
        private SparkSslConfig config;
        private Path runDir;
        private Map<String, Object> manifestExtras = Map.of();
        private String datasetName = "unnamed";
        private int fixedBatchPairs;

        private Builder() {
        }

        /** The Spark context (driver). */
        public Builder setSparkContext(JavaSparkContext sc) {
            this.sc = Objects.requireNonNull(sc, "sc");
            return this;
        }

        /** The initialised graph ({@link SslGraphs#build}); its parameters are the starting point. */
        public Builder setGraph(ComputationGraph graph) {
            this.graph = Objects.requireNonNull(graph, "graph");
            return this;
        }

        /** The training images, from any source (e.g. {@code sc.parallelize(ImageRecord.fromDataset(d))}). */
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

        /** The two-view augmentation, built on the workers. */
        public Builder setRecipe(RecipeFactory recipe) {
            this.recipe = Objects.requireNonNull(recipe, "recipe");
            return this;
        }

        /** Training settings. */
        public Builder setConfig(SparkSslConfig config) {
            this.config = Objects.requireNonNull(config, "config");
            return this;
        }

        /** Run directory (manifest, metrics.csv, checkpoints); resumed when it already holds a run. */
        public Builder optRunDirectory(Path runDir) {
            this.runDir = Objects.requireNonNull(runDir, "runDir");
            return this;
        }

        /** Extra manifest config entries (e.g. the dataset and backbone flags) and the dataset name. */
        public Builder optManifest(String datasetName, Map<String, Object> extras) {
            this.datasetName = Objects.requireNonNull(datasetName, "datasetName");
            this.manifestExtras = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(extras, "extras")));   // values may be null (no --data-dir)
            return this;
        }

        /** Record the loss on a fixed augmented batch of the first {@code pairs} images after every epoch (0 = off). */
        public Builder optFixedBatch(int pairs) {
            if (pairs != 0 && pairs < 2) {
                throw new IllegalArgumentException("fixed batch pairs must be 0 (off) or >= 2, got " + pairs);
            }
            this.fixedBatchPairs = pairs;
            return this;
        }

        /** @return the trainer */
        public SparkSslPretrainer build() {
            if (sc == null) {
                throw new IllegalStateException("sparkContext is required (setSparkContext)");
            }
            if (graph == null) {
                throw new IllegalStateException("graph is required (setGraph)");
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
            return new SparkSslPretrainer(this);
        }
    }
}
