package org.umm4j.export;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One dense array in NumPy's {@code .npy} format, held in C (row-major) order.
 *
 * <p>Writing ({@link #toNpy()}) produces format version 1.0: the magic {@code \x93NUMPY}, bytes {@code 1, 0},
 * a little-endian {@code uint16} header length, and an ASCII header
 * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (64, 3, 7, 7), }} padded with spaces and a final
 * newline so that the data starts at a multiple of 64 bytes (NumPy's own alignment), followed by the raw
 * little-endian elements. A 0-d array has shape {@code ()}, a 1-d one {@code (n,)}.
 *
 * <p>Reading ({@link #parse}) accepts versions 1.0, 2.0 (4-byte header length) and 3.0 (UTF-8 header), the
 * element types {@code <f4}, {@code <f8}, {@code <i8} and {@code <i4} (and {@code |i1}/{@code |u1}), and
 * {@code fortran_order: True} arrays, which are reordered to C order on reading. Big-endian, object and
 * structured arrays are rejected with a {@link NpzFormatException} naming the entry.
 */
public final class NpyArray {
    /** NumPy element types this class reads and writes. */
    public enum DType {
        FLOAT32("<f4", 4), FLOAT64("<f8", 8), INT64("<i8", 8), INT32("<i4", 4), INT8("|i1", 1), UINT8("|u1", 1);

        private final String descr;
        private final int size;

        DType(String descr, int size) {
            this.descr = descr;
            this.size = size;
        }

        /** @return NumPy's type string, e.g. {@code <f4} */
        public String descr() {
            return descr;
        }

        /** @return bytes per element */
        public int size() {
            return size;
        }

        static DType of(String descr) {
            String d = descr.startsWith("=") ? "<" + descr.substring(1) : descr;
            if (d.equals("<i1") || d.equals(">i1")) {
                d = "|i1";
            } else if (d.equals("<u1") || d.equals(">u1")) {
                d = "|u1";
            }
            for (DType t : values()) {
                if (t.descr.equals(d)) {
                    return t;
                }
            }
            return null;
        }
    }

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int ALIGN = 64;
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private final DType dtype;
    private final long[] shape;
    private final byte[] data;

    private NpyArray(DType dtype, long[] shape, byte[] data) {
        this.dtype = dtype;
        this.shape = shape;
        this.data = data;
    }

    /**
     * @param shape dimensions (empty for a scalar), each &gt;= 0
     * @param data  the elements in C order; its length must be the product of {@code shape}
     */
    public static NpyArray ofFloats(long[] shape, float[] data) {
        Objects.requireNonNull(data, "data");
        checkLength(shape, data.length);
        ByteBuffer b = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(data);
        return new NpyArray(DType.FLOAT32, shape.clone(), b.array());
    }

    /** Like {@link #ofFloats} for 64-bit integers ({@code <i8}). */
    public static NpyArray ofLongs(long[] shape, long[] data) {
        Objects.requireNonNull(data, "data");
        checkLength(shape, data.length);
        ByteBuffer b = ByteBuffer.allocate(data.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(data);
        return new NpyArray(DType.INT64, shape.clone(), b.array());
    }

    /** @return a float32 array with the values and shape of {@code a} (converted to FLOAT if needed, C order) */
    public static NpyArray ofFloats(INDArray a) {
        Objects.requireNonNull(a, "a");
        INDArray f = a.dataType() == DataType.FLOAT ? a : a.castTo(DataType.FLOAT);
        return ofFloats(a.shape(), f.dup('c').data().asFloat());
    }

    private static void checkLength(long[] shape, long n) {
        Objects.requireNonNull(shape, "shape");
        long expected = elements(shape, "shape");
        if (expected != n) {
            throw new IllegalArgumentException("data has " + n + " elements but shape " + Arrays.toString(shape)
                    + " needs " + expected);
        }
    }

    private static long elements(long[] shape, String what) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException(what + " must have non-negative dimensions, got " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public DType dtype() {
        return dtype;
    }

    /** @return a copy of the dimensions (empty for a scalar) */
    public long[] shape() {
        return shape.clone();
    }

    /** @return number of elements (1 for a scalar) */
    public long length() {
        return elements(shape, "shape");
    }

    /** @return the elements as float (float64 and integer types are converted) */
    public float[] toFloats() {
        int n = Math.toIntExact(length());
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[n];
        switch (dtype) {
            case FLOAT32 -> b.asFloatBuffer().get(out);
            case FLOAT64 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = (float) b.getDouble(8 * i);
                }
            }
            default -> {
                long[] l = toLongsUnchecked(b, n);
                for (int i = 0; i < n; i++) {
                    out[i] = l[i];
                }
            }
        }
        return out;
    }

    /** @return the elements as double (exact for every supported type but INT64 beyond 2^53) */
    public double[] toDoubles() {
        int n = Math.toIntExact(length());
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        double[] out = new double[n];
        switch (dtype) {
            case FLOAT64 -> b.asDoubleBuffer().get(out);
            case FLOAT32 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = b.getFloat(4 * i);
                }
            }
            default -> {
                long[] l = toLongsUnchecked(b, n);
                for (int i = 0; i < n; i++) {
                    out[i] = l[i];
                }
            }
        }
        return out;
    }

    /**
     * @return the elements as long
     * @throws IllegalStateException for a floating-point array
     */
    public long[] toLongs() {
        if (dtype == DType.FLOAT32 || dtype == DType.FLOAT64) {
            throw new IllegalStateException("array of type " + dtype.descr + " is not an integer array");
        }
        return toLongsUnchecked(ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN), Math.toIntExact(length()));
    }

    private long[] toLongsUnchecked(ByteBuffer b, int n) {
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = switch (dtype) {
                case INT64 -> b.getLong(8 * i);
                case INT32 -> b.getInt(4 * i);
                case INT8 -> data[i];
                case UINT8 -> data[i] & 0xff;
                default -> throw new IllegalStateException("not an integer type: " + dtype);
            };
        }
        return out;
    }

    /** @return an ND4J array of this shape (C order) and the given floating-point type */
    public INDArray toINDArray(DataType type) {
        if (type == DataType.DOUBLE) {
            return Nd4j.create(toDoubles(), shape, 'c');
        }
        INDArray f = Nd4j.create(toFloats(), shape, 'c');
        return type == DataType.FLOAT ? f : f.castTo(type);
    }

    /** @return the complete {@code .npy} file (format 1.0) */
    public byte[] toNpy() {
        StringBuilder h = new StringBuilder("{'descr': '").append(dtype.descr).append("', 'fortran_order': False, 'shape': (");
        for (int i = 0; i < shape.length; i++) {
            h.append(shape[i]);
            if (i + 1 < shape.length || shape.length == 1) {
                h.append(shape.length == 1 ? "," : ", ");
            }
        }
        h.append("), }");
        int unpadded = MAGIC.length + 2 + 2 + h.length() + 1;
        int pad = (ALIGN - unpadded % ALIGN) % ALIGN;
        h.append(" ".repeat(pad)).append('\n');
        byte[] header = h.toString().getBytes(StandardCharsets.US_ASCII);
        if (header.length > 0xffff) {
            throw new IllegalStateException("npy header too long for format 1.0: " + header.length + " bytes");
        }
        ByteBuffer b = ByteBuffer.allocate(MAGIC.length + 4 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length).put(header).put(data);
        return b.array();
    }

    /**
     * Parses a {@code .npy} file.
     *
     * @param bytes the file's content
     * @param name  what to call it in error messages (e.g. the npz entry)
     * @throws NpzFormatException if the bytes are not a supported, complete {@code .npy} array
     */
    public static NpyArray parse(byte[] bytes, String name) throws NpzFormatException {
        Objects.requireNonNull(bytes, "bytes");
        if (bytes.length < MAGIC.length + 4 || !Arrays.equals(Arrays.copyOf(bytes, MAGIC.length), MAGIC)) {
            throw new NpzFormatException(name + ": not a .npy array (missing the \\x93NUMPY magic)");
        }
        int major = bytes[6] & 0xff;
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen;
        int start;
        if (major == 1) {
            headerLen = b.getShort(8) & 0xffff;
            start = 10;
        } else if (major == 2 || major == 3) {
            if (bytes.length < 12) {
                throw new NpzFormatException(name + ": truncated .npy header");
            }
            headerLen = b.getInt(8) & 0xffffffffL;
            start = 12;
        } else {
            throw new NpzFormatException(name + ": unsupported .npy format version " + major + "." + (bytes[7] & 0xff)
                    + " (expected 1.0, 2.0 or 3.0)");
        }
        if (start + headerLen > bytes.length) {
            throw new NpzFormatException(name + ": truncated .npy header (" + headerLen + " header bytes announced, "
                    + (bytes.length - start) + " present)");
        }
        String header = new String(bytes, start, (int) headerLen,
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header);
        Matcher f = FORTRAN.matcher(header);
        Matcher s = SHAPE.matcher(header);
        if (!d.find() || !f.find() || !s.find()) {
            throw new NpzFormatException(name + ": malformed .npy header " + header.trim());
        }
        DType dtype = DType.of(d.group(1));
        if (dtype == null) {
            throw new NpzFormatException(name + ": unsupported element type '" + d.group(1)
                    + "' (expected one of <f4, <f8, <i8, <i4, |i1, |u1)");
        }
        long[] shape;
        try {
            shape = Arrays.stream(s.group(1).split(",")).map(String::trim).filter(t -> !t.isEmpty())
                    .mapToLong(t -> Long.parseLong(t.endsWith("L") ? t.substring(0, t.length() - 1) : t)).toArray();
        } catch (NumberFormatException e) {
            throw new NpzFormatException(name + ": malformed shape (" + s.group(1) + ")");
        }
        long n;
        try {
            n = elements(shape, name + " shape");
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new NpzFormatException(name + ": invalid shape (" + s.group(1) + ")");
        }
        long dataStart = start + headerLen;
        long need = n * dtype.size;
        if (bytes.length - dataStart != need) {
            throw new NpzFormatException(name + ": " + (bytes.length - dataStart < need ? "truncated" : "oversized")
                    + " data: shape " + Arrays.toString(shape) + " of " + dtype.descr + " needs " + need + " bytes, found "
                    + (bytes.length - dataStart));
        }
        byte[] data = Arrays.copyOfRange(bytes, (int) dataStart, bytes.length);
        if (f.group(1).equals("True") && shape.length > 1) {
            data = fortranToC(data, shape, dtype.size);
        }
        return new NpyArray(dtype, shape, data);
    }

    /** Reorders column-major element bytes to row-major. */
    private static byte[] fortranToC(byte[] src, long[] shape, int size) {
        int rank = shape.length;
        int n = src.length / size;
        byte[] out = new byte[src.length];
        long[] fStride = new long[rank];
        long acc = 1;
        for (int k = 0; k < rank; k++) {
            fStride[k] = acc;
            acc *= shape[k];
        }
        int[] idx = new int[rank];
        for (int c = 0; c < n; c++) {
            long fi = 0;
            for (int k = 0; k < rank; k++) {
                fi += idx[k] * fStride[k];
            }
            System.arraycopy(src, (int) (fi * size), out, c * size, size);
            for (int k = rank - 1; k >= 0; k--) {
                if (++idx[k] < shape[k]) {
                    break;
                }
                idx[k] = 0;
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return "NpyArray(" + dtype.descr + ", " + Arrays.toString(shape) + ")";
    }
}
