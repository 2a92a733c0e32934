package org.umm4j.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.umm4j.backend.Umm4jBackend;
import org.umm4j.cli.BackboneOptions;
import org.umm4j.cli.DatasetOptions;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.Split;
import org.umm4j.nn.MlpHeadConfig;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.ssl.SslLossFunction;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Command line for distributed SSL pretraining ({@link SparkSslPretrainer}): the dataset is read on the driver with
 * the library's dataset flags, parallelised as uint8 records into {@code --workers} partitions, augmented on the
 * workers, trained with parameter averaging; the run directory is the single-machine trainer's (manifest,
 * metrics.csv, checkpoints) and is resumed when it exists. Run it with {@code spark-submit --class
 * org.umm4j.spark.SparkPretrain} (see {@code examples/spark-submit.sh}) or, locally, with
 * {@code --spark-master local[2]}.
 */
@Command(name = "spark-pretrain", mixinStandardHelpOptions = true,
        description = "Distributed SSL pretraining on Apache Spark (parameter averaging).")
public final class SparkPretrain implements Callable<Integer> {
    @Option(names = "--spark-master", description = "Spark master, e.g. local[2]; default: from spark-submit.")
    String master;

    @Option(names = "--method", defaultValue = "simclr",
            description = "simclr, barlow, vicreg, wmse or superinfo (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--epochs", defaultValue = "10", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-per-worker", defaultValue = "64",
            description = "Images N per worker minibatch; the minibatch holds 2N views (default: ${DEFAULT-VALUE}).")
    int batchPerWorker;

    @Option(names = "--workers", defaultValue = "2", description = "Model replicas / partitions (default: ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--averaging-frequency", defaultValue = "5",
            description = "Local minibatches between parameter averages (default: ${DEFAULT-VALUE}).")
    int averagingFrequency;

    @Option(names = "--optimizer", defaultValue = "adam",
            description = "adam or nesterov (momentum 0.9); on Spark, Adam's bias correction restarts every averaging "
                    + "round (see README) (default: ${DEFAULT-VALUE}).")
    String optimizer;

    @Option(names = "--lr", defaultValue = "1e-3", description = "Learning rate before scaling (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--lr-scaling", defaultValue = "none",
            description = "Scale --lr with the workers: none, linear (x workers) or sqrt (default: ${DEFAULT-VALUE}).")
    String lrScaling;

    @Option(names = "--seed", defaultValue = "1", description = "Run seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--checkpoint-every", defaultValue = "1", description = "Epochs between checkpoints (default: ${DEFAULT-VALUE}).")
    int checkpointEvery;

    @Option(names = "--out", required = true, description = "Run directory (resumed when it holds a run).")
    Path out;

    @Mixin
    DatasetOptions dataset = new DatasetOptions();

    @Mixin
    BackboneOptions backbone = new BackboneOptions();

    /** @return {@code lr} scaled for {@code workers} replicas: none, linear or sqrt */
    static double scaledLearningRate(double lr, int workers, String scaling) {
        return switch (scaling) {
            case "none" -> lr;
            case "linear" -> lr * workers;
            case "sqrt" -> lr * Math.sqrt(workers);
            default -> throw new IllegalArgumentException("--lr-scaling '" + scaling + "' is not one of none, linear, sqrt");
        };
    }

    @Override
    public Integer call() throws Exception {
        if (!SslLossFunction.SUPPORTED.contains(method)) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--method '" + method + "' is not one of "
                    + SslLossFunction.SUPPORTED + " (the methods trainable through fit())");
        }
        SparkSslConfig cfg = new SparkSslConfig(epochs, batchPerWorker, workers, averagingFrequency, seed,
                checkpointEvery, 3);
        double effectiveLr = scaledLearningRate(lr, workers, lrScaling);
        IUpdater updater = switch (optimizer) {
            case "adam" -> new Adam(effectiveLr);
            case "nesterov" -> new Nesterovs(effectiveLr, 0.9);
            default -> throw new CommandLine.ParameterException(new CommandLine(this), "--optimizer '" + optimizer
                    + "' is not one of adam, nesterov");
        };
        Umm4jBackend.init();
        ImageDataset data = dataset.load(Split.TRAIN, seed);
        ResNetConfig net = backbone.config(data, seed);
        MlpHeadConfig head = SslGraphs.projectorFor(method, net.featureSize(), backbone.headScale());
        ComputationGraph graph = SslGraphs.build(net, head, new SslLossFunction(method, Map.of()), updater);
        SparkConf conf = new SparkConf().setAppName("umm4j-spark-pretrain");
        if (master != null) {
            conf.setMaster(master);
        }
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("method", method);
        manifest.put("optimizer", optimizer);
        manifest.put("lr", lr);
        manifest.put("lrScaling", lrScaling);
        manifest.put("effectiveLr", effectiveLr);
        manifest.putAll(dataset.toManifest());
        manifest.putAll(backbone.toManifest());
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            JavaRDD<ImageRecord> images = sc.parallelize(ImageRecord.fromDataset(data), workers);
            SparkSslPretrainer.Result r = SparkSslPretrainer.builder().setSparkContext(sc).setGraph(graph)
                    .setImages(images).setImageShape(data.channels(), data.height(), data.width())
                    .setRecipe(RecipeFactory.simclr(data.height(), data.channels())).setConfig(cfg)
                    .optRunDirectory(out).optManifest(dataset.name(), manifest)
                    .optFixedBatch(Math.min(64, data.size())).build().run();
            if (!r.epochs().isEmpty()) {
                SparkSslPretrainer.EpochMetrics last = r.epochs().get(r.epochs().size() - 1);
                System.out.printf("epoch %d: loss %.4f, fixed-batch loss %.4f, %.1f img/s; run in %s%n", last.epoch(),
                        last.loss(), last.fixedBatchLoss(), last.imagesPerSecond(), out);
            }
        }
        return 0;
    }

    /** Entry point for {@code spark-submit --class org.umm4j.spark.SparkPretrain}. */
    public static void main(String[] args) {
        System.exit(new CommandLine(new SparkPretrain()).execute(args));
    }
}
