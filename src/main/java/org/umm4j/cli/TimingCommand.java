package org.umm4j.cli;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.umm4j.backend.Umm4jBackend;
import org.umm4j.data.ImageDataset;
import org.umm4j.eval.CostTiming;
import org.umm4j.eval.FeatureExtractor;
import org.umm4j.eval.FeatureRates;
import org.umm4j.nn.Taps;
import org.umm4j.train.Checkpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code umm4j timing}: wall-clock seconds of CRR (instance dR, dense and top-k), 5-NN and a linear probe on the same
 * features, and their ratios (the UMM paper's Table 9: CRR 4.03 s, k-NN 13.63 s, linear probe 92.76 s on CIFAR-10).
 * Features: the last tap of a run's latest checkpoint on a seeded subset of {@code --n} training and
 * {@code --n-test} test images ({@code --run DIR}), or random class-structured features ({@code --n --dim}).
 */
@Command(name = "timing", mixinStandardHelpOptions = true,
        description = "Time CRR (dense and top-k instance dR) vs k-NN vs linear probe on the same features.")
final class TimingCommand implements Callable<Integer> {
    @Option(names = "--run", description = "Use the last-tap features of this run's latest checkpoint.")
    Path run;

    @Option(names = "--n", defaultValue = "1000", description = "Training features (default: ${DEFAULT-VALUE}).")
    int n;

    @Option(names = "--n-test", defaultValue = "200",
            description = "Test features, each classified against all training features (default: ${DEFAULT-VALUE}, "
                    + "the paper's 10,000 : 50,000 test-to-train ratio at n = 1000).")
    int nTest;

    @Option(names = "--dim", defaultValue = "512", description = "Feature dimension of random features (default: ${DEFAULT-VALUE}).")
    int dim;

    @Option(names = "--classes", defaultValue = "10", description = "Classes of random features (default: ${DEFAULT-VALUE}).")
    int classes;

    @Option(names = "--probe-epochs", defaultValue = "100", description = "Linear-probe epochs (default: ${DEFAULT-VALUE}).")
    int probeEpochs;

    @Option(names = "--top-k", defaultValue = "10", description = "Neighbours per row of the sparse membership (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--warmup", defaultValue = "" + CostTiming.DEFAULT_WARMUPS, description = "Untimed runs of each "
            + "method first, so that the JIT has compiled them as in a long-lived evaluation; the first run's seconds are "
            + "printed too (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--repeats", defaultValue = "3", description = "Timed repetitions, median reported (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--seed", defaultValue = "0", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--crr-subset", defaultValue = "0",
            description = "Compute CRR on a seeded subset of this many training features, as the monitor does, while "
                    + "k-NN and the probe use all --n (0 = all; default: ${DEFAULT-VALUE}).")
    int crrSubset;

    @Option(names = "--no-dense", description = "Skip the dense-membership CRR (minutes at n = 1000, dim = 512).")
    boolean noDense;

    @Override
    public Integer call() throws Exception {
        try {
            if (n < 2 || nTest < 1 || dim < 1 || classes < 2 || probeEpochs < 1 || repeats < 1 || warmup < 0) {
                throw new IllegalArgumentException("need --n >= 2, --n-test >= 1, --dim >= 1, --classes >= 2, "
                        + "--probe-epochs >= 1, --repeats >= 1, --warmup >= 0");
            }
            if (crrSubset < 0 || crrSubset == 1) {
                throw new IllegalArgumentException("--crr-subset must be 0 (all) or at least 2, got " + crrSubset);
            }
            if (topK < 1 || topK > (crrSubset >= 2 ? Math.min(n, crrSubset) : n) - 1) {
                throw new IllegalArgumentException("--top-k must be in [1, n - 1], got " + topK);
            }
            Umm4jBackend.init();
            INDArray train;
            INDArray test;
            int[] ytr;
            int[] yte;
            int k;
            String source;
            if (run != null) {
                RunInputs in = RunInputs.open(run);
                Checkpoint c = Checkpoint.latest(run).orElseThrow(() -> new IllegalArgumentException("run " + run
                        + " has no checkpoints"));
                ImageDataset tr = in.train();
                ImageDataset te = in.test();
                FeatureExtractor fx = new FeatureExtractor(c.restoreGraph(false), in.normalize(tr),
                        FeatureExtractor.DEFAULT_BATCH);
                int[] itr = FeatureRates.subset(tr.size(), n, seed);
                int[] ite = FeatureRates.subset(te.size(), nTest, seed + 1);
                train = fx.extract(tr, itr, Taps.POOL).get(Taps.POOL);
                test = fx.extract(te, ite, Taps.POOL).get(Taps.POOL);
                ytr = labels(tr, itr);
                yte = labels(te, ite);
                k = tr.numClasses();
                source = c + " of " + run + ", tap pool";
            } else {
                ytr = new int[n];
                yte = new int[nTest];
                train = CostTiming.randomFeatures(n, dim, classes, 2.0, seed, ytr);
                test = CostTiming.randomFeatures(nTest, dim, classes, 2.0, seed, yte);
                k = classes;
                source = "random class-structured features (seed " + seed + ")";
            }
            CostTiming t = CostTiming.measure(train, ytr, test, yte, k, probeEpochs, topK, repeats, seed, !noDense,
                    crrSubset, warmup);
            long crrRows = crrSubset <= 0 || crrSubset >= train.rows() ? train.rows() : crrSubset;
            System.out.printf(Locale.ROOT, "features: %s; train %d x %d, test %d; CRR on %d training features; "
                    + "median of %d runs after %d untimed%n", source, train.rows(), train.columns(), test.rows(), crrRows,
                    repeats, warmup);
            if (!noDense) {
                System.out.printf(Locale.ROOT, "CRR dense instance dR   %9.4f s  (dR %.4f)%n", t.crrDenseSeconds(),
                        t.crrDense());
            }
            System.out.printf(Locale.ROOT, "CRR top-%d instance dR  %9.4f s  first run %8.4f s  (dR %.4f)%n", topK,
                    t.crrTopKSeconds(), t.firstRun().crrTopKSeconds(), t.crrTopK());
            System.out.printf(Locale.ROOT, "5-NN (%d x %d)         %9.4f s  first run %8.4f s  (top-1 %.4f)%n",
                    test.rows(), train.rows(), t.knnSeconds(), t.firstRun().knnSeconds(), t.knnTop1());
            System.out.printf(Locale.ROOT, "linear probe (%d ep)    %9.4f s  first run %8.4f s  (top-1 %.4f)%n",
                    probeEpochs, t.probeSeconds(), t.firstRun().probeSeconds(), t.probeTop1());
            if (!noDense) {
                System.out.printf(Locale.ROOT, "ratios to dense CRR: probe %.1fx, k-NN %.2fx%n", t.probeOverCrrDense(),
                        t.knnOverCrrDense());
            }
            System.out.printf(Locale.ROOT, "ratios to top-%d CRR: probe %.1fx, k-NN %.2fx (paper, Table 9: probe 23.0x, "
                    + "k-NN 3.38x)%n", topK, t.probeOverCrrTopK(), t.knnOverCrrTopK());
            System.out.printf(Locale.ROOT, "first runs (fresh JVM, JIT compilation included): probe %.1fx, k-NN %.2fx%n",
                    t.firstRunProbeOverCrrTopK(), t.firstRunKnnOverCrrTopK());
            return 0;
        } catch (IllegalArgumentException e) {
            System.err.println("umm4j timing: " + e.getMessage());
            return 2;
        }
    }

    private static int[] labels(ImageDataset d, int[] idx) {
        int[] y = new int[idx.length];
        for (int i = 0; i < idx.length; i++) {
            y[i] = d.label(idx[i]);
        }
        return y;
    }
}
