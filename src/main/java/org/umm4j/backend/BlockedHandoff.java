package org.umm4j.backend;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.batch_normalization_backward;
import org.bytedeco.dnnl.batch_normalization_forward;
import org.bytedeco.dnnl.memory;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.ndarray.INDArray;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SCALE_SHIFT;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_MEAN;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SCALE_SHIFT;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_VARIANCE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WORKSPACE;
import static org.bytedeco.dnnl.global.dnnl.normalization_flags;
import static org.bytedeco.dnnl.global.dnnl.prop_kind;

/**
 * The edge between a convolution and the BatchNorm layer that alone reads its output, kept in oneDNN's blocked
 * layout: the convolution ({@link DnnlConvHelper}) writes its output into DL4J's output array in the blocked layout
 * (same size as NCHW when the channel count is a multiple of 16), the BatchNorm ({@link FusedBatchNormHelper})
 * normalises it with oneDNN's blocked-layout kernel; backward, the BatchNorm writes dL/dx (the convolution's dL/dy)
 * blocked into the input-gradient array it returns and the convolution reads it from there. No buffers of its own:
 * the values live exactly as long as DL4J keeps those arrays.
 *
 * <p>Why: oneDNN's batch normalisation on a blocked layout ({@code nChw16c}) runs 5-10x faster than on NCHW (its own
 * plain-layout kernel, or umm4j's Java passes), and the convolution's output reorder to NCHW and its gradient's
 * reorder back disappear. Measured per layer, 256x16x32x32, one thread: forward 1.3 ms blocked vs 12.3 ms NCHW
 * (oneDNN) and 6.5 ms (umm4j's Java passes); backward 1.5 vs 15.4 and 9.2 ms (benchmarks/README.md).
 *
 * <p>Contract. DL4J still passes what it takes for NCHW arrays between the two layers: the convolution's output array
 * and the BatchNorm's input-gradient array hold blocked data, and each side checks that the array it receives is the
 * one the other side produced (same buffer address), failing loudly otherwise. Only the twin of
 * {@code WorkspaceBackprop} pairs layers, and only where the convolution's output has no other reader (no requested
 * activation, one consumer). A BatchNorm forward in inference mode first writes the NCHW values
 * ({@link #materialise}).
 *
 * <p>Statistics: batch mean and biased variance over (n, h, w), as DL4J and PyTorch normalise; the ReLU after the
 * BatchNorm can be fused (oneDNN keeps the mask in its workspace). Only layers whose channel count is a multiple of
 * 16 are paired ({@link Umm4jBackend#pairConvolutionBatchNorm}): with 8 channels (a layout padded to 16) the gradients
 * of a tested network were off by 2e-3 relative, so padded layouts are left to the NCHW path.
 */
final class BlockedHandoff {
    private final DnnlContext ctx;
    /** The blocked layout of the convolution's output (the forward primitive's choice). */
    private memory.desc layout;
    private long[] dims;
    /** The convolution's output, blocked, in DL4J's output array (handle set per call). */
    private memory x;
    /** dL/dx of the BatchNorm, blocked, in DL4J's input-gradient array (handle set per call). */
    private memory dx;
    /** Address of DL4J's array for the convolution's output (holding the blocked values). */
    private long outAddress;
    /** Address of DL4J's array for the BatchNorm's input gradient (holding the blocked gradient). */
    private long dxAddress;
    private boolean forwardValid;
    private boolean plainForward = true;
    private boolean backwardValid;
    private Norm norm;

    BlockedHandoff(DnnlContext ctx) {
        this.ctx = ctx;
    }

    DnnlContext context() {
        return ctx;
    }

    /**
     * Whether blocked data of layout {@code desc} fills DL4J's array {@code a} exactly (a plain FLOAT array of the
     * same byte size: no padded channels), so that it can be stored in {@code a}'s buffer.
     */
    static boolean fits(memory.desc desc, INDArray a) {
        return DnnlContext.isPlain(a) && desc.get_size() == a.length() * Float.BYTES;
    }

    /**
     * The memory the convolution writes its output into: DL4J's output array {@code out} itself, holding the blocked
     * layout {@code desc} instead of NCHW (check {@link #fits} first).
     */
    memory convolutionOutput(memory.desc desc, long[] nchw, INDArray out) {
        if (layout == null || !layout.equals(desc)) {
            layout = desc;
            dims = nchw.clone();
            x = new memory(desc, ctx.cpu, new org.bytedeco.javacpp.Pointer());
            dx = new memory(desc, ctx.cpu, new org.bytedeco.javacpp.Pointer());
            norm = null;
            backwardValid = false;
        }
        // (DL4J may recompute a convolution's forward pass inside its backward pass, after the BatchNorm's backward:
        // the same values, and dL/dx of that BatchNorm stays valid)
        forwardValid = false;
        x.set_data_handle(DnnlContext.pointerOf(out));
        return x;
    }

