package org.umm4j.train;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The {@link org.nd4j.linalg.learning.GradientUpdater} of {@link Lars}. Needs {@link #bind} (done by
 * {@link Lars#bind}) to see the parameters of its block; the velocity state is the same as {@link SgdMomentum}'s,
 * so checkpoints carry it through ModelSerializer.
 */
final class LarsGradientUpdater extends MomentumGradientUpdater<Lars> {
    /** slice of the flattened network parameters covered by this updater's block, rank 1 */
    private INDArray blockParams;
    /** tensor boundaries inside the block: tensor i is [bounds[i], bounds[i+1]) */
    private long[] bounds;

    LarsGradientUpdater(Lars config) {
        super(config);
    }

    void bind(INDArray blockParams, long[] bounds) {
        this.blockParams = blockParams;
        this.bounds = bounds.clone();
    }

    boolean isBound() {
        return blockParams != null;
    }

    @Override
    public void applyUpdater(INDArray gradient, int iteration, int epoch) {
        checkState(gradient);
        if (blockParams == null) {
            throw new IllegalStateException("LARS updater is not bound to its parameters: call Lars.bind(graph) after "
                    + "init() or restore and before fit() (TrainingLoop does this for you)");
        }
        if (blockParams.length() != gradient.length()) {
            throw new IllegalStateException("LARS binding covers " + blockParams.length() + " parameters but the "
                    + "gradient has " + gradient.length() + ": re-bind with Lars.bind(graph)");
        }
        double lr = config.getLearningRate(iteration, epoch);
        double mu = config.getMomentum();
        double wd = config.getWeightDecay();
        double eta = config.getEta();
        // work on rank-1 views so tensor slices line up with the flattened parameter layout
        INDArray g = gradient.reshape(gradient.length());
        INDArray vel = v.reshape(v.length());
        for (int i = 0; i + 1 < bounds.length; i++) {
            INDArray gi = g.get(NDArrayIndex.interval(bounds[i], bounds[i + 1]));
            INDArray wi = blockParams.get(NDArrayIndex.interval(bounds[i], bounds[i + 1]));
            INDArray vi = vel.get(NDArrayIndex.interval(bounds[i], bounds[i + 1]));
            double wNorm = wi.norm2Number().doubleValue();
            double gNorm = gi.norm2Number().doubleValue();
            double trust = (wNorm > 0 && gNorm > 0) ? eta * wNorm / (gNorm + wd * wNorm) : 1.0;
            INDArray d = wd == 0 ? gi.dup() : gi.add(wi.mul(wd));
            vi.muli(mu).addi(d.muli(lr * trust));
        }
        if (vel.data() != v.data() || vel.offset() != v.offset()) {
            v.assign(vel.reshape(v.ordering(), v.shape())); // reshape had to copy: write the velocity back
        }
        gradient.assign(v);
    }
}
