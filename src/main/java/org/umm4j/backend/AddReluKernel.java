package org.umm4j.backend;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.binary;
import org.bytedeco.dnnl.eltwise_backward;
import org.bytedeco.dnnl.eltwise_forward;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.post_ops;
import org.bytedeco.dnnl.primitive_attr;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_0;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_1;
import static org.bytedeco.dnnl.global.dnnl.algorithm;
import static org.bytedeco.dnnl.global.dnnl.prop_kind;

/**
 * The residual sum with its ReLU, {@code y = max(a + b, 0)}, and its backward pass
 * {@code dL/da = dL/db = dL/dy [y > 0]}, each as one oneDNN pass over the buffers (binary add with a ReLU post-op;
 * ReLU backward computed from the output), for any shape, all arrays of one length.
 *
 * <p>Why: with ND4J ops the forward pass is two passes (add, then ReLU in place) and the backward pass three (the sum
 * recomputed for the mask, a step, a multiply); in a width-16 ResNet-18 SimCLR step the residual vertices took 8.6 %
 * of the Java threads' native time (JFR, benchmarks/README.md). The operations are element-wise, so they do not care
 * how the values are laid out as long as all arrays share the layout. Arrays that are not contiguous FLOAT, or a
 * machine without JavaCPP's dnnl natives, take the ND4J ops (the same values).
 *
 * <p>Not thread-safe: one instance per graph vertex.
 */
public final class AddReluKernel {
    private final DnnlContext ctx;
    private long length = -1;
    private binary add;
    private eltwise_backward back;
    private memory m0;
    private memory m1;
    private memory m2;
    private final IntMemoryMap addArgs = new IntMemoryMap();
    private final IntMemoryMap backArgs = new IntMemoryMap();
    /** For a sum inside a blocked residual stream: the edges of its two inputs and of its output, else null. */
    private BlockedEdge inA;
    private BlockedEdge inB;
    private BlockedEdge out;
    /** Whether the last forward pass ran on blocked inputs. */
    private boolean blocked;

    /** A graph vertex computing with such a kernel (umm4j's {@code AddReluVertex}). */
    public interface Holder {
        AddReluKernel kernel();
    }

    private AddReluKernel(DnnlContext ctx) {
        this.ctx = ctx;
    }

    /** A kernel on oneDNN where JavaCPP's dnnl natives load, else on ND4J ops. */
    public static AddReluKernel create() {
        return new AddReluKernel(Umm4jBackend.dnnlAvailable() ? DnnlContext.create() : null);
    }

    /** Places this sum in a blocked residual stream (see {@code Umm4jBackend.pairResidualStreams}). */
    void stream(BlockedEdge a, BlockedEdge b, BlockedEdge output) {
        this.inA = a;
        this.inB = b;
        this.out = output;
    }

    boolean streamed() {
        return out != null;
    }

    BlockedEdge output() {
        return out;
    }

    /**
     * {@code out = max(a + b, 0)}; all three of one shape. In a blocked residual stream both inputs hold their
     * producers' blocked values (or both plain ones) and the output gets the same layout.
     *
     * @throws IllegalStateException if one input is blocked and the other is not
     */
    public void forward(INDArray a, INDArray b, INDArray out) {
        if (this.out != null) {
            boolean ba = inA.value(a) != null;
            boolean bb = inB.value(b) != null;
            if (ba != bb) {
                throw new IllegalStateException("blocked residual stream: one input of a residual sum is blocked, "
                        + "the other is not (run with -D" + Umm4jBackend.BLOCKED_BATCH_NORM_PROPERTY
                        + "=false to disable)");
            }
            blocked = ba;
            compute(a, b, out);
            if (blocked) {
                this.out.valueWrittenBlocked(inA.layout(), out);
            } else {
                this.out.valueWrittenPlain();
            }
            return;
        }
        compute(a, b, out);
    }

    private void compute(INDArray a, INDArray b, INDArray out) {
        if (!onednn(true, a, b, out)) {
            a.addi(b, out);
            Transforms.relu(out, false);
        }
    }