    /** Records that the convolution's forward pass wrote {@link #x}; {@code out} is DL4J's array, now holding them. */
    void convolutionDone(INDArray out) {
        outAddress = DnnlContext.pointerOf(out).address();
        forwardValid = true;
        plainForward = false;
    }

    /** Records that the convolution's last forward pass wrote a real NCHW output (a call it could not take). */
    void convolutionWrotePlain() {
        forwardValid = false;
        backwardValid = false;
        plainForward = true;
    }

    /** Whether the convolution's last forward pass wrote its NCHW output itself. */
    boolean lastForwardPlain() {
        return plainForward;
    }

    /** Whether {@code a} is the convolution output this handoff holds in blocked form. */
    boolean holds(INDArray a) {
        return forwardValid && DnnlContext.pointerOf(a).address() == outAddress;
    }

    /** Rewrites the held convolution output in its array {@code a} as NCHW (for readers that need NCHW values). */
    void materialise(INDArray a) {
        requireHeld(a, "the BatchNorm input");
        long bytes = a.length() * Float.BYTES;
        org.bytedeco.javacpp.Pointer tmp = ctx.slot(1, bytes);
        memory plain = new memory(new memory.desc(dims, memory.data_type.f32, memory.format_tag.nchw), ctx.cpu, tmp);
        x.set_data_handle(DnnlContext.pointerOf(a));
        new DnnlContext.Reorder(x, plain).run(ctx);
        org.bytedeco.javacpp.Pointer.memcpy(DnnlContext.pointerOf(a), tmp, bytes);
        forwardValid = false;
        plainForward = true;
    }

    private void requireHeld(INDArray a, String what) {
        if (!holds(a)) {
            throw new IllegalStateException("blocked convolution -> BatchNorm handoff: " + what + " is not the array "
                    + "the paired convolution's last forward pass produced (umm4j pairs layers only in its training "
                    + "twin; run with -Dumm4j.blockedbn=false to disable)");
        }
    }

    /**
     * Training-mode BatchNorm of the held convolution output: writes y (NCHW) and the batch statistics.
     *
     * @param x     DL4J's input array (the convolution's output, blocked), checked
     * @param mean  [C] batch mean, written
     * @param var   [C] biased batch variance, written
     */
    void batchNormForward(INDArray x, float[] gamma, float[] beta, double eps, boolean relu, INDArray y,
                          float[] mean, float[] var, BlockedEdge out) {
        requireHeld(x, "the BatchNorm input");
        this.x.set_data_handle(DnnlContext.pointerOf(x));
        Norm nm = norm(eps, relu);
        FloatPointer ss = new FloatPointer(nm.scaleShift.get_data_handle());
        ss.put(gamma, 0, gamma.length);
        ss.position(gamma.length).put(beta, 0, beta.length);
        if (out != null && fits(layout, y)) { // y stays blocked (in DL4J's array) for the convolution reading it
            nm.dst.set_data_handle(out.valueFor(layout, y).get_data_handle());
            ctx.execute(nm.fwd, nm.fwdArgs);
            out.valueWritten(y);
        } else {
            if (out != null) {
                out.valueWrittenPlain();
            }
            nm.dst.set_data_handle(ctx.slot(1, layout.get_size()));
            ctx.execute(nm.fwd, nm.fwdArgs);
            nm.toPlain.run(y);
        }
        new FloatPointer(nm.mean.get_data_handle()).get(mean, 0, mean.length);
        new FloatPointer(nm.var.get_data_handle()).get(var, 0, var.length);
        backwardValid = false;
    }

    /**
     * Backward of the last {@link #batchNormForward}: dL/dgamma, dL/dbeta and dL/dx (kept here, blocked, for the
     * convolution); {@code dxOut} is the array DL4J receives, written blocked.
     */
    void batchNormBackward(INDArray x, INDArray dy, INDArray dxOut, float[] dGamma, float[] dBeta,
                           BlockedEdge out) {
        requireHeld(x, "the BatchNorm input in the backward pass");
        if (norm == null) {
            throw new IllegalStateException("blocked BatchNorm backward without its forward pass");
        }
        Norm nm = norm;
        if (!fits(layout, dxOut)) {
            throw new IllegalStateException("blocked BatchNorm backward: DL4J's input-gradient array "
                    + java.util.Arrays.toString(dxOut.shape()) + " cannot hold the blocked gradient");
        }
        this.x.set_data_handle(DnnlContext.pointerOf(x));
        dx.set_data_handle(DnnlContext.pointerOf(dxOut)); // dL/dx stays blocked, in DL4J's array, for the convolution
        memory blockedDy = out == null ? null : out.grad(dy);
        if (blockedDy != null) {
            nm.diffDst.set_data_handle(blockedDy.get_data_handle());
        } else {
            nm.toBlocked.run(dy);
        }
        ctx.execute(nm.bwd, nm.bwdArgs);
        FloatPointer d = new FloatPointer(nm.diffScaleShift.get_data_handle());
        d.get(dGamma, 0, dGamma.length);
        d.position(dGamma.length).get(dBeta, 0, dBeta.length);
        dxAddress = DnnlContext.pointerOf(dxOut).address();
        backwardValid = true;
    }

