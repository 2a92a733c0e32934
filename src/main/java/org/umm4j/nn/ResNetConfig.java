package org.umm4j.nn;

import org.nd4j.linalg.api.buffer.DataType;

import java.io.Serializable;
import java.util.Objects;

/**
 * Immutable description of a ResNet backbone; {@link ResNets} turns it into a DL4J
 * {@code ComputationGraph}.
 *
 * <p>Stage widths are the torchvision base widths {@code (64, 128, 256, 512)} times
 * {@code widthMultiplier}, rounded to the nearest integer and at least 1; the stem has the stage-1 width.
 * ResNet-18 uses basic blocks {@code (2, 2, 2, 2)}, ResNet-50 bottleneck blocks {@code (3, 4, 6, 3)} with
 * expansion 4, so the feature vector after global average pooling has {@code 512 w} (ResNet-18) or
 * {@code 2048 w} (ResNet-50) entries. Input is NCHW {@code [N, inputChannels, height, width]}; the
 * height and width fix the graph's declared input type (and the shape of split parts), but the
 * convolutions accept any spatial size, so smaller multi-crop views run through the same graph.
 *
 * @param depth           18 or 50
 * @param stem            the stem variant
 * @param widthMultiplier positive scale of the base widths (1.0 = torchvision; 0.25 = 16 base channels)
 * @param inputChannels   channels of the input image (3 for RGB), at least 1
 * @param height          input height in pixels, at least 1
 * @param width           input width in pixels, at least 1
 * @param seed            seed of the weight initialisation
 * @param dataType        floating-point type of parameters and activations (FLOAT, DOUBLE for gradient
 *                        checks, HALF/BFLOAT16 where the backend supports them)
 */
public record ResNetConfig(int depth, Stem stem, double widthMultiplier, int inputChannels, int height,
                           int width, long seed, DataType dataType) implements Serializable {

    /** torchvision's stage widths at multiplier 1. */
    public static final java.util.List<Integer> BASE_WIDTHS = java.util.List.of(64, 128, 256, 512);

    public ResNetConfig {
        if (depth != 18 && depth != 50) {
            throw new IllegalArgumentException("depth must be 18 or 50, got " + depth);
        }
        Objects.requireNonNull(stem, "stem");
        if (!(widthMultiplier > 0) || Double.isInfinite(widthMultiplier)) {
            throw new IllegalArgumentException("widthMultiplier must be a positive finite number, got " + widthMultiplier);
        }
        if (inputChannels < 1) {
            throw new IllegalArgumentException("inputChannels must be >= 1, got " + inputChannels);
        }
        if (height < 1) {
            throw new IllegalArgumentException("height must be >= 1, got " + height);
        }
        if (width < 1) {
            throw new IllegalArgumentException("width must be >= 1, got " + width);
        }
        Objects.requireNonNull(dataType, "dataType");
        if (!dataType.isFPType()) {
            throw new IllegalArgumentException("dataType must be a floating-point type, got " + dataType);
        }
    }

    /** @return a builder; depth, stem, inputChannels, height and width are required */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the stage widths before bottleneck expansion, {@code max(1, round(base * widthMultiplier))} */
    public int[] stageWidths() {
        int[] w = new int[BASE_WIDTHS.size()];
        for (int i = 0; i < w.length; i++) {
            w[i] = Math.max(1, (int) Math.round(BASE_WIDTHS.get(i) * widthMultiplier));
        }
        return w;
    }

    /** @return 1 for basic blocks (ResNet-18), 4 for bottleneck blocks (ResNet-50) */
    public int expansion() {
        return depth == 50 ? 4 : 1;
    }

    /** @return the number of residual blocks in each of the four stages */
    public int[] blocksPerStage() {
        return depth == 50 ? new int[]{3, 4, 6, 3} : new int[]{2, 2, 2, 2};
    }

    /** @return output channels of stage {@code s} (1..4), i.e. of tap {@code Taps.stage(s)} */
    public int stageChannels(int s) {
        if (s < 1 || s > 4) {
            throw new IllegalArgumentException("stage must be in 1..4, got " + s);
        }
        return stageWidths()[s - 1] * expansion();
    }

    /** @return length of the pooled feature vector ({@link Taps#POOL}) */
    public int featureSize() {
        return stageChannels(4);
    }

    /**
     * Builder: {@code setX} for required fields, {@code optX} for optional ones (widthMultiplier 1.0,
     * seed 42, dataType FLOAT).
     */
    public static final class Builder {
        private Integer depth;
        private Stem stem;
        private double widthMultiplier = 1.0;
        private Integer inputChannels;
        private Integer height;
        private Integer width;
        private long seed = 42L;
        private DataType dataType = DataType.FLOAT;

        private Builder() {
        }

        public Builder setDepth(int depth) {
            this.depth = depth;
            return this;
        }

        public Builder setStem(Stem stem) {
            this.stem = stem;
            return this;
        }

        /** Sets channels, height and width of the NCHW input. */
        public Builder setInput(int channels, int height, int width) {
            this.inputChannels = channels;
            this.height = height;
            this.width = width;
            return this;
        }

        public Builder optWidthMultiplier(double widthMultiplier) {
            this.widthMultiplier = widthMultiplier;
            return this;
        }

        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        public Builder optDataType(DataType dataType) {
            this.dataType = dataType;
            return this;
        }

        public ResNetConfig build() {
            require(depth, "depth");
            require(stem, "stem");
            require(inputChannels, "inputChannels");
            require(height, "height");
            require(width, "width");
            return new ResNetConfig(depth, stem, widthMultiplier, inputChannels, height, width, seed, dataType);
        }

        private static void require(Object v, String field) {
            if (v == null) {
                throw new IllegalStateException(field + " is required (set it on the builder)");
            }
        }
    }
}
