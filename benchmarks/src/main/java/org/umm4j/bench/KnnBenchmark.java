package org.umm4j.bench;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.umm4j.crr.CodingRate;
import org.umm4j.eval.CostTiming;
import org.umm4j.eval.FeatureRates;
import org.umm4j.eval.KnnClassifier;

import java.util.concurrent.TimeUnit;

/**
 * k-NN evaluation cost on {@code n = 1000} training features ({@code d = 128, 512}, random class-structured, 10
 * classes): every one of {@code nTest} test features is compared with all training features (cosine), as in the
 * UMM paper's protocol (there 10,000 test against 50,000 training images). {@code nTest = 200} keeps the paper's
 * test-to-train ratio; {@code nTest = 1000} is a test set as large as the training set. {@code instanceDrTopK} is
 * the label-free monitor on the same training features (top-10 instance membership, including building it), for a
 * same-JVM ratio; {@link CrrBenchmark} has the dense variants.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 2)
public class KnnBenchmark {
    @Param({"128", "512"})
    public int d;

    @Param({"200", "1000"})
    public int nTest;

    private static final int N = 1000;
    private static final int CLASSES = 10;

    private INDArray train;
    private INDArray test;
    private int[] trainLabels;
    private int[] testLabels;
    private final CodingRate cr = CodingRate.withDefaults();

    @Setup
    public void setup() {
        trainLabels = new int[N];
        testLabels = new int[nTest];
        train = CostTiming.randomFeatures(N, d, CLASSES, 2.0, 1, trainLabels);
        test = CostTiming.randomFeatures(nTest, d, CLASSES, 2.0, 1, testLabels);
    }

    @Benchmark
    public double knn5Majority() {
        return KnnClassifier.majority(5).evaluate(train, trainLabels, test, testLabels, CLASSES).top1();
    }

    @Benchmark
    public double knn200Weighted() {
        return KnnClassifier.weighted(200, 0.1).evaluate(train, trainLabels, test, testLabels, CLASSES).top1();
    }

    @Benchmark
    public double instanceDrTopK() {
        return FeatureRates.instanceRateReductionTopK(cr, train, FeatureRates.DEFAULT_TAU, 10);
    }
}
