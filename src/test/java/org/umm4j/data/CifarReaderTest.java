package org.umm4j.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class CifarReaderTest {
    @TempDir
    Path dir;

    @Test
    void readsTrainBatchesInNameOrderWithPixelsUnchanged() throws IOException {
        // written out of name order on purpose: the reader sorts data_batch_1 before data_batch_2
        TestFiles.writeCifar(dir.resolve("data_batch_2.bin"), new int[][]{{7}, {9}}, 2);
        TestFiles.writeCifar(dir.resolve("data_batch_1.bin"), new int[][]{{3}, {0}}, 0);
        TestFiles.writeCifar(dir.resolve("test_batch.bin"), new int[][]{{5}}, 100);
        ImageDataset train = Cifar10Reader.read(dir, Split.TRAIN);
        assertEquals(4, train.size());
        assertEquals(3, train.channels());
        assertEquals(32, train.height());
        assertEquals(32, train.width());
        assertArrayEquals(new int[]{3, 0, 7, 9}, new int[]{train.label(0), train.label(1), train.label(2), train.label(3)});
        assertEquals(Cifar10Reader.CLASS_NAMES, train.classNames());
        for (int r = 0; r < 4; r++) {
            byte[] img = train.image(r);
            for (int j : new int[]{0, 1, 1023, 1024, 2048, 3071}) {
                assertEquals(TestFiles.pixel(r, j), img[j] & 0xFF, "record " + r + " byte " + j);
            }
        }
        ImageDataset test = Cifar10Reader.read(dir, Split.TEST);
        assertEquals(1, test.size());
        assertEquals(5, test.label(0));
        assertEquals(TestFiles.pixel(100, 2000), test.image(0)[2000] & 0xFF);
    }

    @Test
    void classNamesFromBatchesMeta() throws IOException {
        TestFiles.writeCifar(dir.resolve("data_batch_1.bin"), new int[][]{{1}}, 0);
        List<String> names = List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j");
        Files.writeString(dir.resolve("batches.meta.txt"), String.join("\n", names) + "\n\n");
        assertEquals(names, Cifar10Reader.read(dir, Split.TRAIN).classNames());
    }

    @Test
    void truncatedFileIsAnErrorNamingTheFile() throws IOException {
        TestFiles.writeCifar(dir.resolve("data_batch_1.bin"), new int[][]{{1}, {2}}, 0);
        Path f = dir.resolve("data_batch_1.bin");
        byte[] all = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(all, all.length - 10));
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> Cifar10Reader.read(dir, Split.TRAIN));
        assertTrue(e.getMessage().contains("data_batch_1.bin"), e.getMessage());
        assertTrue(e.getMessage().contains("not a multiple of the record size 3073"), e.getMessage());
    }

    @Test
    void labelOutOfRangeIsAnError() throws IOException {
        TestFiles.writeCifar(dir.resolve("data_batch_1.bin"), new int[][]{{1}, {10}}, 0);
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> Cifar10Reader.read(dir, Split.TRAIN));
        assertTrue(e.getMessage().contains("data_batch_1.bin") && e.getMessage().contains("record 1")
                && e.getMessage().contains("label 10"), e.getMessage());
    }

    @Test
    void missingFilesAndUnlabelledSplitAreErrors() throws IOException {
        assertThrows(DatasetFormatException.class, () -> Cifar10Reader.read(dir, Split.TRAIN));
        assertThrows(IOException.class, () -> Cifar10Reader.read(dir.resolve("nope"), Split.TRAIN));
        assertThrows(IllegalArgumentException.class, () -> Cifar10Reader.read(dir, Split.UNLABELLED));
    }

    @Test
    void cifar100FineByDefaultAndCoarseOnRequest() throws IOException {
        TestFiles.writeCifar(dir.resolve("train.bin"), new int[][]{{4, 30}, {19, 99}, {0, 0}}, 0);
        TestFiles.writeCifar(dir.resolve("test.bin"), new int[][]{{2, 55}}, 50);
        ImageDataset fine = Cifar100Reader.read(dir, Split.TRAIN);
        assertEquals(3, fine.size());
        assertEquals(100, fine.numClasses());
        assertEquals(List.of(30, 99, 0), List.of(fine.label(0), fine.label(1), fine.label(2)));
        assertEquals(TestFiles.pixel(1, 3000), fine.image(1)[3000] & 0xFF);
        ImageDataset coarse = Cifar100Reader.read(dir, Split.TRAIN, Cifar100Reader.LabelKind.COARSE);
        assertEquals(20, coarse.numClasses());
        assertEquals(List.of(4, 19, 0), List.of(coarse.label(0), coarse.label(1), coarse.label(2)));
        ImageDataset test = Cifar100Reader.read(dir, Split.TEST);
        assertEquals(55, test.label(0));
        assertEquals(TestFiles.pixel(50, 7), test.image(0)[7] & 0xFF);
    }

    @Test
    void cifar100RecordSizeAndLabelRangeChecked() throws IOException {
        // a CIFAR-10 file (3073-byte records) is not a CIFAR-100 file
        TestFiles.writeCifar(dir.resolve("train.bin"), new int[][]{{1}, {2}, {3}}, 0);
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> Cifar100Reader.read(dir, Split.TRAIN));
        assertTrue(e.getMessage().contains("train.bin") && e.getMessage().contains("3074"), e.getMessage());
        TestFiles.writeCifar(dir.resolve("train.bin"), new int[][]{{20, 5}}, 0);
        e = assertThrows(DatasetFormatException.class,
                () -> Cifar100Reader.read(dir, Split.TRAIN, Cifar100Reader.LabelKind.COARSE));
        assertTrue(e.getMessage().contains("label 20"), e.getMessage());
    }
}
