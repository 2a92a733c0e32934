package org.umm4j.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.umm4j.backend.Umm4jBackend;
import org.umm4j.cli.PretrainCommand;
import org.umm4j.cli.UmmOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * Command line for distributed UMM fine-tuning ({@link SparkUmmFineTuner}): {@code umm4j umm}'s flags
 * ({@link UmmOptions}: the source run is rebuilt from its manifest, dataset, backbone, method and recipe included)
 * plus the Spark ones. {@code --batch-size} is each worker's batch. The result is a run directory like
 * {@code umm4j umm}'s, so {@code umm4j eval --run DIR} evaluates it; an existing run in {@code --out} is resumed from
 * its latest checkpoint (as {@code SparkPretrain} does). Run it with {@code spark-submit --class
 * org.umm4j.spark.SparkUmm} (see {@code examples/spark-submit.sh}) or, locally, with {@code --spark-master local[2]}.
 */
@Command(name = "spark-umm", mixinStandardHelpOptions = true,
        description = "Distributed UMM fine-tuning on Apache Spark (own parameter averaging of f_l and Adam's moments).")
public final class SparkUmm implements Callable<Integer> {
    @Option(names = "--spark-master", description = "Spark master, e.g. local[2]; default: from spark-submit.")
    String master;

    @Option(names = "--workers", defaultValue = "2", description = "Workers W (partitions, one f_l replica each) (default: ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--local-steps", defaultValue = "1",
            description = "UMM steps K each worker runs between two averages (default: ${DEFAULT-VALUE}).")
    int localSteps;

    @Option(names = "--checkpoint-every", defaultValue = "1", description = "Epochs between checkpoints (default: ${DEFAULT-VALUE}).")
    int checkpointEvery;

    @Mixin
    UmmOptions options = new UmmOptions();

    @Override
    public Integer call() throws Exception {
        options.validate();
        Umm4jBackend.init();
        UmmOptions.Source src = options.loadSource();
        SparkSslConfig cfg = new SparkSslConfig(options.epochs(), src.batchSize(), workers, localSteps, options.seed(),
                checkpointEvery, 3);
        // the source run's recipe, rebuilt on each worker from the image shape (the dataset stays on the driver)
        String rm = src.recipeMethod();
        int c = src.data().channels();
        int h = src.data().height();
        int w = src.data().width();
        int lc = src.localCrops();
        double jitter = src.jitter();
        Double cropMin = src.cropScaleMin();
        RecipeFactory recipe = () -> PretrainCommand.recipeFor(rm, c, h, w, lc, jitter, cropMin);
        SparkConf conf = new SparkConf().setAppName("umm4j-spark-umm");
        if (master != null) {
            conf.setMaster(master);
        }
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            JavaRDD<ImageRecord> images = sc.parallelize(ImageRecord.fromDataset(src.data()), workers);
            SparkUmmFineTuner.Result r = SparkUmmFineTuner.builder().setSparkContext(sc).setSource(src.checkpoint())
                    .setMethod(src.method()).setImages(images).setImageShape(c, h, w).setRecipe(recipe).setConfig(cfg)
                    .optTap(options.tap()).optUmm(options.ummConfig()).optHypergradient(options.hypergradient())
                    .optHvp(options.hvp()).optInnerLr(options.innerLr()).optLr(options.lr()).optMode(options.mode())
                    .optRunDirectory(options.out()).optManifest(src.dataset().name(), src.manifestExtras())
                    .build().run();
            if (!r.rounds().isEmpty()) {
                SparkUmmFineTuner.RoundMetrics last = r.rounds().get(r.rounds().size() - 1);
                System.out.printf(Locale.ROOT, "epoch %d round %d step %d: loss %.4f, dR %.4f, %d workers, %.1f img/s; "
                        + "run in %s%n", last.epoch(), last.round(), last.step(), last.loss(), last.dR(), last.workers(),
                        last.imagesPerSecond(), options.out());
            }
        }
        return 0;
    }

    /** Entry point for {@code spark-submit --class org.umm4j.spark.SparkUmm}. */
    public static void main(String[] args) {
        System.exit(new CommandLine(new SparkUmm()).execute(args));
    }
}
