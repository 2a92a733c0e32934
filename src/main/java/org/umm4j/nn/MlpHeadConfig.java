package org.umm4j.nn;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Immutable description of an MLP projection or prediction head:
 * <pre>
 *   h_0 = x                                        x: [N, inputSize]
 *   h_i = relu(BN(W_i h_{i-1}))        i = 1..L    (BN omitted when hiddenBatchNorm is false;
 *                                                   the Linear then has a bias)
 *   z   = FinalNorm(W_out h_L + b)                 z: [N, outputSize]
 * </pre>
 * with {@code L = hiddenSizes.size()} hidden layers. A Linear followed by BatchNorm has no bias (the BN
 * shift makes it redundant, as in the reference implementations of BYOL, SimSiam and Barlow Twins); the
 * output Linear has a bias only when {@code outputBias} is true and no final BN follows. Paper
 * configurations are in {@link Heads}.
 *
 * @param name            prefix of the head's vertex names; the head's output vertex is named {@code name}
 * @param inputSize       length of the input vector (e.g. the backbone's {@link ResNetConfig#featureSize()})
 * @param hiddenSizes     widths of the hidden layers, possibly empty (a single Linear)
 * @param outputSize      length of the output vector
 * @param hiddenBatchNorm whether each hidden Linear is followed by BatchNorm
 * @param finalNorm       normalisation of the output
 * @param outputBias      whether the output Linear has a bias (ignored when a final BN follows)
 */
public record MlpHeadConfig(String name, int inputSize, List<Integer> hiddenSizes, int outputSize,
                            boolean hiddenBatchNorm, FinalNorm finalNorm, boolean outputBias) implements Serializable {

    /** What follows the last Linear. */
    public enum FinalNorm {
        /** nothing */
        NONE,
        /** BatchNorm with learnable gamma and beta (SimCLR v2 style) */
        BATCH_NORM,
        /** BatchNorm with gamma = 1 and beta = 0 fixed (SimSiam's {@code BatchNorm1d(affine=False)}) */
        BATCH_NORM_NO_AFFINE
    }

    public MlpHeadConfig {
        if (name == null || name.isBlank() || !name.matches("[A-Za-z][A-Za-z0-9]*")) {
            throw new IllegalArgumentException("name must be a non-empty alphanumeric identifier starting with a letter, got '"
                    + name + "'");
        }
        if (inputSize < 1) {
            throw new IllegalArgumentException("inputSize must be >= 1, got " + inputSize);
        }
        Objects.requireNonNull(hiddenSizes, "hiddenSizes");
        hiddenSizes = List.copyOf(hiddenSizes);
        for (int i = 0; i < hiddenSizes.size(); i++) {
            if (hiddenSizes.get(i) < 1) {
                throw new IllegalArgumentException("hiddenSizes[" + i + "] must be >= 1, got " + hiddenSizes.get(i));
            }
        }
        if (outputSize < 1) {
            throw new IllegalArgumentException("outputSize must be >= 1, got " + outputSize);
        }
        Objects.requireNonNull(finalNorm, "finalNorm");
    }

    /** @return a builder; name, inputSize and outputSize are required */
    public static Builder builder() {
        return new Builder();
    }

    /** @return this head with another input size (e.g. to fit a narrower backbone) */
    public MlpHeadConfig withInputSize(int newInputSize) {
        return new MlpHeadConfig(name, newInputSize, hiddenSizes, outputSize, hiddenBatchNorm, finalNorm, outputBias);
    }

    /** @return this head with every hidden width and the output width multiplied by {@code f} (at least 1) */
    public MlpHeadConfig scaled(double f) {
        if (!(f > 0) || Double.isInfinite(f)) {
            throw new IllegalArgumentException("scale factor must be positive and finite, got " + f);
        }
        List<Integer> h = new ArrayList<>();
        for (int s : hiddenSizes) {
            h.add(Math.max(1, (int) Math.round(s * f)));
        }
        return new MlpHeadConfig(name, inputSize, h, Math.max(1, (int) Math.round(outputSize * f)), hiddenBatchNorm,
                finalNorm, outputBias);
    }

    /** Builder; optional fields default to no hidden layers, hidden BN on, no final norm, output bias on. */
    public static final class Builder {
        private String name;
        private Integer inputSize;
        private List<Integer> hiddenSizes = List.of();
        private Integer outputSize;
        private boolean hiddenBatchNorm = true;
        private FinalNorm finalNorm = FinalNorm.NONE;
        private boolean outputBias = true;

        private Builder() {
        }

        public Builder setName(String name) {
            this.name = name;
            return this;
        }

        public Builder setInputSize(int inputSize) {
            this.inputSize = inputSize;
            return this;
        }

        public Builder setOutputSize(int outputSize) {
            this.outputSize = outputSize;
            return this;
        }

        public Builder optHiddenSizes(Integer... sizes) {
            this.hiddenSizes = List.of(sizes);
            return this;
        }

        public Builder optHiddenBatchNorm(boolean on) {
            this.hiddenBatchNorm = on;
            return this;
        }

        public Builder optFinalNorm(FinalNorm finalNorm) {
            this.finalNorm = finalNorm;
            return this;
        }

        public Builder optOutputBias(boolean on) {
            this.outputBias = on;
            return this;
        }

        public MlpHeadConfig build() {
            if (name == null) {
                throw new IllegalStateException("name is required (set it on the builder)");
            }
            if (inputSize == null) {
                throw new IllegalStateException("inputSize is required (set it on the builder)");
            }
            if (outputSize == null) {
                throw new IllegalStateException("outputSize is required (set it on the builder)");
            }
            return new MlpHeadConfig(name, inputSize, hiddenSizes, outputSize, hiddenBatchNorm, finalNorm, outputBias);
        }
    }
}
