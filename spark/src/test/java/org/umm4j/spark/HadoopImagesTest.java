package org.umm4j.spark;

import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.umm4j.data.Cifar10Reader;
import org.umm4j.data.Split;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CIFAR binary records read by Spark executors from a local directory, against the library's single-machine reader. */
@Tag("slow")
class HadoopImagesTest {
    @TempDir
    Path dir;

    /** Writes {@code labels.length} records: the label bytes of each record, then seeded random pixels. */
    private static void write(Path file, int[][] labels, long seed) throws IOException {
        Random rnd = new Random(seed);
        int lb = labels[0].length;
        byte[] out = new byte[labels.length * (lb + HadoopImages.CIFAR_IMAGE_BYTES)];
        int off = 0;
        for (int[] l : labels) {
            for (int v : l) {
                out[off++] = (byte) v;
            }
            byte[] px = new byte[HadoopImages.CIFAR_IMAGE_BYTES];
            rnd.nextBytes(px);
            System.arraycopy(px, 0, out, off, px.length);
            off += px.length;
        }
        Files.write(file, out);
    }

    private static List<ImageRecord> sorted(List<ImageRecord> l) {
        List<ImageRecord> s = new ArrayList<>(l);
        s.sort(Comparator.comparingLong(ImageRecord::index));
        return s;
    }

    @Test
    void cifar10RecordsEqualTheLibraryReadersAndCifar100TakesTheChosenLabel() throws Exception {
        write(dir.resolve("data_batch_1.bin"), new int[][]{{3}, {0}, {9}}, 1);
        write(dir.resolve("data_batch_2.bin"), new int[][]{{7}, {1}}, 2);
        write(dir.resolve("test_batch.bin"), new int[][]{{5}}, 3);
        Path c100 = Files.createDirectory(dir.resolve("c100"));
        write(c100.resolve("train.bin"), new int[][]{{4, 99}, {19, 0}, {0, 57}}, 4);
        Path bad = Files.createDirectory(dir.resolve("bad"));
        write(bad.resolve("data_batch_1.bin"), new int[][]{{2}, {10}}, 5);
        List<ImageRecord> expected = ImageRecord.fromDataset(Cifar10Reader.read(dir, Split.TRAIN));
        assertEquals(5, expected.size());
        try (JavaSparkContext sc = LocalSpark.start("local[2]")) {
            List<ImageRecord> got = sorted(HadoopImages.cifar10(sc, dir.toUri() + "data_batch_*.bin").collect());
            assertEquals(expected.size(), got.size());
            for (int i = 0; i < got.size(); i++) {
                assertEquals(i, got.get(i).index());
                assertEquals(expected.get(i).label(), got.get(i).label(), "label of record " + i);
                assertArrayEquals(expected.get(i).pixels(), got.get(i).pixels(), "pixels of record " + i);
            }
            List<ImageRecord> fine = sorted(HadoopImages.cifar100(sc, c100.toUri() + "train*.bin", true).collect());
            List<ImageRecord> coarse = sorted(HadoopImages.cifar100(sc, c100.toUri() + "train*.bin", false).collect());
            assertEquals(List.of(99, 0, 57), fine.stream().map(ImageRecord::label).toList());
            assertEquals(List.of(4, 19, 0), coarse.stream().map(ImageRecord::label).toList());
            assertArrayEquals(fine.get(1).pixels(), coarse.get(1).pixels());
            assertEquals(HadoopImages.CIFAR_IMAGE_BYTES, fine.get(2).pixels().length);
            SparkException e = assertThrows(SparkException.class,
                    () -> HadoopImages.cifar10(sc, bad.toUri() + "data_batch_*.bin").collect());
            assertTrue(String.valueOf(e.getMessage()).contains("has label 10"), e.getMessage());
        }
    }
}
