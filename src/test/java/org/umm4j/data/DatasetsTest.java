package org.umm4j.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class DatasetsTest {
    @TempDir
    Path dir;

    @Test
    void unknownNameListsTheValidNames() {
        var e = assertThrows(IllegalArgumentException.class, () -> Datasets.load("imagenet", dir, Split.TRAIN));
        for (String n : List.of("synthetic", "cifar10", "cifar100", "stl10", "folder", "mnist", "fashion-mnist")) {
            assertTrue(e.getMessage().contains(n), e.getMessage());
        }
        assertTrue(e.getMessage().contains("imagenet"));
    }

    @Test
    void syntheticNeedsNoFilesAndIsDeterministic() throws IOException {
        ImageDataset train = Datasets.load("synthetic", null, Split.TRAIN);
        ImageDataset test = Datasets.load("SYNTHETIC", null, Split.TEST);
        assertEquals(5000, train.size());
        assertEquals(1000, test.size());
        assertEquals(10, train.numClasses());
        assertEquals(DatasetChecksum.sha256(test), DatasetChecksum.sha256(Datasets.load("synthetic", null, Split.TEST)));
        assertNotEquals(DatasetChecksum.sha256(test),
                DatasetChecksum.sha256(new Subset("first", train, java.util.stream.IntStream.range(0, 1000).toArray())));
        assertThrows(IllegalArgumentException.class, () -> Datasets.load("synthetic", null, Split.UNLABELLED));
    }

    @Test
    void cifarFoundInTheArchiveSubdirectoryOrMissingWithAHint() throws IOException {
        Path sub = Files.createDirectories(dir.resolve(Cifar10Reader.ARCHIVE_DIR));
        TestFiles.writeCifar(sub.resolve("data_batch_1.bin"), new int[][]{{4}}, 0);
        assertEquals(4, Datasets.load("cifar10", dir, Split.TRAIN).label(0));
        assertThrows(IllegalArgumentException.class, () -> Datasets.load("cifar10", dir, Split.UNLABELLED));
        IOException e = assertThrows(IOException.class, () -> Datasets.load("cifar100", dir, Split.TRAIN));
        assertTrue(e.getMessage().contains("cifar-100-binary.tar.gz") && e.getMessage().contains("--data-dir"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Datasets.load("cifar10", null, Split.TRAIN));
    }

    @Test
    void stl10AndMnistThroughTheRegistry() throws IOException {
        Path stl = Files.createDirectories(dir.resolve(Stl10Reader.ARCHIVE_DIR));
        Files.write(stl.resolve("unlabeled_X.bin"), new byte[2 * Stl10Reader.IMAGE_BYTES]);
        ImageDataset u = Datasets.load("stl10", dir, Split.UNLABELLED);
        assertEquals(2, u.size());
        assertEquals(ImageDataset.UNLABELLED, u.label(0));

        Path m = Files.createDirectories(dir.resolve("mnist"));
        java.nio.ByteBuffer img = java.nio.ByteBuffer.allocate(16 + 4).putInt(0x803).putInt(1).putInt(2).putInt(2);
        java.nio.ByteBuffer lab = java.nio.ByteBuffer.allocate(9).putInt(0x801).putInt(1).put((byte) 7);
        Files.write(m.resolve("t10k-images-idx3-ubyte"), img.array());
        Files.write(m.resolve("t10k-labels-idx1-ubyte"), lab.array());
        ImageDataset t = Datasets.load("mnist", dir, Split.TEST);
        assertEquals(7, t.label(0));
        assertEquals(1, t.channels());
    }

    @Test
    void folderTreesFromDirectoriesAndTarGz() throws IOException {
        for (String split : List.of("train", "test")) {
            for (String cls : List.of("b", "a")) {
                Path d = Files.createDirectories(dir.resolve("tree").resolve(split).resolve(cls));
                Files.write(d.resolve("0.png"), TestFiles.pngBytes(TestFiles.patternImage(4, 4, split.length() + cls.charAt(0))));
            }
        }
        Path root = dir.resolve("tree");
        ImageDataset train = Datasets.load("folder", root, Split.TRAIN);
        ImageDataset test = Datasets.load("folder", root, Split.TEST);
        assertEquals(List.of("a", "b"), train.classNames());
        assertEquals("folder-test", test.name());
        assertNotEquals(DatasetChecksum.sha256(train), DatasetChecksum.sha256(test));

        Map<String, byte[]> entries = new LinkedHashMap<>(TestFiles.treeEntries(root, ""));
        Path tgz = dir.resolve("tree.tar.gz");
        TestFiles.writeTarGz(tgz, entries);
        assertEquals(DatasetChecksum.sha256(train), DatasetChecksum.sha256(Datasets.load("folder", tgz, Split.TRAIN)));
        assertEquals(DatasetChecksum.sha256(test), DatasetChecksum.sha256(Datasets.load("folder", tgz, Split.TEST)));

        // a bare class tree is the TRAIN split; it has no TEST split
        Path bare = root.resolve("train");
        assertEquals(DatasetChecksum.sha256(train), DatasetChecksum.sha256(Datasets.load("folder", bare, Split.TRAIN)));
        assertThrows(IOException.class, () -> Datasets.load("folder", bare, Split.TEST));

        // a test tree that lacks one of the training classes is an error naming the missing folder
        Files.delete(root.resolve("test/b/0.png"));
        Files.delete(root.resolve("test/b"));
        DatasetFormatException e = assertThrows(DatasetFormatException.class,
                () -> Datasets.load("folder", root, Split.TEST));
        assertTrue(e.getMessage().contains("test/b") && e.getMessage().contains("missing"), e.getMessage());
        entries.keySet().removeIf(k -> k.startsWith("test/b"));
        TestFiles.writeTarGz(tgz, entries);
        e = assertThrows(DatasetFormatException.class, () -> Datasets.load("folder", tgz, Split.TEST));
        assertTrue(e.getMessage().contains("tree.tar.gz!test/b") && e.getMessage().contains("missing"), e.getMessage());
        assertEquals(List.of("a", "b"), ImageFolderReader.listTarGzClasses(tgz, "train"));
    }
}
