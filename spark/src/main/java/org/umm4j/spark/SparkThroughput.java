package org.umm4j.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.learning.config.Adam;
import org.umm4j.data.InMemoryImageDataset;
import org.umm4j.data.SyntheticDataset;
import org.umm4j.nn.MlpHeadConfig;
import org.umm4j.nn.ResNetConfig;
import org.umm4j.nn.Stem;
import org.umm4j.ssl.SslLossFunction;

import java.util.Map;

/**
 * Whole-run throughput of distributed SimCLR pretraining on local Spark masters: for each master
 * {@code local[k]} (k = 1, 2 by default, one model replica per thread) it trains a narrow CIFAR ResNet-18 (width
 * 0.0625) with a 32-16 projector on synthetic 32x32 images and prints the mean images/s (both views counted) of
 * the epochs after the first (warm-up). Arguments: {@code [images] [pairsPerWorker] [epochs] [averagingFrequency]
 * [threads...]}; set {@code OMP_NUM_THREADS=1} so that ND4J's threads do not compete with Spark's.
 */
public final class SparkThroughput {
    private SparkThroughput() {
    }

    public static void main(String[] args) {
        int images = args.length > 0 ? Integer.parseInt(args[0]) : 256;
        int pairs = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        int epochs = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int avg = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        int[] threads = args.length > 4 ? java.util.Arrays.stream(args, 4, args.length).mapToInt(Integer::parseInt).toArray()
                : new int[]{1, 2};
        InMemoryImageDataset data = SyntheticDataset.generate(new SyntheticDataset.Config(8, images / 8, 32, 3, 5));
        for (int k : threads) {
            ResNetConfig b = ResNetConfig.builder().setDepth(18).setStem(Stem.CIFAR).setInput(3, 32, 32)
                    .optWidthMultiplier(0.0625).optSeed(1).build();
            MlpHeadConfig head = MlpHeadConfig.builder().setName("projector").setInputSize(b.featureSize())
                    .optHiddenSizes(32).setOutputSize(16).build();
            ComputationGraph g = SslGraphs.build(b, head, new SslLossFunction("simclr", Map.of()), new Adam(1e-3));
            SparkConf conf = new SparkConf().setMaster("local[" + k + "]").setAppName("umm4j-throughput")
                    .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
                    .set("spark.driver.bindAddress", "127.0.0.1");
            try (JavaSparkContext sc = new JavaSparkContext(conf)) {
                SparkSslPretrainer.Result r = SparkSslPretrainer.builder().setSparkContext(sc).setGraph(g)
                        .setImages(sc.parallelize(ImageRecord.fromDataset(data), k)).setImageShape(3, 32, 32)
                        .setRecipe(RecipeFactory.simclr(32, 3))
                        .setConfig(new SparkSslConfig(epochs, pairs, k, avg, 1, 1, 1)).build().run();
                double sum = 0;
                for (int e = 1; e < r.epochs().size(); e++) {
                    sum += r.epochs().get(e).imagesPerSecond();
                }
                double mean = r.epochs().size() > 1 ? sum / (r.epochs().size() - 1) : r.epochs().get(0).imagesPerSecond();
                System.out.printf("local[%d]: %d workers, %d pairs/worker, averaging every %d: %.1f images/s "
                        + "(mean of epochs 2..%d)%n", k, k, pairs, avg, mean, epochs);
            }
        }
    }
}
