package org.umm4j.backend;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO;

/**
 * One oneDNN CPU engine and stream (JavaCPP's {@code dnnl} preset) and the scratch buffers shared by the
 * {@link DnnlConvHelper}s of one graph.
 *
 * <p>oneDNN's convolutions run fastest on blocked layouts ({@code nChw16c}: 16 channels innermost); DL4J's arrays are
 * plain NCHW. Each helper reorders its operands into blocked buffers and its results back. Layers run one after
 * another, so the blocked copies of all layers of a graph can live in a few shared buffers ({@value #SLOTS} slots,
 * each grown to the largest size asked for) instead of one set per layer: the helpers of a graph must not run
 * concurrently, which holds for a graph used by one thread at a time, as DL4J requires anyway.
 *
 * <p>Why not libnd4j's own oneDNN calls: they create every primitive per call, allocate fresh blocked buffers per
 * call (page faults on each first touch) and reorder weights, inputs and outputs each time; on a width-16 ResNet-18
 * step that glue took 45 % of oneDNN's time (benchmarks/README.md).
 */
final class DnnlContext {
    /** Scratch slots: 0 input, 1 output or its gradient, 2 input gradient, 3 a second layout of the output gradient. */
    static final int SLOTS = 4;
    /** oneDNN's preferred buffer alignment, bytes. */
    private static final long ALIGN = 64;

    final engine cpu;
    private final stream stream;
    private final BytePointer[] owned = new BytePointer[SLOTS];
    private final Pointer[] aligned = new Pointer[SLOTS];
    private final long[] capacity = new long[SLOTS];

    private DnnlContext(engine cpu, stream stream) {
        this.cpu = cpu;
        this.stream = stream;
    }

    /**
     * @throws LinkageError      if the dnnl natives cannot be loaded on this platform
     * @throws RuntimeException  if oneDNN cannot create a CPU engine
     */
    static DnnlContext create() {
        engine e = new engine(engine.kind.cpu, 0);
        return new DnnlContext(e, new stream(e));
    }

    /** Runs {@code p} with {@code args} and waits for it. */
    void execute(primitive p, IntMemoryMap args) {
        p.execute(stream, args);
        stream._wait();
    }

    /** A scratch buffer of at least {@code bytes}, 64-byte aligned; valid until the next call for the same slot. */
    Pointer slot(int i, long bytes) {
        if (capacity[i] < bytes) {
            BytePointer old = owned[i];
            owned[i] = new BytePointer(bytes + ALIGN);
            if (owned[i].isNull()) {
                throw new OutOfMemoryError("oneDNN scratch buffer of " + bytes + " bytes");
            }
            aligned[i] = at((owned[i].address() + ALIGN - 1) / ALIGN * ALIGN);
            capacity[i] = bytes;
            if (old != null) {
                old.close();
            }
        }
        return aligned[i];
    }

    /** Total bytes held by the scratch slots. */
    long scratchBytes() {
        long s = 0;
        for (long c : capacity) {
            s += c;
        }
        return s;
    }

    /**
     * The address of {@code a}'s first element as a JavaCPP pointer; {@code a} must be a FLOAT array with C-order
     * default strides (see {@link #isPlain}).
     */
    static Pointer pointerOf(INDArray a) {
        // a view's data buffer carries the view's offset, and its address pointer already points at that element
        return at(a.data().addressPointer().address());
    }

    /** Whether {@code a} is a FLOAT array laid out contiguously in C order, so that its buffer is the plain layout. */
    static boolean isPlain(INDArray a) {
        if (a == null || a.dataType() != DataType.FLOAT || a.isEmpty()) {
            return false;
        }
        // C-order strides, ignoring those of size-1 dimensions (a [1, n] row view of a longer row has stride 1 and
        // any leading stride, and is still contiguous)
        long expected = 1;
        for (int i = a.rank() - 1; i >= 0; i--) {
            if (a.size(i) != 1) {
                if (a.stride(i) != expected) {
                    return false;
                }
                expected *= a.size(i);
            }
        }
        return true;
    }

    /** A reorder between two memories, run with its own argument map (memories keep their handles between calls). */
    static final class Reorder {
        private final reorder prim;
        private final IntMemoryMap args = new IntMemoryMap();

        Reorder(memory from, memory to) {
            prim = new reorder(from, to);
            args.put(DNNL_ARG_FROM, from);
            args.put(DNNL_ARG_TO, to);
        }

        void run(DnnlContext ctx) {
            ctx.execute(prim, args);
        }
    }

    /** A pointer object at a raw address (JavaCPP passes {@code address()} to native code). */
    static Pointer at(long raw) {
        return new Pointer() {
            {
                address = raw; // (a parameter named "address" would be shadowed by the inherited field here)
            }
        };
    }
}
