package org.umm4j.backend;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * DL4J's oneDNN convolution helper with a different backward pass for stride-1 "same" convolutions of NCHW FLOAT
 * inputs, where libnd4j's {@code conv2d_bp} is slow.
 *
 * <p>For {@code y = conv(x, W)} (cross-correlation, padding (k-1)/2, stride 1, dilation 1) and {@code dy = dL/dy}:
 * <pre>
 *   dL/dx = conv^T(dy, W)                       libnd4j deconv2d (transposed convolution, oneDNN's direct kernel)
 *   dL/dW = d/dW &lt;conv^T(dy, W), x&gt;             libnd4j deconv2d_bp with input dy and output gradient x
 *   dL/db = sum over n, h, w of dy
 * </pre>
 * The second line holds because {@code conv^T(., W)} is the adjoint of {@code conv(., W)}: {@code <conv(x, W), dy> =
 * <x, conv^T(dy, W)>} for every W, so both sides have the same W-gradient. {@code deconv2d_bp} also returns the
 * gradient with respect to its input, which is {@code conv(x, W)}: computed and discarded (one forward convolution).
 *
 * <p>Why: {@code conv2d_bp} asks oneDNN for {@code convolution_auto}, which picks Winograd for the backward data pass
 * of 3x3 layers with few channels (3x slower than the direct kernel here), and it always computes dL/dx, also for a
 * first layer whose input gradient nobody reads. Measured per call, batch 256, 2 threads (benchmarks/README.md):
 * 16 -> 16 channels at 32x32: 59 ms for {@code conv2d_bp} vs 15 + 35 ms; the CIFAR stem 3 -> 16 without dL/dx:
 * 57 vs 10 ms. With 32 or more channels {@code conv2d_bp} is faster, so only layers with at most
 * {@value #MAX_CHANNELS} input and output channels take the transposed path for dL/dx; a layer created with
 * {@code inputGradient = false} (the first layer of umm4j's workspace twin, whose input gradient is never returned)
 * gets a zero dL/dx and only the weight gradient, whatever its width. Everything else is the parent's code.
 *
 * <p>Since {@link DnnlConvHelper} (oneDNN called directly, faster for every layer) this helper is the choice of
 * {@code -Dumm4j.fastconv=deconv} and the fallback where JavaCPP's dnnl natives cannot load.
 */
class NarrowConvHelper extends MKLDNNConvHelper {
    /** Largest input and output channel count for which dL/dx goes through {@code deconv2d}. */
    static final int MAX_CHANNELS = 16;

    private final boolean inputGradient;
    private final boolean hasBias;
    /** {@code deconv2d_bp}'s discarded output, reused between calls (outside workspaces: DL4J's may be closed). */
    private INDArray scratch;

    /**
     * @param inputGradient whether dL/dx is computed (false: a zero array is returned in its place)
     * @param hasBias       whether the layer has a bias (its gradient is then computed)
     */
    NarrowConvHelper(DataType dataType, boolean inputGradient, boolean hasBias) {
        super(dataType);
        this.inputGradient = inputGradient;
        this.hasBias = hasBias;
    }

    boolean computesInputGradient() {
        return inputGradient;
    }

    /** @return whether a layer of this shape takes this helper's backward pass (else the parent's) */
    static boolean eligible(long inChannels, long outChannels, boolean inputGradient) {
        return !inputGradient || (inChannels <= MAX_CHANNELS && outChannels <= MAX_CHANNELS);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray weights, INDArray bias, INDArray delta,
                                                     int[] kernel, int[] strides, int[] pad, INDArray biasGradView,
                                                     INDArray weightGradView, IActivation afn,
                                                     ConvolutionLayer.AlgoMode mode,
                                                     ConvolutionLayer.BwdFilterAlgo bwdFilterAlgo,
                                                     ConvolutionLayer.BwdDataAlgo bwdDataAlgo,
                                                     ConvolutionMode convolutionMode, int[] dilation,
                                                     CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
        if (!sameStrideOne(input, weights, delta, kernel, strides, pad, dilation, format)
                || !eligible(weights.size(1), weights.size(0), inputGradient)) {
            return super.backpropGradient(input, weights, bias, delta, kernel, strides, pad, biasGradView,
                    weightGradView, afn, mode, bwdFilterAlgo, bwdDataAlgo, convolutionMode, dilation, format,
                    workspaceMgr);
        }
        int[] args = {kernel[0], kernel[1], 1, 1, pad[0], pad[1], 1, 1, 0, 0, 1}; // NCHW, weights [oC, iC, kH, kW]
        if (scratch == null || !Arrays.equals(scratch.shape(), delta.shape())) {
            try (MemoryWorkspace ws = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                scratch = Nd4j.createUninitialized(DataType.FLOAT, delta.shape(), 'c');
            }
        }
        Nd4j.exec(DynamicCustomOp.builder("deconv2d_bp").addInputs(delta, weights, input)
                .addOutputs(scratch, weightGradView).addIntegerArguments(args).build());
        if (hasBias && biasGradView != null) {
            biasGradView.assign(delta.sum(0, 2, 3).reshape(biasGradView.shape()));
        }
        INDArray epsilon;
        if (inputGradient) {
            epsilon = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape(), 'c');
            Nd4j.exec(DynamicCustomOp.builder("deconv2d").addInputs(delta, weights).addOutputs(epsilon)
                    .addIntegerArguments(args).build());
        } else {
            epsilon = workspaceMgr.create(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape(), 'c');
        }
        Gradient g = new DefaultGradient();
        if (biasGradView != null) {
            g.gradientForVariable().put(ConvolutionParamInitializer.BIAS_KEY, biasGradView);
        }
        g.gradientForVariable().put(ConvolutionParamInitializer.WEIGHT_KEY, weightGradView);
        return new Pair<>(g, epsilon);
    }

    /** NCHW FLOAT, stride 1, dilation 1, odd kernel with padding (k-1)/2: output and input of one spatial size. */
    private static boolean sameStrideOne(INDArray input, INDArray weights, INDArray delta, int[] kernel, int[] strides,
                                         int[] pad, int[] dilation, CNN2DFormat format) {
        return format == CNN2DFormat.NCHW && input.dataType() == DataType.FLOAT && weights.dataType() == DataType.FLOAT
                && delta.dataType() == DataType.FLOAT && input.rank() == 4 && delta.rank() == 4
                && strides[0] == 1 && strides[1] == 1 && (dilation == null || dilation[0] == 1 && dilation[1] == 1)
                && kernel[0] % 2 == 1 && kernel[1] % 2 == 1 && pad[0] == kernel[0] / 2 && pad[1] == kernel[1] / 2
                && input.size(2) == delta.size(2) && input.size(3) == delta.size(3) && input.size(0) == delta.size(0)
                && weights.size(0) == delta.size(1) && weights.size(1) == input.size(1);
    }
}
