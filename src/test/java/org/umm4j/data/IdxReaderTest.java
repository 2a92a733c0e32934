package org.umm4j.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.*;

class IdxReaderTest {
    @TempDir
    Path dir;

    private static byte[] images(int magic, int n, int rows, int cols, int dropBytes) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bos);
        out.writeInt(magic);
        out.writeInt(n);
        out.writeInt(rows);
        out.writeInt(cols);
        for (int i = 0; i < n * rows * cols - dropBytes; i++) {
            out.writeByte(i * 13 + 1);
        }
        return bos.toByteArray();
    }

    private static byte[] labels(int magic, int... l) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bos);
        out.writeInt(magic);
        out.writeInt(l.length);
        for (int v : l) {
            out.writeByte(v);
        }
        return bos.toByteArray();
    }

    private static void gz(Path f, byte[] data) throws IOException {
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(f))) {
            o.write(data);
        }
    }

    @Test
    void readsPlainAndGzipStandardNames() throws IOException {
        gz(dir.resolve("train-images-idx3-ubyte.gz"), images(0x803, 3, 4, 5, 0));
        gz(dir.resolve("train-labels-idx1-ubyte.gz"), labels(0x801, 7, 0, 9));
        Files.write(dir.resolve("t10k-images-idx3-ubyte"), images(0x803, 2, 4, 5, 0));
        Files.write(dir.resolve("t10k-labels-idx1-ubyte"), labels(0x801, 2, 3));
        ImageDataset train = IdxReader.read(dir, Split.TRAIN, true);
        assertEquals(3, train.size());
        assertEquals(1, train.channels());
        assertEquals(4, train.height());
        assertEquals(5, train.width());
        assertEquals(IdxReader.FASHION_CLASS_NAMES, train.classNames());
        assertEquals(9, train.label(2));
        // pixel k of the file is (k*13 + 1) mod 256; image 2, row 3, col 4 is k = 2*20 + 3*5 + 4 = 59
        assertEquals((59 * 13 + 1) & 0xFF, train.image(2)[3 * 5 + 4] & 0xFF);
        ImageDataset test = IdxReader.read(dir, Split.TEST, false);
        assertEquals(2, test.size());
        assertEquals(3, test.label(1));
        assertEquals("0", test.classNames().get(0));
    }

    @Test
    void badMagicTruncationCountMismatchAndLabelRange() throws IOException {
        Path img = dir.resolve("i");
        Path lab = dir.resolve("l");
        Files.write(img, images(0x801, 2, 2, 2, 0));
        Files.write(lab, labels(0x801, 1, 2));
        DatasetFormatException e = assertThrows(DatasetFormatException.class,
                () -> IdxReader.read(img, lab, IdxReader.MNIST_CLASS_NAMES, "x"));
        assertTrue(e.getMessage().startsWith(img.toString()) && e.getMessage().contains("magic"), e.getMessage());

        Files.write(img, images(0x803, 2, 2, 2, 3));
        e = assertThrows(DatasetFormatException.class, () -> IdxReader.read(img, lab, IdxReader.MNIST_CLASS_NAMES, "x"));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());

        Files.write(img, images(0x803, 2, 2, 2, 0));
        Files.write(lab, labels(0x803, 1, 2));
        e = assertThrows(DatasetFormatException.class, () -> IdxReader.read(img, lab, IdxReader.MNIST_CLASS_NAMES, "x"));
        assertTrue(e.getMessage().startsWith(lab.toString()) && e.getMessage().contains("magic"), e.getMessage());

        Files.write(lab, labels(0x801, 1, 2, 3));
        e = assertThrows(DatasetFormatException.class, () -> IdxReader.read(img, lab, IdxReader.MNIST_CLASS_NAMES, "x"));
        assertTrue(e.getMessage().contains("3 labels") && e.getMessage().contains("2 images"), e.getMessage());

        Files.write(lab, labels(0x801, 1, 10));
        e = assertThrows(DatasetFormatException.class, () -> IdxReader.read(img, lab, IdxReader.MNIST_CLASS_NAMES, "x"));
        assertTrue(e.getMessage().contains("label 1 is 10"), e.getMessage());
    }
}
