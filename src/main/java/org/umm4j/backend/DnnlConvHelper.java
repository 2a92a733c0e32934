package org.umm4j.backend;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.convolution_backward_data;
import org.bytedeco.dnnl.convolution_backward_weights;
import org.bytedeco.dnnl.convolution_forward;
import org.bytedeco.dnnl.memory;
import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.function.Consumer;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.algorithm;
import static org.bytedeco.dnnl.global.dnnl.prop_kind;

/**
 * DL4J convolution helper that calls oneDNN directly (JavaCPP's {@code dnnl} preset) with primitives created once per
 * layer and input shape, for NCHW FLOAT layers of any width, stride, padding and dilation.
 *
 * <p>For {@code y = conv(x, W) + b} (x [N, C, H, W], W [O, C, kH, kW] as DL4J stores it, y [N, O, oH, oW]) and
 * {@code dy = dL/dy} it runs oneDNN's direct algorithm for the forward pass, {@code dL/dx} (backward data) and
 * {@code dL/dW, dL/db} (backward weights), each on the blocked layouts oneDNN picks, with reorders from and to DL4J's
 * plain arrays into buffers shared by the graph's helpers ({@link DnnlContext}). A layer created with
 * {@code inputGradient = false} (the first layer of umm4j's workspace twin, whose input gradient is never returned)
 * skips the backward-data pass and returns zeros for dL/dx.
 *
 * <p>Why: libnd4j's {@code conv2d}/{@code conv2d_bp} (what DL4J's {@link MKLDNNConvHelper} runs) rebuild every
 * primitive and allocate every blocked buffer per call, reorder inputs several times per backward pass and pick
 * Winograd for 3x3 backward passes; per layer, batch 256, one thread (benchmarks/README.md): 16 -> 16 channels at
 * 32x32 backward 77.7 ms there against about 26 ms here. Inputs this helper does not handle (other data types or
 * layouts, non-contiguous arrays, shapes whose right padding would be negative) take the parent's code unchanged.
 *
 * <p>Not thread-safe; the helpers of one graph share scratch buffers (one graph, one thread at a time).
 */
final class DnnlConvHelper extends MKLDNNConvHelper {
    private final DnnlContext ctx;
    private final boolean inputGradient;
    private final int winogradMinChannels;
    private Plan plan;
    private Consumer<INDArray> outputSink;
    private long forwardCalls;
    /** The blocked edge to the BatchNorm layer reading this layer's output, or null (NCHW output). */
    private BlockedHandoff handoff;
    /** The blocked edge from the BatchNorm whose output this layer alone reads, or null (NCHW input). */
    private BlockedEdge inEdge;
    /** Whether the last forward pass read its input from {@link #inEdge}. */
    private boolean blockedInput;

    /**
     * @param ctx           the engine and scratch buffers shared with the other helpers of the graph
     * @param inputGradient whether dL/dx is computed (false: zeros are returned in its place)
     * @param winogradMinChannels 3x3 stride-1 undilated layers with at least this many input and output channels run
     *                      oneDNN's Winograd algorithm where the CPU has it ({@link Integer#MAX_VALUE}: never)
     */
    DnnlConvHelper(DataType dataType, DnnlContext ctx, boolean inputGradient, int winogradMinChannels) {
        super(dataType);
        this.ctx = ctx;
        this.inputGradient = inputGradient;
        this.winogradMinChannels = winogradMinChannels;
    }

    boolean computesInputGradient() {
        return inputGradient;
    }

    DnnlContext context() {
        return ctx;
    }

    /** Pairs this layer with the BatchNorm layer that alone reads its output (see {@link BlockedHandoff}). */
    void pair(BlockedHandoff h) {
        this.handoff = h;
    }

    BlockedHandoff handoff() {
        return handoff;
    }

    /** Reads this layer's input from the blocked output of the BatchNorm before it (see {@link BlockedEdge}). */
    void pairInput(BlockedEdge e) {
        this.inEdge = e;
    }

