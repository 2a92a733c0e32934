package org.umm4j.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class Stl10ReaderTest {
    @TempDir
    Path dir;

    /** Value of channel c, row y, column x of image i: distinct enough to catch a missed transpose. */
    private static int value(int i, int c, int y, int x) {
        return (i * 17 + c * 50 + y * 3 + x * 5) & 0xFF;
    }

    /** Writes images in STL-10's file layout: per channel, column-major (byte c*9216 + x*96 + y). */
    private static void writeX(Path f, int n) throws IOException {
        byte[] out = new byte[n * Stl10Reader.IMAGE_BYTES];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < 3; c++) {
                for (int x = 0; x < 96; x++) {
                    for (int y = 0; y < 96; y++) {
                        out[i * Stl10Reader.IMAGE_BYTES + c * 9216 + x * 96 + y] = (byte) value(i, c, y, x);
                    }
                }
            }
        }
        Files.write(f, out);
    }

    @Test
    void transposesToRowMajorChwAndShiftsLabels() throws IOException {
        writeX(dir.resolve("train_X.bin"), 3);
        Files.write(dir.resolve("train_y.bin"), new byte[]{1, 10, 4});
        ImageDataset ds = Stl10Reader.read(dir, Split.TRAIN);
        assertEquals(3, ds.size());
        assertEquals(96, ds.height());
        assertEquals(96, ds.width());
        assertEquals(Stl10Reader.CLASS_NAMES, ds.classNames());
        assertArrayEquals(new int[]{0, 9, 3}, new int[]{ds.label(0), ds.label(1), ds.label(2)});
        for (int i = 0; i < 3; i++) {
            byte[] img = ds.image(i);
            for (int[] p : new int[][]{{0, 0, 1}, {0, 1, 0}, {1, 5, 80}, {2, 95, 3}, {2, 95, 95}}) {
                int c = p[0], y = p[1], x = p[2];
                assertEquals(value(i, c, y, x), img[c * 9216 + y * 96 + x] & 0xFF, "image " + i + " c" + c + " y" + y + " x" + x);
            }
        }
    }

    @Test
    void unlabelledSplitHasNoLabels() throws IOException {
        writeX(dir.resolve("unlabeled_X.bin"), 2);
        ImageDataset ds = Stl10Reader.read(dir, Split.UNLABELLED);
        assertEquals(2, ds.size());
        assertEquals(ImageDataset.UNLABELLED, ds.label(1));
        assertEquals(value(1, 1, 7, 9), ds.image(1)[9216 + 7 * 96 + 9] & 0xFF);
    }

    @Test
    void badFilesAreErrorsNamingTheFile() throws IOException {
        writeX(dir.resolve("test_X.bin"), 2);
        Files.write(dir.resolve("test_y.bin"), new byte[]{1, 11});
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> Stl10Reader.read(dir, Split.TEST));
        assertTrue(e.getMessage().contains("test_y.bin") && e.getMessage().contains("11"), e.getMessage());
        Files.write(dir.resolve("test_y.bin"), new byte[]{1, 0});
        e = assertThrows(DatasetFormatException.class, () -> Stl10Reader.read(dir, Split.TEST));
        assertTrue(e.getMessage().contains("expected 1..10"), e.getMessage());
        Files.write(dir.resolve("test_y.bin"), new byte[]{1});
        e = assertThrows(DatasetFormatException.class, () -> Stl10Reader.read(dir, Split.TEST));
        assertTrue(e.getMessage().contains("1 labels") && e.getMessage().contains("2 images"), e.getMessage());
        Files.write(dir.resolve("train_X.bin"), new byte[Stl10Reader.IMAGE_BYTES + 5]);
        e = assertThrows(DatasetFormatException.class, () -> Stl10Reader.read(dir, Split.TRAIN));
        assertTrue(e.getMessage().contains("train_X.bin") && e.getMessage().contains("27648"), e.getMessage());
    }
}
