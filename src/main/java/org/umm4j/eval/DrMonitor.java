package org.umm4j.eval;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.umm4j.crr.CodingRate;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.augment.Normalize;
import org.umm4j.nn.Taps;
import org.umm4j.train.Pretrainer;
import org.umm4j.train.TrainingLoop;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The label-free overfitting monitor of the UMM paper (arXiv 2410.00772, Section 3): after every epoch, the rate
 * reduction {@code dR} of the last-layer features ({@link Taps#POOL}) of a fixed, seeded subset of training images
 * under the instance membership (no labels; eps 0.5, tau 0.5, rows L2-normalised, {@link FeatureRates}). The paper
 * observes that this curve rises while the representation improves and falls when pretraining starts to memorise,
 * tracking the (label-based) accuracy curve; its peak marks the best checkpoint.
 *
 * <p>As a {@link Pretrainer.EpochListener} it adds the metrics column {@value #COLUMN}. Optional early stopping
 * ({@link #withPatience}): an epoch whose dR exceeds the best so far by more than {@code minDelta} becomes the best
 * (its checkpoint is saved and {@code checkpoints/best} points at it); after {@code patience} epochs without a new
 * best the run stops (the last epoch is checkpointed too). The best value lives in this object only: a resumed
 * run starts a fresh peak search.
 *
 * <p>Cost: one inference pass over the subset (256 images by default) and one dense instance dR
 * ({@code O(m d^2)} batched Grams plus {@code m} Cholesky factorisations of the smaller of {@code d x d} and
 * {@code m x m}), small next to an epoch of training.
 */
public final class DrMonitor implements Pretrainer.EpochListener {
    /** The metrics column. */
    public static final String COLUMN = "dR_monitor";
    /** Default subset size. */
    public static final int DEFAULT_SUBSET = 256;

    private static final Logger LOG = LoggerFactory.getLogger(DrMonitor.class);

    private final ImageDataset data;
    private final int[] subset;
    private final Normalize normalize;
    private final CodingRate codingRate;
    private final double tau;
    private final String tap;
    private final int patience;
    private final double minDelta;
    private final List<double[]> history = new ArrayList<>();
    private final PeakRule rule;

    private DrMonitor(ImageDataset data, int[] subset, Normalize normalize, CodingRate cr, double tau, String tap,
                      int patience, double minDelta) {
        this.data = data;
        this.subset = subset;
        this.normalize = normalize;
        this.codingRate = cr;
        this.tau = tau;
        this.tap = tap;
        this.patience = patience;
        this.minDelta = minDelta;
        this.rule = new PeakRule(patience, minDelta);
    }

    /**
     * A monitor without early stopping.
     *
     * @param data       the training images
     * @param normalize  the recipe's normalisation ({@link FeatureExtractor#normalizeFor})
     * @param subsetSize images in the fixed subset (all when the set is smaller), at least 2
     * @param seed       seed of the subset
     */
    public static DrMonitor create(ImageDataset data, Normalize normalize, int subsetSize, long seed) {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(normalize, "normalize");
        if (subsetSize < 2 || data.size() < 2) {
            throw new IllegalArgumentException("subsetSize and the dataset size must be at least 2, got " + subsetSize
                    + " and " + data.size());
        }
        return new DrMonitor(data, FeatureRates.subset(data.size(), subsetSize, seed), normalize,
                CodingRate.withDefaults(), FeatureRates.DEFAULT_TAU, Taps.POOL, 0, 0);
    }

    /**
     * @param patience epochs without a new dR peak before stopping, &gt;= 1
     * @param minDelta improvement over the best dR needed to count as a new peak, &gt;= 0
     * @return a copy (fresh state) that stops early and marks the best checkpoint
     */
    public DrMonitor withPatience(int patience, double minDelta) {
        if (patience < 1) {
            throw new IllegalArgumentException("patience must be at least 1, got " + patience);
        }
        if (!(minDelta >= 0)) {
            throw new IllegalArgumentException("minDelta must be >= 0, got " + minDelta);
        }
        return new DrMonitor(data, subset, normalize, codingRate, tau, tap, patience, minDelta);
    }

    /** @return the subset's dataset indices (sorted) */
    public int[] subset() {
        return subset.clone();
    }

    /** @return dR of the current graph on the subset */
    public double measure(ComputationGraph graph) {
        INDArray z = new FeatureExtractor(graph, normalize, FeatureExtractor.DEFAULT_BATCH)
                .extract(data, subset, tap).get(tap);
        return FeatureRates.instanceRateReduction(codingRate, z, tau);
    }

    @Override
    public Map<String, Double> afterEpoch(ComputationGraph online, int epoch) {
        double dr = measure(online);
        history.add(new double[]{epoch, dr});
        rule.observe(epoch, dr);
        LOG.info("epoch {}: dR_monitor {} (best {} at epoch {})", epoch, dr, rule.best(), rule.bestEpoch());
        Map<String, Double> m = new LinkedHashMap<>();
        m.put(COLUMN, dr);
        return m;
    }

    @Override
    public TrainingLoop.EpochDecision endOfEpoch(int epoch) {
        TrainingLoop.EpochDecision d = rule.decide(epoch);
        if (d.stop()) {
            LOG.info("early stop after epoch {}: no dR peak above {} (epoch {}) for {} epochs", epoch, rule.best(),
                    rule.bestEpoch(), rule.sinceBest());
        }
        return d;
    }

    /** @return (epoch, dR) pairs measured so far */
    public List<double[]> history() {
        List<double[]> out = new ArrayList<>();
        history.forEach(h -> out.add(h.clone()));
        return out;
    }

    /** @return the epoch of the highest dR so far, or -1 */
    public int bestEpoch() {
        return rule.bestEpoch();
    }

    /** @return the highest dR so far ({@code -Infinity} before the first epoch) */
    public double best() {
        return rule.best();
    }
}