    BlockedEdge input() {
        return inEdge;
    }

    /** The geometry of the last call handled by oneDNN here, or null if none was. */
    Geometry lastGeometry() {
        return plan == null ? null : plan.g;
    }

    /** oneDNN's name of the forward implementation of the last call handled here, or null if none was. */
    String lastImplementation() {
        return plan == null ? null : plan.fpd.impl_info_str().getString();
    }

    /**
     * Hands every output this helper computes to {@code sink} (DL4J's {@code setPreOutput} of the layer, whose
     * activation is the identity): DL4J's backward pass then finds its cached pre-activation without the forward cache
     * copying it, and without running the forward pass again.
     */
    void keepOutputsIn(Consumer<INDArray> sink) {
        this.outputSink = sink;
    }

    boolean keepsOutputs() {
        return outputSink != null;
    }

    /** How many forward passes this helper ran (tests: DL4J must not recompute one inside its backward pass). */
    long forwardCalls() {
        return forwardCalls;
    }

    @Override
    public INDArray preOutput(INDArray input, INDArray weights, INDArray bias, int[] kernel, int[] strides, int[] pad,
                              ConvolutionLayer.AlgoMode mode, ConvolutionLayer.FwdAlgo fwdAlgo,
                              ConvolutionMode convolutionMode, int[] dilation, CNN2DFormat format,
                              LayerWorkspaceMgr workspaceMgr) {
        forwardCalls++;
        INDArray out = forward(input, weights, bias, kernel, strides, pad, mode, fwdAlgo, convolutionMode, dilation,
                format, workspaceMgr);
        if (outputSink != null) {
            outputSink.accept(out);
        }
        return out;
    }

