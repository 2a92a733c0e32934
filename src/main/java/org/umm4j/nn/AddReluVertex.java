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
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Arrays;

/**
 * Graph vertex {@code y = relu(a + b)} for two inputs of equal shape (any rank): the residual sum and the ReLU after
 * it in one vertex, used by {@link InferenceGraph} and by {@link WorkspaceBackprop}'s training twin.
 *
 * <p>DL4J computes the same thing as an {@code ElementWiseVertex(Add)} (which copies its first input, then adds the
 * second in place) followed by an {@code ActivationLayer} (which, in inference, first copies its input into its own
 * workspace when it lives in another one, then applies the ReLU in place): up to four passes over the activation and
 * two allocations. This vertex writes {@code a + b} into one new activation array and applies the ReLU to it in
 * place: two passes, one allocation. Backward, {@code dL/da = dL/db = dL/dy [a + b > 0]} (the sum recomputed with
 * the same float operation as the forward, so the same elements pass): the sum, DL4J's vectorised {@code step} and a
 * multiply in one array, and a copy for the second input (DL4J may accumulate into either). DL4J's pair costs five
 * passes there (the activation layer's copy, step and multiply, one copy of the gradient per input). No parameters.
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
    static final class Impl extends BaseGraphVertex {
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
            return Transforms.relu(sum(ArrayType.ACTIVATIONS, workspaceMgr), false);
        }

        /** {@code a + b} in a new array of {@code type} (the backward pass recomputes the forward's sum this way). */
        private INDArray sum(ArrayType type, LayerWorkspaceMgr workspaceMgr) {
            INDArray a = inputs[0];
            INDArray b = inputs[1];
            if (!Arrays.equals(a.shape(), b.shape())) {
                throw new IllegalArgumentException("add+relu vertex '" + vertexName + "': input shapes differ, "
                        + Arrays.toString(a.shape()) + " vs " + Arrays.toString(b.shape()));
            }
            INDArray out = workspaceMgr.createUninitialized(type, a.dataType(), a.shape(), 'c');
            a.addi(b, out);
            return out;
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
            INDArray g = sum(ArrayType.ACTIVATION_GRAD, workspaceMgr);
            Nd4j.getExecutioner().exec(new Step(g, g, 0.0));
            g.muli(epsilon);
            return new Pair<>(null, new INDArray[]{g, workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, g)});
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
