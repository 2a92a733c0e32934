package org.umm4j.nn;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Parameter counts of DL4J graphs.
 *
 * <p>DL4J stores BatchNorm's running statistics (mean and variance, or log10 of the standard deviation
 * when {@code useLogStd} is on) as parameters, so {@code ComputationGraph.numParams()} counts them while
 * PyTorch's {@code sum(p.numel() for p in model.parameters())} does not. {@link #trainable} drops them
 * and matches PyTorch: ResNet-18 = 11,176,512 and ResNet-50 = 23,508,032 at width 1 with the ImageNet
 * stem and no fully-connected layer.
 */
public final class ParamCounts {
    private static final Set<String> BN_RUNNING_STATS = Set.of(BatchNormalizationParamInitializer.GLOBAL_MEAN,
            BatchNormalizationParamInitializer.GLOBAL_VAR, BatchNormalizationParamInitializer.GLOBAL_LOG_STD);

    private ParamCounts() {
    }

    /** @return number of parameters that gradient descent updates (all but BatchNorm running statistics) */
    public static long trainable(ComputationGraph graph) {
        Objects.requireNonNull(graph, "graph");
        long n = 0;
        for (Layer layer : graph.getLayers()) {
            boolean bn = layer.conf().getLayer() instanceof BatchNormalization;
            for (Map.Entry<String, INDArray> e : layer.paramTable().entrySet()) {
                if (!(bn && BN_RUNNING_STATS.contains(e.getKey()))) {
                    n += e.getValue().length();
                }
            }
        }
        return n;
    }

    /** @return number of BatchNorm running-statistic entries ({@code graph.numParams() - trainable(graph)}) */
    public static long batchNormRunningStats(ComputationGraph graph) {
        return graph.numParams() - trainable(graph);
    }
}
