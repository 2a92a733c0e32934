package org.umm4j.export;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class NpyArrayTest {

    private static String header(byte[] npy) {
        int len = ByteBuffer.wrap(npy).order(ByteOrder.LITTLE_ENDIAN).getShort(8) & 0xffff;
        return new String(npy, 10, len, StandardCharsets.US_ASCII);
    }

    /** A hand-made .npy file (any version) with the given header dict and raw data. */
    private static byte[] npy(int major, String dict, byte[] data) {
        int pre = major == 1 ? 10 : 12;
        int total = pre + dict.length() + 1;
        String h = dict + " ".repeat((64 - total % 64) % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(pre + h.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[]{(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) {
            b.putShort((short) h.length());
        } else {
            b.putInt(h.length());
        }
        b.put(h.getBytes(StandardCharsets.UTF_8)).put(data);
        return b.array();
    }

    private static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    @Test
    void writesFormatOneZeroHeadersLikeNumpy() {
        byte[] a = NpyArray.ofFloats(new long[]{2, 3}, new float[]{1, 2, 3, 4, 5, 6}).toNpy();
        assertArrayEquals(new byte[]{(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}, Arrays.copyOf(a, 8));
        String h = header(a);
        assertEquals("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", h.stripTrailing());
        assertTrue(h.endsWith("\n"));
        assertEquals(0, (10 + h.length()) % 64, "data aligned to 64 bytes");
        assertEquals(10 + h.length() + 24, a.length);
        assertEquals(1f, ByteBuffer.wrap(a).order(ByteOrder.LITTLE_ENDIAN).getFloat(10 + h.length()));
        assertEquals(6f, ByteBuffer.wrap(a).order(ByteOrder.LITTLE_ENDIAN).getFloat(10 + h.length() + 20));

        assertEquals("{'descr': '<f4', 'fortran_order': False, 'shape': (7,), }",
                header(NpyArray.ofFloats(new long[]{7}, new float[7]).toNpy()).stripTrailing());
        assertEquals("{'descr': '<i8', 'fortran_order': False, 'shape': (), }",
                header(NpyArray.ofLongs(new long[0], new long[]{0}).toNpy()).stripTrailing());
    }

    @Test
    void parsesWhatItWritesAndConverts() throws NpzFormatException {
        NpyArray f = NpyArray.parse(NpyArray.ofFloats(new long[]{2, 2}, new float[]{1.5f, -2, 0, 3}).toNpy(), "f");
        assertEquals(NpyArray.DType.FLOAT32, f.dtype());
        assertArrayEquals(new long[]{2, 2}, f.shape());
        assertArrayEquals(new float[]{1.5f, -2, 0, 3}, f.toFloats());
        assertArrayEquals(new double[]{1.5, -2, 0, 3}, f.toDoubles());
        assertEquals(-2.0, f.toINDArray(DataType.DOUBLE).getDouble(0, 1));
        assertThrows(IllegalStateException.class, f::toLongs);
        NpyArray l = NpyArray.parse(NpyArray.ofLongs(new long[0], new long[]{42}).toNpy(), "l");
        assertEquals(0, l.shape().length);
        assertEquals(1, l.length());
        assertArrayEquals(new long[]{42}, l.toLongs());
        assertArrayEquals(new float[]{42f}, l.toFloats());
    }

    @Test
    void readsOtherVersionsTypesAndFortranOrder() throws NpzFormatException {
        // [[1, 2, 3], [4, 5, 6]] stored column-major: 1 4 2 5 3 6
        NpyArray f = NpyArray.parse(npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                floats(1, 4, 2, 5, 3, 6)), "fortran");
        assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6}, f.toFloats());
        ByteBuffer d = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1).putDouble(-7);
        NpyArray v2 = NpyArray.parse(npy(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", d.array()), "v2");
        assertArrayEquals(new double[]{0.1, -7}, v2.toDoubles());
        ByteBuffer i = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(-3).putInt(9);
        NpyArray v3 = NpyArray.parse(npy(3, "{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2), }", i.array()), "v3");
        assertArrayEquals(new long[]{-3, 9}, v3.toLongs());
        NpyArray u8 = NpyArray.parse(npy(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }",
                new byte[]{(byte) 200, 7}), "u8");
        assertArrayEquals(new long[]{200, 7}, u8.toLongs());
    }

    @Test
    void rejectsBadNpyWithTheEntryName() {
        String ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
        NpzFormatException e = assertThrows(NpzFormatException.class,
                () -> NpyArray.parse("PK\u0003\u0004 not npy".getBytes(StandardCharsets.ISO_8859_1), "a.npz:w.npy"));
        assertEquals("a.npz:w.npy: not a .npy array (missing the \\x93NUMPY magic)", e.getMessage());
        e = assertThrows(NpzFormatException.class, () -> NpyArray.parse(npy(1, ok, floats(1, 2, 3)), "t"));
        assertEquals("t: truncated data: shape [2, 2] of <f4 needs 16 bytes, found 12", e.getMessage());
        e = assertThrows(NpzFormatException.class, () -> NpyArray.parse(npy(1, ok.replace("<f4", ">f4"), floats(1, 2, 3, 4)), "b"));
        assertTrue(e.getMessage().contains("unsupported element type '>f4'"), e.getMessage());
        e = assertThrows(NpzFormatException.class, () -> NpyArray.parse(npy(1, "{'descr': '<f4'}", floats(1)), "m"));
        assertTrue(e.getMessage().startsWith("m: malformed .npy header"), e.getMessage());
        byte[] cut = NpyArray.ofFloats(new long[]{1}, new float[]{1}).toNpy();
        e = assertThrows(NpzFormatException.class, () -> NpyArray.parse(Arrays.copyOf(cut, 30), "h"));
        assertTrue(e.getMessage().startsWith("h: truncated .npy header"), e.getMessage());
        byte[] v9 = cut.clone();
        v9[6] = 9;
        e = assertThrows(NpzFormatException.class, () -> NpyArray.parse(v9, "v"));
        assertTrue(e.getMessage().contains("unsupported .npy format version 9.0"), e.getMessage());
    }

    @Test
    void constructorsCheckShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NpyArray.ofFloats(new long[]{2, 3}, new float[5]));
        assertEquals("data has 5 elements but shape [2, 3] needs 6", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> NpyArray.ofLongs(new long[]{-1}, new long[0]));
    }

    @Test
    void npzRoundTripKeepsOrderAndNamesWithDots(@TempDir Path dir) throws IOException {
        Map<String, NpyArray> m = new LinkedHashMap<>();
        m.put("z.last", NpyArray.ofFloats(new long[]{1}, new float[]{3}));
        m.put("layer1.0.conv1.weight", NpyArray.ofFloats(new long[]{1, 1, 1, 2}, new float[]{1, 2}));
        m.put("n", NpyArray.ofLongs(new long[0], new long[]{5}));
        Path f = dir.resolve("a.npz");
        Npz.write(f, m);
        Map<String, NpyArray> r = Npz.read(f);
        assertEquals(List.copyOf(m.keySet()), List.copyOf(r.keySet()));
        assertArrayEquals(new float[]{1, 2}, r.get("layer1.0.conv1.weight").toFloats());
        assertArrayEquals(new long[]{5}, r.get("n").toLongs());
        assertThrows(IllegalArgumentException.class, () -> Npz.write(dir.resolve("b.npz"), Map.of("a/b", m.get("n"))));
        Path empty = dir.resolve("empty.npz");
        try (var z = new java.util.zip.ZipOutputStream(Files.newOutputStream(empty))) {
            z.putNextEntry(new java.util.zip.ZipEntry("dir/"));
        }
        NpzFormatException e = assertThrows(NpzFormatException.class, () -> Npz.read(empty));
        assertTrue(e.getMessage().contains("empty archive"), e.getMessage());
    }
}
