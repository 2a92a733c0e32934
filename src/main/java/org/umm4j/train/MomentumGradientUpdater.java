package org.umm4j.train;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;

import java.util.Collections;
import java.util.Map;

/**
 * The {@link GradientUpdater} of {@link SgdMomentum}: {@code v <- mu v + lr g; g <- v}, in place on DL4J's
 * gradient view. The velocity lives in the updater-state view that DL4J allocates, so ModelSerializer saves it
 * with the network.
 */
class MomentumGradientUpdater<T extends SgdMomentum> implements GradientUpdater<T> {
    protected final T config;
    /** velocity, a view of the network's updater state, same shape and order as the gradient */
    protected INDArray v;

    MomentumGradientUpdater(T config) {
        this.config = config;
    }

    @Override
    public T getConfig() {
        return config;
    }

    @Override
    public void setState(Map<String, INDArray> stateMap, boolean initialize) {
        INDArray s = stateMap == null ? null : stateMap.get(SgdMomentum.VELOCITY);
        if (s == null || stateMap.size() != 1) {
            throw new IllegalArgumentException("updater state must hold exactly the key '" + SgdMomentum.VELOCITY
                    + "', got " + (stateMap == null ? null : stateMap.keySet()));
        }
        this.v = s;
        if (initialize) {
            v.assign(0);
        }
    }

    @Override
    public Map<String, INDArray> getState() {
        return Collections.singletonMap(SgdMomentum.VELOCITY, v);
    }

    @Override
    public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
        if (viewArray == null || viewArray.length() == 0) {
            throw new IllegalArgumentException("viewArray must hold one velocity per parameter, got "
                    + (viewArray == null ? null : viewArray.length()));
        }
        if (initialize) {
            viewArray.assign(0);
        }
        this.v = viewArray.reshape(gradientOrder, gradientShape);
    }

    @Override
    public void applyUpdater(INDArray gradient, int iteration, int epoch) {
        checkState(gradient);
        double lr = config.getLearningRate(iteration, epoch);
        v.muli(config.getMomentum()).addi(gradient.muli(lr));
        gradient.assign(v);
    }

    protected void checkState(INDArray gradient) {
        if (v == null) {
            throw new IllegalStateException("updater state not set: call setStateViewArray or setState first");
        }
        if (v.length() != gradient.length()) {
            throw new IllegalArgumentException("gradient has " + gradient.length() + " elements, updater state "
                    + v.length());
        }
    }
}
