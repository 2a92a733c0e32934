package org.umm4j.nn;

import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.inputs.InvalidInputTypeException;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.BaseGraphVertex;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.umm4j.backend.AddReluKernel;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/**
 * Graph vertex {@code y = relu(a + b)} for two inputs of equal shape (any rank): the residual sum and the ReLU after
 * it in one vertex, used by {@link InferenceGraph} and by {@link WorkspaceBackprop}'s training twin.
 *
 * <p>DL4J computes the same thing as an {@code ElementWiseVertex(Add)} (which copies its first input, then adds the
 * second in place) followed by an {@code ActivationLayer} (which, in inference, first copies its input into its own
 * workspace when it lives in another one, then applies the ReLU in place): up to four passes over the activation and
 * two allocations. This vertex writes {@code max(a + b, 0)} into one new activation array in one pass
 * ({@link AddReluKernel}: oneDNN's binary add with a ReLU post-op). Backward, {@code dL/da = dL/db = dL/dy [y > 0]}
 * from the forward pass's output {@code y}, kept for it: one pass, and a copy for the second input (DL4J may
 * accumulate into either). DL4J's pair costs five passes there (the activation layer's copy, step and multiply, one
 * copy of the gradient per input). No parameters.
 */
public final class AddReluVertex extends GraphVertex {

    @Override
    public AddReluVertex clone() {
        return new AddReluVertex();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AddReluVertex;
    }

    @Override
    public int hashCode() {
        return AddReluVertex.class.hashCode();
    }

    @Override
    public long numParams(boolean backprop) {
        return 0;
    }

    @Override
    public int minVertexInputs() {
        return 2;
    }

    @Override
    public int maxVertexInputs() {
        return 2;
    }

    @Override
    public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(ComputationGraph graph, String name, int idx,
            INDArray paramsView, boolean initializeParams, DataType networkDatatype) {
        return new Impl(graph, name, idx, networkDatatype);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType... vertexInputs) throws InvalidInputTypeException {
        if (vertexInputs.length != 2 || !vertexInputs[0].equals(vertexInputs[1])) {
            throw new InvalidInputTypeException("add+relu needs two inputs of one type, got "
                    + Arrays.toString(vertexInputs));
        }
        return vertexInputs[0];
    }

    @Override
    public MemoryReport getMemoryReport(InputType... inputTypes) {
        return new LayerMemoryReport.Builder(null, AddReluVertex.class, inputTypes[0], inputTypes[0]).standardMemory(0, 0)
                .workingMemory(0, 0, 0, 0).cacheMemory(0, 0).build();
    }

    /** The runtime vertex. */
    static final class Impl extends BaseGraphVertex implements AddReluKernel.Holder {
        private AddReluKernel kernel;
        private INDArray lastOutput;

        Impl(ComputationGraph graph, String name, int vertexIndex, DataType dataType) {
            super(graph, name, vertexIndex, null, null, dataType);
        }

        @Override
        public boolean hasLayer() {
            return false;
        }

        @Override
        public org.deeplearning4j.nn.api.Layer getLayer() {
            return null;
        }

        @Override
        public INDArray doForward(boolean training, LayerWorkspaceMgr workspaceMgr) {
            if (!canDoForward()) {
                throw new IllegalStateException("add+relu vertex '" + vertexName + "': inputs are not set");
            }
            INDArray a = inputs[0];
            INDArray b = inputs[1];
            if (!Arrays.equals(a.shape(), b.shape())) {
                throw new IllegalArgumentException("add+relu vertex '" + vertexName + "': input shapes differ, "
                        + Arrays.toString(a.shape()) + " vs " + Arrays.toString(b.shape()));
            }
            INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, a.dataType(), a.shape(), 'c');
            kernel().forward(a, b, out);
            // the backward pass reads its mask from this output (alive in the graph's activations until then)
            lastOutput = out;
            return out;
        }

        @Override
        public AddReluKernel kernel() {
            if (kernel == null) {
                kernel = AddReluKernel.create();
            }
            return kernel;
        }

        @Override
        public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
            if (!canDoBackward()) {
                throw new IllegalStateException("add+relu vertex '" + vertexName + "': inputs or gradient not set");
            }
            if (!Arrays.equals(inputs[0].shape(), epsilon.shape())) {
                throw new IllegalArgumentException("add+relu vertex '" + vertexName + "': gradient shape "
                        + Arrays.toString(epsilon.shape()) + ", output shape " + Arrays.toString(inputs[0].shape()));
            }
            if (lastOutput == null || !Arrays.equals(lastOutput.shape(), epsilon.shape())) {
                throw new IllegalStateException("add+relu vertex '" + vertexName + "': backward pass without a forward "
                        + "pass of the gradient's shape " + Arrays.toString(epsilon.shape()));
            }
            INDArray g = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, epsilon.dataType(),
                    epsilon.shape(), 'c');
            kernel().backward(lastOutput, epsilon, g);
            INDArray g2 = workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, g);
            kernel().gradientsHandedOn(g, g2);
            return new Pair<>(null, new INDArray[]{g, g2});
        }

        @Override
        public void setBackpropGradientsViewArray(INDArray backpropGradientsViewArray) {
            if (backpropGradientsViewArray != null) {
                throw new IllegalArgumentException("add+relu vertex has no parameters");
            }
        }

        @Override
        public Pair<INDArray, MaskState> feedForwardMaskArrays(INDArray[] maskArrays, MaskState currentMaskState,
                                                               int minibatchSize) {
            return new Pair<>(maskArrays == null || maskArrays.length == 0 ? null : maskArrays[0], currentMaskState);
        }

        @Override
        public String toString() {
            return "AddReluVertex(" + vertexName + ")";
        }
    }
}
