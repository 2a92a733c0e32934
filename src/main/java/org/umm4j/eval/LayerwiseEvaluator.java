package org.umm4j.eval;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.umm4j.crr.CodingRate;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.augment.Normalize;
import org.umm4j.nn.Taps;
import org.umm4j.train.Checkpoint;
import org.umm4j.train.RunDirectory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Layer-wise evaluation over a run's checkpoints (UMM paper, arXiv 2410.00772, Section 3 and Figure 2): for every
 * saved epoch and for an early tap (default {@link Taps#STAGE2}) and the last tap ({@link Taps#POOL}),
 * <ul>
 *   <li>k-NN top-1: 5-NN majority (the paper) and 200-NN weighted with T = 0.1 (Wu et al. 2018), every test image
 *       against the whole training set ({@link KnnClassifier});</li>
 *   <li>linear probe top-1/top-5 on the whole training set, scored on the test set ({@link LinearProbe});</li>
 *   <li>dR with the label membership and with the label-free instance membership (eps 0.5, tau 0.5, rows
 *       L2-normalised, FLOAT; {@link FeatureRates}) on a fixed seeded subset of training images, the same subset for
 *       every checkpoint.</li>
 * </ul>
 * Features come from {@link FeatureExtractor} (inference mode, no augmentation, the recipe's normalisation; feature
 * maps global-average-pooled). Cost per checkpoint: two forward passes over train + test, the probe (dominant) and
 * the coding rates.
 *
 * <p>Built with {@link #builder()}: required {@code setX}, optional {@code optX}.
 */
public final class LayerwiseEvaluator {
    private static final Logger LOG = LoggerFactory.getLogger(LayerwiseEvaluator.class);

    private final ImageDataset train;
    private final ImageDataset test;
    private final Normalize normalize;
    private final String earlyTap;
    private final String lastTap;
    private final LinearProbe probe;
    private final int drSubset;
    private final double eps;
    private final double tau;
    private final long seed;
    private final int batchSize;

    private LayerwiseEvaluator(Builder b) {
        this.train = b.train;
        this.test = b.test;
        this.normalize = b.normalize;
        this.earlyTap = b.earlyTap;
        this.lastTap = b.lastTap;
        this.probe = b.probe != null ? b.probe : LinearProbe.defaults(b.seed);
        this.drSubset = b.drSubset;
        this.eps = b.eps;
        this.tau = b.tau;
        this.seed = b.seed;
        this.batchSize = b.batchSize;
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The checkpoints of a run directory, by increasing epoch.
     *
     * @throws IllegalArgumentException if {@code runDir} is not a run (no manifest) or holds no checkpoint
     */
    public static List<Checkpoint> checkpointsOf(Path runDir) {
        RunDirectory.open(runDir);
        List<Checkpoint> all = Checkpoint.all(runDir);
        if (all.isEmpty()) {
            throw new IllegalArgumentException("run " + runDir + " has no checkpoints (nothing under "
                    + runDir.resolve(RunDirectory.CHECKPOINTS) + "): train it first, or lower --save-every");
        }
        return all;
    }

    /** Evaluates every checkpoint of the list; progress is logged. */
    public LayerwiseResult evaluate(List<Checkpoint> checkpoints) {
        if (Objects.requireNonNull(checkpoints, "checkpoints").isEmpty()) {
            throw new IllegalArgumentException("checkpoints must not be empty");
        }
        List<LayerwiseResult.Row> rows = new ArrayList<>();
        for (Checkpoint c : checkpoints) {
            long t0 = System.nanoTime();
            rows.addAll(evaluate(c.restoreGraph(false), c.epoch()));
            LOG.info("evaluated {} in {} s", c, String.format("%.1f", (System.nanoTime() - t0) / 1e9));
        }
        return new LayerwiseResult(rows);
    }

    /** @return the two rows (early tap, last tap) of one graph */
    public List<LayerwiseResult.Row> evaluate(ComputationGraph graph, int epoch) {
        FeatureExtractor fx = new FeatureExtractor(graph, normalize, batchSize);
        Map<String, INDArray> ftr = fx.extract(train, earlyTap, lastTap);
        Map<String, INDArray> fte = fx.extract(test, earlyTap, lastTap);
        int[] sub = FeatureRates.subset(train.size(), drSubset, seed);
        Map<String, INDArray> fsub = fx.extract(train, sub, earlyTap, lastTap);
        int[] ytr = labels(train, null);
        int[] yte = labels(test, null);
        int[] ysub = labels(train, sub);
        int k = train.numClasses();
        CodingRate cr = new CodingRate(eps);
        List<LayerwiseResult.Row> out = new ArrayList<>();
        for (String tap : List.of(earlyTap, lastTap)) {
            INDArray a = ftr.get(tap);
            INDArray b = fte.get(tap);
            Accuracy knn5 = KnnClassifier.majority(5).evaluate(a, ytr, b, yte, k);
            Accuracy knn200 = KnnClassifier.weighted(200, 0.1).evaluate(a, ytr, b, yte, k);
            Accuracy lp = probe.evaluate(a, ytr, b, yte, k);
            double drLabel = FeatureRates.labelRateReduction(cr, fsub.get(tap), ysub, k);
            double drInst = FeatureRates.instanceRateReduction(cr, fsub.get(tap), tau);
            out.add(new LayerwiseResult.Row(epoch, tap, knn5.top1(), knn200.top1(), lp.top1(), lp.top5(), drLabel,
                    drInst));
        }
        return out;
    }

    static int[] labels(ImageDataset d, int[] idx) {
        int n = idx == null ? d.size() : idx.length;
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = d.label(idx == null ? i : idx[i]);
            if (y[i] < 0) {
                throw new IllegalArgumentException("dataset " + d.name() + " has an unlabelled image at index "
                        + (idx == null ? i : idx[i]) + "; layer-wise evaluation needs labels");
            }
        }
        return y;
    }

    /** Builder: {@code setTrain}, {@code setTest}, {@code setNormalize} required; the rest optional. */
    public static final class Builder {
        private ImageDataset train;
        private ImageDataset test;
        private Normalize normalize;
        private String earlyTap = Taps.EARLY_DEFAULT;
        private String lastTap = Taps.LAST;
        private LinearProbe probe;
        private int drSubset = 512;
        private double eps = CodingRate.DEFAULT_EPS;
        private double tau = FeatureRates.DEFAULT_TAU;
        private long seed = 0;
        private int batchSize = FeatureExtractor.DEFAULT_BATCH;

        private Builder() {
        }

        /** Labelled training images: k-NN memory, probe training set, dR subset. */
        public Builder setTrain(ImageDataset d) {
            this.train = d;
            return this;
        }

        /** Labelled test images the accuracies are measured on. */
        public Builder setTest(ImageDataset d) {
            this.test = d;
            return this;
        }

        /** The training recipe's normalisation ({@link FeatureExtractor#normalizeFor}). */
        public Builder setNormalize(Normalize n) {
            this.normalize = n;
            return this;
        }

        /** Early tap (default stage2). */
        public Builder optEarlyTap(String t) {
            this.earlyTap = Objects.requireNonNull(t, "earlyTap");
            return this;
        }

        /** Last tap (default pool). */
        public Builder optLastTap(String t) {
            this.lastTap = Objects.requireNonNull(t, "lastTap");
            return this;
        }

        /** Linear probe (default {@link LinearProbe#defaults} with the seed: 100 epochs). */
        public Builder optProbe(LinearProbe p) {
            this.probe = Objects.requireNonNull(p, "probe");
            return this;
        }

        /** Training images in the dR subset (default 512; all when the set is smaller). */
        public Builder optDrSubset(int m) {
            if (m < 2) {
                throw new IllegalArgumentException("drSubset must be at least 2, got " + m);
            }
            this.drSubset = m;
            return this;
        }

        /** Distortion eps (default 0.5). */
        public Builder optEps(double e) {
            if (!(e > 0)) {
                throw new IllegalArgumentException("eps must be positive, got " + e);
            }
            this.eps = e;
            return this;
        }

        /** Instance-membership temperature (default 0.5). */
        public Builder optTau(double t) {
            if (!(t > 0)) {
                throw new IllegalArgumentException("tau must be positive, got " + t);
            }
            this.tau = t;
            return this;
        }

        /** Seed of the dR subset and of the default probe (default 0). */
        public Builder optSeed(long s) {
            this.seed = s;
            return this;
        }

        /** Images per forward pass (default 128). */
        public Builder optBatchSize(int b) {
            if (b <= 0) {
                throw new IllegalArgumentException("batchSize must be positive, got " + b);
            }
            this.batchSize = b;
            return this;
        }

        /** @return the evaluator; errors name the missing field */
        public LayerwiseEvaluator build() {
            Objects.requireNonNull(train, "train is required (setTrain)");
            Objects.requireNonNull(test, "test is required (setTest)");
            Objects.requireNonNull(normalize, "normalize is required (setNormalize)");
            if (earlyTap.equals(lastTap)) {
                throw new IllegalArgumentException("earlyTap and lastTap are both '" + earlyTap + "'");
            }
            if (train.numClasses() != test.numClasses()) {
                throw new IllegalArgumentException("train has " + train.numClasses() + " classes but test has "
                        + test.numClasses());
            }
            return new LayerwiseEvaluator(this);
        }
    }
}