    /**
     * {@code out = dy [y > 0]}, with {@code y} the forward pass's output; all three of one shape. In a blocked
     * residual stream {@code dy} must be (a relay of) a gradient the stream's consumers wrote blocked.
     *
     * @throws IllegalStateException if it is not
     */
    public void backward(INDArray y, INDArray dy, INDArray out) {
        if (this.out != null && blocked) {
            this.out.grad(dy); // throws unless dy is a gradient the stream's readers wrote blocked
        }
        backwardValues(y, dy, out);
    }

    /** After {@link #backward}: {@code ga} and {@code gb} are the gradients handed to the two inputs. */
    public void gradientsHandedOn(INDArray ga, INDArray gb) {
        if (out != null && blocked) {
            inA.gradWritten(ga);
            inB.gradWritten(gb);
        }
    }

    private void backwardValues(INDArray y, INDArray dy, INDArray out) {
        if (!onednn(false, y, dy, out)) {
            Nd4j.getExecutioner().exec(new Step(y, out, 0.0));
            Nd4j.getExecutioner().exec(new MulOp(out, dy, out));
        }
    }

    /**
     * Runs the sum ({@code forward}) or the ReLU backward pass on oneDNN with {@code x, y -> z} bound to its three
     * memories; false (nothing done) when oneDNN cannot take these arrays.
     */
    private boolean onednn(boolean forward, INDArray x, INDArray y, INDArray z) {
        if (!fits(x, y, z)) {
            return false;
        }
        ensure(x.length());
        m0.set_data_handle(DnnlContext.pointerOf(x));
        m1.set_data_handle(DnnlContext.pointerOf(y));
        m2.set_data_handle(DnnlContext.pointerOf(z));
        ctx.execute(forward ? add : back, forward ? addArgs : backArgs);
        return true;
    }

    private boolean fits(INDArray x, INDArray y, INDArray z) {
        return ctx != null && x.dataType() == DataType.FLOAT && y.dataType() == DataType.FLOAT
                && z.dataType() == DataType.FLOAT && DnnlContext.isPlain(x) && DnnlContext.isPlain(y)
                && DnnlContext.isPlain(z) && x.length() == y.length() && x.length() == z.length() && x.length() > 0;
    }

    /** Primitives for arrays of {@code n} elements, seen as one flat vector (the operations are element-wise). */
    private void ensure(long n) {
        if (n == length) {
            return;
        }
        memory.desc flat = new memory.desc(new long[]{n}, memory.data_type.f32, memory.format_tag.a);
        post_ops relu = new post_ops();
        relu.append_eltwise(1.0f, algorithm.eltwise_relu, 0f, 0f);
        primitive_attr attr = new primitive_attr();
        attr.set_post_ops(relu);
        add = new binary(new binary.primitive_desc(new binary.desc(algorithm.binary_add, flat, flat, flat), attr,
                ctx.cpu));
        eltwise_forward.primitive_desc hint = new eltwise_forward.primitive_desc(new eltwise_forward.desc(
                prop_kind.forward_training, algorithm.eltwise_relu_use_dst_for_bwd, flat, 0f, 0f), ctx.cpu);
        back = new eltwise_backward(new eltwise_backward.primitive_desc(new eltwise_backward.desc(
                algorithm.eltwise_relu_use_dst_for_bwd, flat, flat, 0f, 0f), ctx.cpu, hint));
        m0 = new memory(flat, ctx.cpu, new Pointer());
        m1 = new memory(flat, ctx.cpu, new Pointer());
        m2 = new memory(flat, ctx.cpu, new Pointer());
        addArgs.put(DNNL_ARG_SRC_0, m0);
        addArgs.put(DNNL_ARG_SRC_1, m1);
        addArgs.put(DNNL_ARG_DST, m2);
        backArgs.put(DNNL_ARG_DST, m0);
        backArgs.put(DNNL_ARG_DIFF_DST, m1);
        backArgs.put(DNNL_ARG_DIFF_SRC, m2);
        length = n;
    }
}
