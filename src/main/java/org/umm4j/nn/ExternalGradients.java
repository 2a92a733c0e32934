package org.umm4j.nn;

import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.umm4j.backend.Umm4jBackend;

import java.util.Arrays;
import java.util.Map;
import java.util.Objects;

/**
 * Trains a loss-free graph (a {@link Backbone}'s graph, or f_l of a {@link SplitBackbone}) from an
 * externally computed gradient {@code dL/dz} of its single output z.
 *
 * <p>{@code forward} runs the graph in training mode (BatchNorm with batch statistics, running statistics
 * updated) and keeps the activations; {@code backward} then returns {@code dL/dtheta} for every parameter,
 * keyed {@code <layer>_<param>} (e.g. {@code stem_conv_W}), as views of the graph's flattened gradient;
 * {@link #applyUpdater} turns it into a step of the graph's optimiser. No other forward pass of the same
 * graph may run between {@code forward} and {@code backward} (DL4J keeps the activations in the graph).
 *
 * <p>DL4J keeps some forward results of BatchNorm in a workspace that is closed between a separate
 * forward and backward call, so {@link #forward} switches the graph's TRAINING workspaces off (DESIGN.md
 * section 2: "from external errors, workspaces off"); inference keeps its workspaces. Checked against
 * central finite differences in {@code HeadsTest}. Where the objective needs only the graph's single output, {@link
 * WorkspaceBackprop} does the same forward and backward pass with workspaces on (faster, far less memory).
 */
public final class ExternalGradients {
    private ExternalGradients() {
    }

    /**
     * @param graph a graph with one input and one output and no loss layer
     * @param input the input batch
     * @return the output z (detached), to compute {@code dL/dz} from
     */
    public static INDArray forward(ComputationGraph graph, INDArray input) {
        Objects.requireNonNull(graph, "graph");
        Objects.requireNonNull(input, "input");
        if (graph.getNumInputArrays() != 1 || graph.getNumOutputArrays() != 1) {
            throw new IllegalArgumentException("graph must have one input and one output, has "
                    + graph.getNumInputArrays() + " and " + graph.getNumOutputArrays());
        }
        graph.getConfiguration().setTrainingWorkspaceMode(WorkspaceMode.NONE);
        Umm4jBackend.useFastBatchNorm(graph);
        Umm4jBackend.useFastConvolution(graph, java.util.Set.of());
        Map<String, INDArray> acts = graph.feedForward(new INDArray[]{input}, true, false);
        return acts.get(graph.getConfiguration().getNetworkOutputs().get(0));
    }

    /**
     * @param graph the graph {@link #forward} was last called on
     * @param dLdz  gradient of the loss with respect to the output z returned by {@link #forward}, same shape
     * @return gradients of the loss with respect to all parameters (BatchNorm running statistics get none)
     */
    public static Gradient backward(ComputationGraph graph, INDArray dLdz) {
        Objects.requireNonNull(graph, "graph");
        if (graph.getInputs() == null || graph.getInputs()[0] == null) {
            throw new IllegalStateException("call forward(graph, input) before backward");
        }
        long n = graph.getInputs()[0].size(0);
        if (dLdz == null || dLdz.rank() != 2 || dLdz.size(0) != n) {
            throw new IllegalArgumentException("dLdz must be [" + n + ", outputSize] like the output z, got "
                    + (dLdz == null ? "null" : Arrays.toString(dLdz.shape())));
        }
        return graph.backpropGradient(dLdz);
    }

    /**
     * One optimiser step {@code theta <- theta - update(g)} with the graph's stored updater (SGD, Adam, ...),
     * its state kept in {@code graph.getUpdater()}. {@code g} is applied as it is: it must be the gradient of the
     * loss being minimised (umm4j's objectives return that of a batch-mean loss). DL4J's updater would divide it by a
     * batch size when the graph's {@code miniBatch} option is on (the default, meant for its own summed per-example
     * gradients); the step passes 1 so that nothing is divided twice (it was passed 2N once, which made SGD steps
     * 2N times too small).
     *
     * @param gradient  the result of {@link #backward} on the same graph
     * @param iteration iteration counter (for schedules and Adam's bias correction), from 0
     * @param epoch     epoch counter, from 0
     */
    public static void applyUpdater(ComputationGraph graph, Gradient gradient, int iteration, int epoch) {
        Objects.requireNonNull(graph, "graph");
        Objects.requireNonNull(gradient, "gradient");
        graph.getUpdater().update(gradient, iteration, epoch, 1,
                org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces());
        INDArray params = graph.params();
        params.subi(graph.getFlattenedGradients().reshape(params.shape()));
    }
}
