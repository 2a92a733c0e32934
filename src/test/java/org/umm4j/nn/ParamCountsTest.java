package org.umm4j.nn;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Parameter counts against torchvision's (resnet18/resnet50 with the fc layer removed:
 * 11,689,512 - 513,000 and 25,557,032 - 2,049,000). Init only, no forward pass; the count does not depend
 * on the input size, so a 32x32 input keeps the graph cheap.
 */
class ParamCountsTest {

    private static ResNetConfig full(int depth, Stem stem) {
        return ResNetConfig.builder().setDepth(depth).setStem(stem).setInput(3, 32, 32).optSeed(1).build();
    }

    @Test
    void resnet18ImageNetMatchesTorchvision() {
        ComputationGraph g = ResNets.build(full(18, Stem.IMAGENET));
        assertEquals(11_176_512L, ParamCounts.trainable(g));
        // 2 running-stat vectors per BN: stem 64, 4 blocks x 2 BNs per stage width, 3 projection BNs
        long bnChannels = 64 + 2 * 2 * (64 + 128 + 256 + 512) + (128 + 256 + 512);
        assertEquals(2 * bnChannels, ParamCounts.batchNormRunningStats(g));
        assertEquals(g.numParams(), ParamCounts.trainable(g) + ParamCounts.batchNormRunningStats(g));
    }

    @Test
    void resnet50ImageNetMatchesTorchvision() {
        ComputationGraph g = ResNets.build(full(50, Stem.IMAGENET));
        assertEquals(23_508_032L, ParamCounts.trainable(g));
    }

    @Test
    void cifarStemSwapsTheSevenBySevenKernelForAThreeByThree() {
        // CIFAR ResNet-18 without fc: 11,176,512 - 64*3*7*7 + 64*3*3*3 = 11,168,832 (11,173,962 with a 10-way fc)
        assertEquals(11_168_832L, ParamCounts.trainable(ResNets.build(full(18, Stem.CIFAR))));
    }

    @Test
    void narrowResNet18CountFollowsTheClosedForm() {
        // width 0.125: stage widths 8, 16, 32, 64; every conv bias-free, BN has gamma and beta
        ResNetConfig c = NnTestSupport.tiny(18, Stem.CIFAR, 0.125, 16, DataType.FLOAT);
        int[] w = {8, 16, 32, 64};
        long n = 3L * 9 * w[0] + 2L * w[0];                          // stem conv + BN
        int in = w[0];
        for (int s = 0; s < 4; s++) {
            for (int b = 0; b < 2; b++) {
                n += 9L * in * w[s] + 2L * w[s] + 9L * w[s] * w[s] + 2L * w[s];
                if (in != w[s]) {
                    n += (long) in * w[s] + 2L * w[s];                // projection 1x1 + BN
                }
                in = w[s];
            }
        }
        assertEquals(n, ParamCounts.trainable(ResNets.build(c)));
    }
}
