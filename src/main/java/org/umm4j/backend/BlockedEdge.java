package org.umm4j.backend;

import org.bytedeco.dnnl.memory;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The edge from a BatchNorm layer (with its ReLU fused) to the convolution that alone reads its output, kept in
 * oneDNN's blocked layout: the BatchNorm ({@link FusedBatchNormHelper} on a {@link BlockedHandoff}) writes its output
 * blocked into DL4J's output array and the convolution ({@link DnnlConvHelper}) reads it from there, forward and for
 * its weight gradient; backward, the convolution writes dL/dx blocked into the input-gradient array it returns and
 * the BatchNorm reads it as its dL/dy (after the pass-through ReLU's copy, {@link #relay}).
 *
 * <p>Why: otherwise the BatchNorm reorders its output to NCHW and the convolution reorders it back (twice: forward and
 * weight gradient), and the convolution's input gradient goes to NCHW and back likewise; these reorders were a
 * quarter of oneDNN's time in a width-16 ResNet-18 step (benchmarks/README.md).
 *
 * <p>The same object carries a residual-stream tensor ({@link Umm4jBackend#pairResidualStreams}): its producer is a
 * BatchNorm or a residual sum ({@link AddReluKernel}, {@link #valueWrittenBlocked}), it may have several readers
 * (convolutions and sums), and each reader's gradient array is recorded; DL4J adds them element-wise, and the
 * producer accepts as its dL/dy any of the recorded arrays (or a pass-through layer's copy of one).
 *
 * <p>Contract as for {@link BlockedHandoff}: DL4J's arrays on this edge hold blocked data, and each side checks
 * (by buffer address) that the array it receives is the one the other side produced, failing loudly otherwise. When
 * the BatchNorm writes a real NCHW output instead (a call its blocked path does not take) it says so
 * ({@link #valueWrittenPlain}) and the convolution reads that array as usual.
 */
final class BlockedEdge {
    private final DnnlContext ctx;
    private memory.desc layout;
    private memory value;
    private memory grad;
    private long valueAddress;
    /** Addresses of the arrays holding (contributions to) the blocked gradient: one per consumer, plus relays. */
    private long[] gradAddresses = new long[4];
    private int grads;
    private boolean valueValid;
    private boolean plainValue = true;

    BlockedEdge(DnnlContext ctx) {
        this.ctx = ctx;
    }

    /**
     * The memory the BatchNorm writes its output into: DL4J's output array {@code y} itself, holding layout
     * {@code desc} (its input's blocked layout; {@link BlockedHandoff#fits} must hold).
     */
    memory valueFor(memory.desc desc, INDArray y) {
        if (layout == null || !layout.equals(desc)) {
            layout = desc;
            value = new memory(desc, ctx.cpu, new org.bytedeco.javacpp.Pointer());
            grad = new memory(desc, ctx.cpu, new org.bytedeco.javacpp.Pointer());
        }
        valueValid = false;
        grads = 0;
        value.set_data_handle(DnnlContext.pointerOf(y));
        return value;
    }

    /**
     * An element-wise producer ({@code AddReluKernel} on blocked inputs) wrote {@code out} in layout {@code desc}
     * (its inputs' layout).
     */
    void valueWrittenBlocked(memory.desc desc, INDArray out) {
        valueFor(desc, out);
        valueWritten(out);
    }

    /** The held layout (valid while {@link #blockedValue}). */
    memory.desc layout() {
        return layout;
    }

    /** The BatchNorm wrote {@link #valueFor}'s memory; {@code out} is DL4J's output array, holding the values. */
    void valueWritten(INDArray out) {
        valueAddress = DnnlContext.pointerOf(out).address();
        valueValid = true;
        plainValue = false;
    }

    /** The BatchNorm wrote a real NCHW output array this time. */
    void valueWrittenPlain() {
        valueValid = false;
        grads = 0;
        plainValue = true;
    }

    /** Whether {@code a} is the BatchNorm output this edge holds in blocked form. */
    boolean holds(INDArray a) {
        return valueValid && DnnlContext.pointerOf(a).address() == valueAddress;
    }

    /**
     * The blocked value for the convolution whose input is {@code a}, or null when the BatchNorm wrote a real NCHW
     * array (read {@code a} then).
     *
     * @throws IllegalStateException if {@code a} is neither
     */
    memory value(INDArray a) {
        if (holds(a)) {
            value.set_data_handle(DnnlContext.pointerOf(a));
            return value;
        }
        if (plainValue) {
            return null;
        }
        throw new IllegalStateException("blocked BatchNorm -> convolution edge: the convolution's input is not the "
                + "array the paired BatchNorm's forward pass produced (run with -D"
                + Umm4jBackend.BLOCKED_BATCH_NORM_PROPERTY + "=false to disable)");
    }

    /**
     * The memory the convolution writes dL/dx into: DL4J's input-gradient array {@code eps} itself, in the held
     * layout.
     */
    memory gradFor(INDArray eps) {
        if (!BlockedHandoff.fits(layout, eps)) {
            throw new IllegalStateException("blocked BatchNorm -> convolution edge: DL4J's input-gradient array "
                    + java.util.Arrays.toString(eps.shape()) + " cannot hold the blocked gradient");
        }
        grad.set_data_handle(DnnlContext.pointerOf(eps));
        return grad;
    }

    /** The convolution wrote {@link #gradFor}; {@code eps} is DL4J's input-gradient array, holding the gradient. */
    void gradWritten(INDArray eps) {
        if (grads == gradAddresses.length) {
            gradAddresses = java.util.Arrays.copyOf(gradAddresses, 2 * grads);
        }
        gradAddresses[grads++] = DnnlContext.pointerOf(eps).address();
    }

    /** @throws IllegalStateException naming {@code what} unless {@code a} holds a blocked gradient of this edge */
    private void requireGrad(INDArray a, String what) {
        if (!holdsGrad(a)) {
            throw new IllegalStateException("blocked edge: " + what + " is not an array the readers' backward passes "
                    + "produced (run with -D" + Umm4jBackend.BLOCKED_BATCH_NORM_PROPERTY + "=false to disable)");
        }
    }

    /** Whether {@code a} is one of the arrays a consumer wrote its blocked gradient into (or a relay of one). */
    private boolean holdsGrad(INDArray a) {
        long address = DnnlContext.pointerOf(a).address();
        for (int i = 0; i < grads; i++) {
            if (gradAddresses[i] == address) {
                return true;
            }
        }
        return false;
    }

    /**
     * Passes the blocked gradient on from {@code from} (the convolution's input-gradient array) to {@code to} (the
     * copy, or {@code from} itself, that a pass-through layer in between hands on: the same bytes).
     *
     * @return false if this edge holds no blocked gradient (the forward pass wrote NCHW values): copy as usual
     * @throws IllegalStateException if it does but {@code from} is not the convolution's array
     */
    boolean relay(INDArray from, INDArray to) {
        if (plainValue) {
            return false;
        }
        requireGrad(from, "the gradient reaching the ReLU");
        gradWritten(to);
        return true;
    }

    /** Whether the last forward pass left the BatchNorm's output blocked (its gradient then comes blocked too). */
    boolean blockedValue() {
        return !plainValue;
    }

    /**
     * The BatchNorm's dL/dy in blocked form when {@code dy} is (a copy of) the convolution's input gradient, or null
     * when the forward pass wrote NCHW values (read {@code dy} then).
     *
     * @throws IllegalStateException if the blocked forward ran but {@code dy} is not the convolution's array
     */
    memory grad(INDArray dy) {
        if (plainValue) {
            return null;
        }
        requireGrad(dy, "the output gradient");
        grad.set_data_handle(DnnlContext.pointerOf(dy));
        return grad;
    }
}