    /** The BatchNorm's blocked dL/dx for the convolution whose dL/dy is {@code delta} (checked). */
    memory convolutionOutputGradient(INDArray delta) {
        if (!backwardValid || DnnlContext.pointerOf(delta).address() != dxAddress) {
            throw new IllegalStateException("blocked convolution -> BatchNorm handoff: the convolution's output "
                    + "gradient is not the array the paired BatchNorm's backward pass produced (run with "
                    + "-Dumm4j.blockedbn=false to disable)");
        }
        dx.set_data_handle(DnnlContext.pointerOf(delta));
        return dx;
    }

    private Norm norm(double eps, boolean relu) {
        if (norm == null || norm.eps != eps || norm.relu != relu) {
            norm = new Norm(eps, relu);
        }
        return norm;
    }

    /** oneDNN batch normalisation primitives on the held layout. */
    private final class Norm {
        final double eps;
        final boolean relu;
        final batch_normalization_forward fwd;
        final batch_normalization_backward bwd;
        final memory scaleShift;
        final memory diffScaleShift;
        final memory mean;
        final memory var;
        final memory workspace;
        final memory dst;
        final memory diffDst;
        final IntMemoryMap fwdArgs = new IntMemoryMap();
        final IntMemoryMap bwdArgs = new IntMemoryMap();
        final PlainCopy toPlain;
        final PlainCopy toBlocked;

        Norm(double eps, boolean relu) {
            this.eps = eps;
            this.relu = relu;
            int flags = normalization_flags.use_scale_shift.value
                    | (relu ? normalization_flags.fuse_norm_relu.value : 0);
            batch_normalization_forward.primitive_desc fpd = new batch_normalization_forward.primitive_desc(
                    new batch_normalization_forward.desc(prop_kind.forward_training.value, layout, (float) eps, flags),
                    ctx.cpu);
            batch_normalization_backward.primitive_desc bpd = new batch_normalization_backward.primitive_desc(
                    new batch_normalization_backward.desc(prop_kind.backward.value, layout, layout, (float) eps,
                            flags), ctx.cpu, fpd);
            fwd = new batch_normalization_forward(fpd);
            bwd = new batch_normalization_backward(bpd);
            scaleShift = new memory(fpd.weights_desc(), ctx.cpu);
            diffScaleShift = new memory(bpd.diff_weights_desc(), ctx.cpu);
            mean = new memory(fpd.mean_desc(), ctx.cpu);
            var = new memory(fpd.variance_desc(), ctx.cpu);
            workspace = new memory(fpd.workspace_desc(), ctx.cpu);
            dst = new memory(layout, ctx.cpu, new org.bytedeco.javacpp.Pointer());
            diffDst = new memory(layout, ctx.cpu, new org.bytedeco.javacpp.Pointer());
            fwdArgs.put(DNNL_ARG_SRC, x);
            fwdArgs.put(DNNL_ARG_SCALE_SHIFT, scaleShift);
            fwdArgs.put(DNNL_ARG_MEAN, mean);
            fwdArgs.put(DNNL_ARG_VARIANCE, var);
            fwdArgs.put(DNNL_ARG_WORKSPACE, workspace);
            fwdArgs.put(DNNL_ARG_DST, dst);
            bwdArgs.put(DNNL_ARG_SRC, x);
            bwdArgs.put(DNNL_ARG_MEAN, mean);
            bwdArgs.put(DNNL_ARG_VARIANCE, var);
            bwdArgs.put(DNNL_ARG_SCALE_SHIFT, scaleShift);
            bwdArgs.put(DNNL_ARG_WORKSPACE, workspace);
            bwdArgs.put(DNNL_ARG_DIFF_DST, diffDst);
            bwdArgs.put(DNNL_ARG_DIFF_SRC, dx);
            bwdArgs.put(DNNL_ARG_DIFF_SCALE_SHIFT, diffScaleShift);
            memory.desc plain = new memory.desc(dims, memory.data_type.f32, memory.format_tag.nchw);
            toPlain = new PlainCopy(plain, true);
            toBlocked = new PlainCopy(plain, false);
        }

        /** A reorder between an NCHW array (bound per call) and a blocked memory. */
        final class PlainCopy {
            private final memory user;
            private final DnnlContext.Reorder reorder;
            private final memory blocked;

            PlainCopy(memory.desc plain, boolean toPlain) {
                user = new memory(plain, ctx.cpu, new org.bytedeco.javacpp.Pointer());
                blocked = toPlain ? dst : diffDst;
                reorder = toPlain ? new DnnlContext.Reorder(blocked, user) : new DnnlContext.Reorder(user, blocked);
            }

            void run(INDArray a) {
                user.set_data_handle(DnnlContext.pointerOf(a));
                if (blocked == diffDst) {
                    diffDst.set_data_handle(ctx.slot(1, layout.get_size()));
                }
                reorder.run(ctx);
            }
        }
    }
}
