package org.umm4j.nn;

/**
 * The first layers of a ResNet, before stage 1.
 *
 * <ul>
 *   <li>{@link #IMAGENET}: 7x7 convolution, stride 2, padding 3, then BN, ReLU and a 3x3 max-pool with
 *       stride 2 and padding 1 (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016). A
 *       {@code H x W} input leaves the stem at about {@code H/4 x W/4}.</li>
 *   <li>{@link #CIFAR}: 3x3 convolution, stride 1, padding 1, then BN and ReLU, no max-pool, the variant
 *       SimCLR (Chen et al. 2020, appendix B.9) and most SSL code bases use for 32x32 images. The stem keeps
 *       the spatial size.</li>
 * </ul>
 */
public enum Stem {
    /** 3x3/1 convolution + BN + ReLU, no max-pool (small images such as CIFAR's 32x32). */
    CIFAR,
    /** 7x7/2 convolution + BN + ReLU + 3x3/2 max-pool (ImageNet-sized images). */
    IMAGENET
}