    private INDArray forward(INDArray input, INDArray weights, INDArray bias, int[] kernel, int[] strides, int[] pad,
                             ConvolutionLayer.AlgoMode mode, ConvolutionLayer.FwdAlgo fwdAlgo,
                             ConvolutionMode convolutionMode, int[] dilation, CNN2DFormat format,
                             LayerWorkspaceMgr workspaceMgr) {
        Geometry g = Geometry.of(input, weights, bias, kernel, strides, pad, convolutionMode, dilation, format);
        if (g == null) {
            if (handoff != null) {
                handoff.convolutionWrotePlain();
            }
            return super.preOutput(input, weights, bias, kernel, strides, pad, mode, fwdAlgo, convolutionMode,
                    dilation, format, workspaceMgr);
        }
        Plan p = plan(g);
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT,
                new long[]{g.n, g.oc, g.oh, g.ow}, 'c');
        memory src = blockedInput(ctx, p.fSrc, input);
        p.fWeights.load(ctx, weights);
        if (p.fBias != null) {
            p.fBias.load(ctx, bias);
        }
        IntMemoryMap args = p.fArgs;
        if (src != p.fSrc.inner || handoff != null) {
            args = new IntMemoryMap().put(p.fArgs);
            args.put(DNNL_ARG_SRC, src);
        }
        if (handoff != null && BlockedHandoff.fits(p.fpd.dst_desc(), out)) {
            // the output goes blocked into DL4J's array, for the paired BatchNorm
            args.put(DNNL_ARG_DST, handoff.convolutionOutput(p.fpd.dst_desc(), g.dstDims(), out));
            ctx.execute(p.fwd, args);
            handoff.convolutionDone(out);
            return out;
        }
        if (handoff != null) {
            handoff.convolutionWrotePlain();
        }
        p.fDst.bind(ctx, out);
        ctx.execute(p.fwd, args);
        p.fDst.store(ctx);
        return out;
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
        Geometry g = Geometry.of(input, weights, bias, kernel, strides, pad, convolutionMode, dilation, format);
        if (g == null || !DnnlContext.isPlain(delta) || !Arrays.equals(delta.shape(), new long[]{g.n, g.oc, g.oh, g.ow})
                || !DnnlContext.isPlain(weightGradView) || weightGradView.length() != weights.length()
                || (biasGradView != null) != g.bias
                || (biasGradView != null && (!DnnlContext.isPlain(biasGradView) || biasGradView.length() != g.oc))) {
            return super.backpropGradient(input, weights, bias, delta, kernel, strides, pad, biasGradView,
                    weightGradView, afn, mode, bwdFilterAlgo, bwdDataAlgo, convolutionMode, dilation, format,
                    workspaceMgr);
        }
        Plan p = plan(g);
        p.ensureBackward(ctx, inputGradient);
        // with a paired BatchNorm, dL/dy is its blocked dL/dx (in DL4J's array)
        memory blockedDy = handoff != null && !handoff.lastForwardPlain()
                ? handoff.convolutionOutputGradient(delta) : null;
        IntMemoryMap wArgs = p.wArgs;
        if (blockedDy == null) {
            p.wDiffDst.load(ctx, delta);
        } else {
            wArgs = p.withBlocked(ctx, p.wArgs, p.wDiffDst, blockedDy);
        }
        memory src = blockedInput(ctx, p.wSrc, input);
        if (src != p.wSrc.inner) {
            wArgs = new IntMemoryMap().put(wArgs);
            wArgs.put(DNNL_ARG_SRC, src);
        }
        p.wDiffWeights.bind(ctx, weightGradView);
        if (p.wDiffBias != null) {
            p.wDiffBias.bind(ctx, biasGradView);
        }
        ctx.execute(p.bwdWeights, wArgs);
        p.wDiffWeights.store(ctx);
        if (p.wDiffBias != null) {
            p.wDiffBias.store(ctx);
        }
        INDArray epsilon;
        if (inputGradient) {
            epsilon = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape(), 'c');
            IntMemoryMap dArgs = p.dArgs;
            if (blockedDy != null) {
                dArgs = p.withBlocked(ctx, p.dArgs, p.dDiffDst, blockedDy);
            } else if (p.dDiffDst != p.wDiffDst) {
                p.dDiffDst.load(ctx, delta);
            }
            p.dWeights.load(ctx, weights);
            if (blockedInput) {
                // dL/dx goes blocked into DL4J's array, for the BatchNorm before this layer
                memory grad = inEdge.gradFor(epsilon);
                if (grad.get_desc().equals(p.dDiffSrc.inner.get_desc())) {
                    dArgs = new IntMemoryMap().put(dArgs);
                    dArgs.put(DNNL_ARG_DIFF_SRC, grad);
                    ctx.execute(p.bwdData, dArgs);
                } else {
                    p.dDiffSrc.inner.set_data_handle(ctx.slot(2, p.dDiffSrc.inner.get_desc().get_size()));
                    ctx.execute(p.bwdData, dArgs);
                    new DnnlContext.Reorder(p.dDiffSrc.inner, grad).run(ctx);
                }
                inEdge.gradWritten(epsilon);
            } else {
                p.dDiffSrc.bind(ctx, epsilon);
                ctx.execute(p.bwdData, dArgs);
                p.dDiffSrc.store(ctx);
            }
        } else {
            epsilon = workspaceMgr.create(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape(), 'c');
        }
        Gradient grad = new DefaultGradient();
        if (biasGradView != null) {
            grad.gradientForVariable().put(ConvolutionParamInitializer.BIAS_KEY, biasGradView);
        }
        grad.gradientForVariable().put(ConvolutionParamInitializer.WEIGHT_KEY, weightGradView);
        return new Pair<>(grad, epsilon);
    }

    /**
     * The memory holding this call's input in {@code operand}'s layout: the paired BatchNorm's blocked output
     * (reordered into the operand's scratch slot if the primitive wants another layout) or {@code input} loaded into
     * the operand as usual. Records whether the blocked edge was used.
     */
    private memory blockedInput(DnnlContext c, Operand operand, INDArray input) {
        memory v = inEdge == null ? null : inEdge.value(input);
        blockedInput = v != null;
        if (v == null) {
            operand.load(c, input);
            return operand.inner;
        }
        if (v.get_desc().equals(operand.inner.get_desc())) {
            return v;
        }
        operand.inner.set_data_handle(c.slot(0, operand.inner.get_desc().get_size()));
        new DnnlContext.Reorder(v, operand.inner).run(c);
        return operand.inner;
    }

    private Plan plan(Geometry g) {
        if (plan == null || !plan.g.equals(g)) {
            plan = new Plan(ctx, g, g.winogradEligible(winogradMinChannels));
        }
        return plan;
    }

    /**
     * Shapes of one convolution call, in oneDNN's terms: dilation counts the skipped pixels (DL4J's minus one),
     * padding is given at both ends.
     */
    record Geometry(long n, long ic, long h, long w, long oc, long kh, long kw, long oh, long ow, long[] stride,
                    long[] dilation, long[] padL, long[] padR, boolean bias) {
        /** @return the geometry, or null if this helper does not handle the call (the parent's code then does) */
        static Geometry of(INDArray input, INDArray weights, INDArray bias, int[] kernel, int[] strides, int[] pad,
                           ConvolutionMode convolutionMode, int[] dilation, CNN2DFormat format) {
            if (format != CNN2DFormat.NCHW || !DnnlContext.isPlain(input) || !DnnlContext.isPlain(weights)
                    || input.rank() != 4 || weights.rank() != 4 || (bias != null && !DnnlContext.isPlain(bias))
                    || weights.size(1) != input.size(1) || weights.size(2) != kernel[0]
                    || weights.size(3) != kernel[1] || (bias != null && bias.length() != weights.size(0))) {
                return null;
            }
            int[] d = dilation == null ? new int[]{1, 1} : dilation;
            int[] in = {(int) input.size(2), (int) input.size(3)};
            int[] out;
            int[] left;
            try {
                if (convolutionMode == ConvolutionMode.Same) {
                    out = ConvolutionUtils.getOutputSize(input, kernel, strides, null, convolutionMode, d, format);
                    left = ConvolutionUtils.getSameModeTopLeftPadding(out, in, kernel, strides, d);
                } else {
                    out = ConvolutionUtils.getOutputSize(input, kernel, strides, pad, convolutionMode, d, format);
                    left = pad;
                }
            } catch (RuntimeException e) {
                return null; // the parent's call validates again and reports the problem in DL4J's words
            }
            // oneDNN's rule: out = (in + padL + padR - ((k - 1) * d + 1)) / stride + 1, rounded down; the smallest
            // non-negative padR that gives DL4J's output size (rows a stride-2 layer drops need no padding)
            long[] padR = new long[2];
            for (int i = 0; i < 2; i++) {
                long extent = (long) (kernel[i] - 1) * d[i] + 1;
                padR[i] = Math.max(0, (long) (out[i] - 1) * strides[i] + extent - in[i] - left[i]);
                if (left[i] < 0 || out[i] <= 0 || (in[i] + left[i] + padR[i] - extent) / strides[i] + 1 != out[i]) {
                    return null;
                }
            }
            return new Geometry(input.size(0), input.size(1), in[0], in[1], weights.size(0), kernel[0], kernel[1],
                    out[0], out[1], new long[]{strides[0], strides[1]}, new long[]{d[0] - 1, d[1] - 1},
                    new long[]{left[0], left[1]}, padR, bias != null);
        }

        long[] srcDims() {
            return new long[]{n, ic, h, w};
        }

        /**
         * Whether Winograd is worth trying: 3x3, stride 1, no dilation, at least {@code minChannels} input and output
         * channels (oneDNN's F(4x4, 3x3) kernels lose to direct ones at 16 channels on 32x32 maps and win 27-40 % at
         * 32-128 channels, about 2x at 64-512: benchmarks/README.md).
         */
        boolean winogradEligible(int minChannels) {
            return kh == 3 && kw == 3 && stride[0] == 1 && stride[1] == 1 && dilation[0] == 0 && dilation[1] == 0
                    && ic >= minChannels && oc >= minChannels;
        }

        long[] dstDims() {
            return new long[]{n, oc, oh, ow};
        }

        long[] weightDims() {
            return new long[]{oc, ic, kh, kw};
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Geometry q && n == q.n && ic == q.ic && h == q.h && w == q.w && oc == q.oc
                    && kh == q.kh && kw == q.kw && oh == q.oh && ow == q.ow && Arrays.equals(stride, q.stride)
                    && Arrays.equals(dilation, q.dilation) && Arrays.equals(padL, q.padL)
                    && Arrays.equals(padR, q.padR) && bias == q.bias;
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(new long[]{n, ic, h, w, oc, kh, kw, oh, ow, stride[0], stride[1], dilation[0],
                    dilation[1], padL[0], padL[1], padR[0], padR[1], bias ? 1 : 0});
        }

        @Override
        public String toString() {
            return "conv " + ic + "->" + oc + " k" + kh + "x" + kw + " s" + Arrays.toString(stride) + " on " + n
                    + "x" + ic + "x" + h + "x" + w;
        }
    }

    /** The primitives of one geometry; backward ones created on the first backward pass. */
    private static final class Plan {
        final Geometry g;
        /** Direct, or Winograd where the geometry qualifies and oneDNN has all three passes for it. */
        final algorithm algo;
        final convolution_forward.primitive_desc fpd;
        final convolution_forward fwd;
        final Operand fSrc;
        final Operand fWeights;
        final Operand fBias;
        final Operand fDst;
        final IntMemoryMap fArgs = new IntMemoryMap();

        convolution_backward_weights bwdWeights;
        Operand wSrc;
        Operand wDiffDst;
        Operand wDiffWeights;
        Operand wDiffBias;
        final IntMemoryMap wArgs = new IntMemoryMap();
        convolution_backward_data bwdData;
        Operand dDiffDst;
        Operand dWeights;
        Operand dDiffSrc;
        final IntMemoryMap dArgs = new IntMemoryMap();

        Plan(DnnlContext ctx, Geometry g, boolean winograd) {
            this.g = g;
            convolution_forward.primitive_desc wino = winograd ? winogradOrNull(ctx, g) : null;
            this.algo = wino != null ? algorithm.convolution_winograd : algorithm.convolution_direct;
            fpd = wino != null ? wino : forwardDesc(ctx, g, algo);
            fwd = new convolution_forward(fpd);
            fSrc = new Operand(ctx, nchw(g.srcDims()), fpd.src_desc(), 0);
            fWeights = new Operand(ctx, oihw(g.weightDims()), fpd.weights_desc(), -1);
            fBias = g.bias ? new Operand(ctx, plain(new long[]{g.oc}, memory.format_tag.x), fpd.bias_desc(), -1) : null;
            fDst = new Operand(ctx, nchw(g.dstDims()), fpd.dst_desc(), 1);
            fArgs.put(DNNL_ARG_SRC, fSrc.inner);
            fArgs.put(DNNL_ARG_WEIGHTS, fWeights.inner);
            if (fBias != null) {
                fArgs.put(DNNL_ARG_BIAS, fBias.inner);
            }
            fArgs.put(DNNL_ARG_DST, fDst.inner);
        }

        void ensureBackward(DnnlContext ctx, boolean inputGradient) {
            if (bwdWeights == null) {
                convolution_backward_weights.primitive_desc pd = backwardWeightsDesc(ctx, g, algo, fpd);
                bwdWeights = new convolution_backward_weights(pd);
                wSrc = new Operand(ctx, nchw(g.srcDims()), pd.src_desc(), 0);
                wDiffDst = new Operand(ctx, nchw(g.dstDims()), pd.diff_dst_desc(), 1);
                wDiffWeights = new Operand(ctx, oihw(g.weightDims()), pd.diff_weights_desc(), -1);
                wDiffBias = g.bias
                        ? new Operand(ctx, plain(new long[]{g.oc}, memory.format_tag.x), pd.diff_bias_desc(), -1)
                        : null;
                wArgs.put(DNNL_ARG_SRC, wSrc.inner);
                wArgs.put(DNNL_ARG_DIFF_DST, wDiffDst.inner);
                wArgs.put(DNNL_ARG_DIFF_WEIGHTS, wDiffWeights.inner);
                if (wDiffBias != null) {
                    wArgs.put(DNNL_ARG_DIFF_BIAS, wDiffBias.inner);
                }
            }
            if (inputGradient && bwdData == null) {
                convolution_backward_data.primitive_desc pd = backwardDataDesc(ctx, g, algo, fpd);
                bwdData = new convolution_backward_data(pd);
                // dy is reordered once when both passes want it in the same layout (the usual case)
                dDiffDst = pd.diff_dst_desc().equals(wDiffDst.inner.get_desc())
                        ? wDiffDst : new Operand(ctx, nchw(g.dstDims()), pd.diff_dst_desc(), 3);
                dWeights = new Operand(ctx, oihw(g.weightDims()), pd.weights_desc(), -1);
                dDiffSrc = new Operand(ctx, nchw(g.srcDims()), pd.diff_src_desc(), 2);
                dArgs.put(DNNL_ARG_DIFF_DST, dDiffDst.inner);
                dArgs.put(DNNL_ARG_WEIGHTS, dWeights.inner);
                dArgs.put(DNNL_ARG_DIFF_SRC, dDiffSrc.inner);
            }
        }

        /**
         * {@code args} with the output gradient taken from {@code blocked} (the paired BatchNorm's dL/dx): directly
         * when the primitive wants that layout, else reordered into the operand's layout first.
         */
        IntMemoryMap withBlocked(DnnlContext ctx, IntMemoryMap args, Operand diffDst, memory blocked) {
            IntMemoryMap m = new IntMemoryMap().put(args); // a copy
            if (blocked.get_desc().equals(diffDst.inner.get_desc())) {
                m.put(DNNL_ARG_DIFF_DST, blocked);
            } else {
                diffDst.inner.set_data_handle(ctx.slot(3, diffDst.inner.get_desc().get_size()));
                new DnnlContext.Reorder(blocked, diffDst.inner).run(ctx);
                m.put(DNNL_ARG_DIFF_DST, diffDst.inner);
            }
            return m;
        }

        private static convolution_forward.primitive_desc forwardDesc(DnnlContext ctx, Geometry g, algorithm a) {
            memory.desc src = any(g.srcDims());
            memory.desc wts = any(g.weightDims());
            memory.desc dst = any(g.dstDims());
            convolution_forward.desc d = g.bias
                    ? new convolution_forward.desc(prop_kind.forward_training, a, src, wts,
                    plain(new long[]{g.oc}, memory.format_tag.x), dst, g.stride, g.dilation, g.padL, g.padR)
                    : new convolution_forward.desc(prop_kind.forward_training, a, src, wts, dst, g.stride,
                    g.dilation, g.padL, g.padR);
            return new convolution_forward.primitive_desc(d, ctx.cpu);
        }

        private static convolution_backward_data.primitive_desc backwardDataDesc(
                DnnlContext ctx, Geometry g, algorithm a, convolution_forward.primitive_desc hint) {
            return new convolution_backward_data.primitive_desc(new convolution_backward_data.desc(a,
                    any(g.srcDims()), any(g.weightDims()), any(g.dstDims()), g.stride, g.dilation, g.padL, g.padR),
                    ctx.cpu, hint);
        }

        private static convolution_backward_weights.primitive_desc backwardWeightsDesc(
                DnnlContext ctx, Geometry g, algorithm a, convolution_forward.primitive_desc hint) {
            memory.desc src = any(g.srcDims());
            memory.desc wts = any(g.weightDims());
            memory.desc dst = any(g.dstDims());
            convolution_backward_weights.desc d = g.bias
                    ? new convolution_backward_weights.desc(a, src, wts, plain(new long[]{g.oc}, memory.format_tag.x),
                    dst, g.stride, g.dilation, g.padL, g.padR)
                    : new convolution_backward_weights.desc(a, src, wts, dst, g.stride, g.dilation, g.padL, g.padR);
            return new convolution_backward_weights.primitive_desc(d, ctx.cpu, hint);
        }

        /**
         * Winograd's forward descriptor when oneDNN implements all three passes for {@code g} on this CPU (it has
         * F(4x4, 3x3) kernels for AVX-512 only), else null.
         */
        private static convolution_forward.primitive_desc winogradOrNull(DnnlContext ctx, Geometry g) {
            algorithm a = algorithm.convolution_winograd;
            try {
                convolution_forward.primitive_desc f = forwardDesc(ctx, g, a);
                backwardDataDesc(ctx, g, a, f).close();
                backwardWeightsDesc(ctx, g, a, f).close();
                return f;
            } catch (RuntimeException unimplemented) {
                // oneDNN signals "no implementation" by exception; direct is then the choice
                return null;
            }
        }

        private static memory.desc any(long[] dims) {
            return plain(dims, memory.format_tag.any);
        }

        private static memory.desc nchw(long[] dims) {
            return plain(dims, memory.format_tag.nchw);
        }

        private static memory.desc oihw(long[] dims) {
            return plain(dims, memory.format_tag.oihw);
        }

        private static memory.desc plain(long[] dims, memory.format_tag tag) {
            return new memory.desc(dims, memory.data_type.f32, tag);
        }
    }

    /**
     * One argument of a primitive as DL4J holds it (plain layout, {@link #user}) and as the primitive reads or writes
     * it ({@link #inner}: the same memory when the layouts agree, else a scratch slot or, for small operands, a buffer
     * of its own, with reorders between the two).
     */
    private static final class Operand {
        final memory user;
        final memory inner;
        private final int slot;
        private final long bytes;
        private final DnnlContext.Reorder toInner;
        private final DnnlContext.Reorder toUser;

        Operand(DnnlContext ctx, memory.desc plain, memory.desc chosen, int slot) {
            user = new memory(plain, ctx.cpu, new Pointer());
            if (chosen.equals(plain)) {
                inner = user;
                this.slot = -1;
                bytes = 0;
                toInner = null;
                toUser = null;
            } else {
                inner = slot >= 0 ? new memory(chosen, ctx.cpu, new Pointer()) : new memory(chosen, ctx.cpu);
                this.slot = slot;
                bytes = chosen.get_size();
                toInner = new DnnlContext.Reorder(user, inner);
                toUser = new DnnlContext.Reorder(inner, user);
            }
        }

        /** Points this operand at {@code a}'s buffer (and its scratch slot) without copying. */
        void bind(DnnlContext ctx, INDArray a) {
            user.set_data_handle(DnnlContext.pointerOf(a));
            if (inner != user && slot >= 0) {
                inner.set_data_handle(ctx.slot(slot, bytes));
            }
        }

        /** Binds {@code a} and copies it into the primitive's layout. */
        void load(DnnlContext ctx, INDArray a) {
            bind(ctx, a);
            if (toInner != null) {
                toInner.run(ctx);
            }
        }

        /** Copies the primitive's result back into the bound array. */
        void store(DnnlContext ctx) {
            if (toUser != null) {
                toUser.run(ctx);
            }
        }
    }
}
