package org.umm4j.nn;

import java.util.List;

/**
 * Names of the feature taps of the umm4j ResNets: each constant is the name of a vertex of the
 * {@code ComputationGraph} built by {@link ResNets}, so it can be passed to
 * {@code ComputationGraph.feedForward} results, {@link Backbone#features} and {@link Backbone#split}.
 *
 * <table>
 *   <caption>Taps and their activation shapes for an {@code H x W} input, stage widths {@code w1..w4}
 *   (times 4 for ResNet-50), CIFAR stem / ImageNet stem</caption>
 *   <tr><th>tap</th><th>shape</th></tr>
 *   <tr><td>{@link #INPUT}</td><td>{@code [N, C, H, W]}</td></tr>
 *   <tr><td>{@link #STEM}</td><td>{@code [N, w1, H, W]} / {@code [N, w1, H/4, W/4]}</td></tr>
 *   <tr><td>{@link #STAGE1}</td><td>{@code [N, e w1, H, W]} / {@code [N, e w1, H/4, W/4]}</td></tr>
 *   <tr><td>{@link #STAGE2}</td><td>{@code [N, e w2, H/2, W/2]} / {@code [N, e w2, H/8, W/8]}</td></tr>
 *   <tr><td>{@link #STAGE3}</td><td>{@code [N, e w3, H/4, W/4]} / {@code [N, e w3, H/16, W/16]}</td></tr>
 *   <tr><td>{@link #STAGE4}</td><td>{@code [N, e w4, H/8, W/8]} / {@code [N, e w4, H/32, W/32]}</td></tr>
 *   <tr><td>{@link #POOL}</td><td>{@code [N, e w4]} (global average pool)</td></tr>
 * </table>
 * ({@code e} = 1 for ResNet-18, 4 for ResNet-50; sizes are rounded up.) Stage outputs are taken after
 * the final ReLU of the stage's last block. Inner vertices follow the pattern
 * {@code s<stage>b<block>_<part>} (e.g. {@code s3b1_conv2}) and can be read as well.
 */
public final class Taps {
    /** The graph's input vertex. */
    public static final String INPUT = "input";
    /** Output of the stem (after the max-pool for the ImageNet stem). */
    public static final String STEM = "stem";
    public static final String STAGE1 = "stage1";
    public static final String STAGE2 = "stage2";
    public static final String STAGE3 = "stage3";
    public static final String STAGE4 = "stage4";
    /** Global-average-pooled feature vector, the backbone's output. */
    public static final String POOL = "pool";
    /** Default early tap of UMM (DESIGN.md section 4: after stage 2). */
    public static final String EARLY_DEFAULT = STAGE2;
    /** The last tap: the pooled representation. */
    public static final String LAST = POOL;
    /** Taps at which a backbone can be split into f_e and f_l, in forward order. */
    public static final List<String> SPLITTABLE = List.of(STEM, STAGE1, STAGE2, STAGE3, STAGE4);
    /** All named backbone taps, in forward order. */
    public static final List<String> ALL = List.of(STEM, STAGE1, STAGE2, STAGE3, STAGE4, POOL);

    private Taps() {
    }

    /** @return the tap name of stage {@code s} (1..4) */
    public static String stage(int s) {
        if (s < 1 || s > 4) {
            throw new IllegalArgumentException("stage must be in 1..4, got " + s);
        }
        return "stage" + s;
    }
}
