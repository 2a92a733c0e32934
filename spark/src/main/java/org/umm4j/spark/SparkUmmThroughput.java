package org.umm4j.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.umm4j.backend.Umm4jBackend;
import org.umm4j.data.InMemoryImageDataset;
import org.umm4j.data.SyntheticDataset;
import org.umm4j.io.AtomicFiles;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.Stem;
import org.umm4j.ssl.MethodConfig;
import org.umm4j.ssl.Methods;
import org.umm4j.ssl.SslMethod;
import org.umm4j.train.Checkpoint;
import org.umm4j.train.CheckpointData;
import org.umm4j.train.CheckpointStore;
import org.umm4j.train.MetricsLog;
import org.umm4j.train.RunDirectory;
import org.umm4j.umm.UmmConfig;
import org.umm4j.umm.UmmFineTuner;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Whole-run throughput of distributed UMM fine-tuning ({@link SparkUmmFineTuner}) on local Spark masters: for each
 * master {@code local[k]} (k = 1, 2 by default, one f_l replica per thread) it fine-tunes a freshly initialised
 * SimCLR network (CIFAR ResNet-18 of width 0.0625, heads at 1/64, split at stage 2) on synthetic 32x32 images with
 * the default UMM settings (unrolled hypergradient, sketch k = 8 on 32 samples, dense membership) and prints the
 * mean images/s (each image counted once, as the single-machine run counts) of the rounds after the first epoch;
 * first the single-machine {@link UmmFineTuner} on the same work (mean of its steps' images/s after the first epoch).
 * Arguments: {@code [images] [batchPerWorker] [epochs] [localSteps] [threads...]}; set {@code OMP_NUM_THREADS=1}
 * so that ND4J's threads do not compete with Spark's.
 */
public final class SparkUmmThroughput {
    private SparkUmmThroughput() {
    }

    public static void main(String[] args) throws Exception {
        int images = args.length > 0 ? Integer.parseInt(args[0]) : 256;
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        int epochs = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int k = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        int[] threads = args.length > 4 ? java.util.Arrays.stream(args, 4, args.length).mapToInt(Integer::parseInt).toArray()
                : new int[]{1, 2};
        Umm4jBackend.init();
        InMemoryImageDataset data = SyntheticDataset.generate(new SyntheticDataset.Config(8, images / 8, 32, 3, 5));
        ResNetConfig net = ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, 32, 32)
                .optWidthMultiplier(0.0625).optSeed(1).build();
        SslMethod method = Methods.create(MethodConfig.of("simclr", net, 100, 5).withHeadScale(1.0 / 64));
        Path tmp = Files.createTempDirectory("umm4j-spark-umm-throughput");
        try {
            Checkpoint source = new CheckpointStore(tmp.resolve("checkpoints"), 1).save(CheckpointData.builder()
                    .setGraph(method.createOnline().graph()).setEpoch(0).setStep(0).setSeed(1).build());
            // the single-machine loop on the same work, for the cost of Spark and the per-round rebuild
            Path single = tmp.resolve("single");
            UmmFineTuner.builder().setSource(source).setDataset(data)
                    .setRecipe(RecipeFactory.simclr(32, 3).get()).setMethod(method).setOut(single).setEpochs(epochs)
                    .setBatchSize(batch).optUmm(UmmConfig.defaults()).optLr(1e-3).optSeed(1).build().run(false);
            double sum1 = 0;
            int n1 = 0;
            for (Map<String, String> row : MetricsLog.read(single.resolve(RunDirectory.METRICS))) {
                if (Integer.parseInt(row.get("epoch")) > 0 || epochs == 1) {
                    sum1 += Double.parseDouble(row.get("img_per_s"));
                    n1++;
                }
            }
            System.out.printf(Locale.ROOT, "single machine (UmmFineTuner): batch %d: %.2f images/s (mean of %d steps%s)%n",
                    batch, sum1 / n1, n1, epochs > 1 ? " after epoch 1" : "");
            for (int w : threads) {
                SparkConf conf = new SparkConf().setMaster("local[" + w + "]").setAppName("umm4j-umm-throughput")
                        .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
                        .set("spark.driver.bindAddress", "127.0.0.1");
                try (JavaSparkContext sc = new JavaSparkContext(conf)) {
                    SparkUmmFineTuner.Result r = SparkUmmFineTuner.builder().setSparkContext(sc).setSource(source)
                            .setMethod(method).setImages(sc.parallelize(ImageRecord.fromDataset(data), w))
                            .setImageShape(3, 32, 32).setRecipe(RecipeFactory.simclr(32, 3))
                            .setConfig(new SparkSslConfig(epochs, batch, w, k, 1, 1, 1)).optUmm(UmmConfig.defaults())
                            .optLr(1e-3).build().run();
                    double sum = 0;
                    int n = 0;
                    for (SparkUmmFineTuner.RoundMetrics m : r.rounds()) {
                        if (m.epoch() > 0 || epochs == 1) {
                            sum += m.imagesPerSecond();
                            n++;
                        }
                    }
                    System.out.printf(Locale.ROOT, "local[%d]: %d workers, batch %d/worker, %d local steps/round: %.2f "
                            + "images/s (mean of %d rounds%s)%n", w, w, batch, k, sum / n, n,
                            epochs > 1 ? " after epoch 1" : "");
                }
            }
        } finally {
            AtomicFiles.deleteRecursively(tmp);
        }
    }
}
