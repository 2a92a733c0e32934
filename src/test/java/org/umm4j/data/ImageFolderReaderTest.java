package org.umm4j.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class ImageFolderReaderTest {
    @TempDir
    Path dir;

    /** root/{cat: 3 images, ant: 2 images}, 5x4 (WxH) lossless PNGs with known pixels. */
    private Path tree() throws IOException {
        Path root = dir.resolve("tree");
        Files.createDirectories(root.resolve("cat"));
        Files.createDirectories(root.resolve("ant"));
        for (int i = 0; i < 3; i++) {
            Files.write(root.resolve("cat/img" + i + ".png"), TestFiles.pngBytes(TestFiles.patternImage(5, 4, 10 * i)));
        }
        for (int i = 0; i < 2; i++) {
            Files.write(root.resolve("ant/a" + i + ".PNG"), TestFiles.pngBytes(TestFiles.patternImage(5, 4, 100 + i)));
        }
        return root;
    }

    private static void assertPattern(ImageDataset ds, int index, int seed) {
        byte[] img = ds.image(index);
        int h = ds.height(), w = ds.width(), plane = h * w;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                assertEquals((seed + x) & 0xFF, img[y * w + x] & 0xFF);
                assertEquals((seed + 2 * y) & 0xFF, img[plane + y * w + x] & 0xFF);
                assertEquals((seed + x + y) & 0xFF, img[2 * plane + y * w + x] & 0xFF);
            }
        }
    }

    @Test
    void directoryTreeSortedClassesExactPixels() throws IOException {
        ImageDataset ds = ImageFolderReader.readDirectory(tree(), ImageFolderReader.Options.DEFAULT, "t");
        assertEquals(List.of("ant", "cat"), ds.classNames());
        assertEquals(5, ds.size());
        assertEquals(4, ds.height());
        assertEquals(5, ds.width());
        assertArrayEquals(new int[]{0, 0, 1, 1, 1}, new int[]{ds.label(0), ds.label(1), ds.label(2), ds.label(3), ds.label(4)});
        assertPattern(ds, 0, 100);
        assertPattern(ds, 1, 101);
        assertPattern(ds, 4, 20);
    }

    @Test
    void tarGzGivesTheSameDatasetWhateverTheEntryOrder() throws IOException {
        Path root = tree();
        ImageDataset fromDir = ImageFolderReader.readDirectory(root, ImageFolderReader.Options.DEFAULT, "t");
        // reverse name order in the archive, plus an unrelated tree that must be ignored
        Map<String, byte[]> sorted = TestFiles.treeEntries(root, "train/");
        Map<String, byte[]> entries = new LinkedHashMap<>();
        List<String> keys = new java.util.ArrayList<>(sorted.keySet());
        java.util.Collections.reverse(keys);
        for (String k : keys) {
            entries.put(k, sorted.get(k));
        }
        entries.put("test/dog/x.png", TestFiles.pngBytes(TestFiles.patternImage(5, 4, 1)));
        Path tgz = dir.resolve("t.tar.gz");
        TestFiles.writeTarGz(tgz, entries);
        ImageDataset fromTar = ImageFolderReader.readTarGz(tgz, "train", ImageFolderReader.Options.DEFAULT, "t");
        assertEquals(fromDir.classNames(), fromTar.classNames());
        assertEquals(DatasetChecksum.sha256(fromDir), DatasetChecksum.sha256(fromTar));

        ImageFolderReader.Options two = ImageFolderReader.Options.DEFAULT.withLimitPerClass(2);
        ImageDataset limDir = ImageFolderReader.readDirectory(root, two, "t");
        ImageDataset limTar = ImageFolderReader.readTarGz(tgz, "train/", two, "t");
        assertEquals(4, limTar.size());
        assertArrayEquals(new int[]{2, 2}, Subsets.classCounts(limTar));
        assertEquals(DatasetChecksum.sha256(limDir), DatasetChecksum.sha256(limTar));
        assertPattern(limTar, 3, 10); // cat/img0, cat/img1 kept: the first two names
    }

    @Test
    void sizeMismatchIsAnErrorUnlessATargetSizeIsGiven() throws IOException {
        Path root = tree();
        Path odd = root.resolve("cat/odd.png");
        Files.write(odd, TestFiles.pngBytes(TestFiles.patternImage(7, 6, 0)));
        DatasetFormatException e = assertThrows(DatasetFormatException.class,
                () -> ImageFolderReader.readDirectory(root, ImageFolderReader.Options.DEFAULT, "t"));
        assertTrue(e.getMessage().contains("odd.png") && e.getMessage().contains("7x6"), e.getMessage());
        ImageDataset resized = ImageFolderReader.readDirectory(root,
                ImageFolderReader.Options.DEFAULT.withTargetSize(8, 8), "t");
        assertEquals(6, resized.size());
        assertEquals(8, resized.height());
        assertEquals(8, resized.width());
    }

    @Test
    void greyscaleOutputFromRgbIsLuminance() throws IOException {
        Path root = dir.resolve("g");
        Files.createDirectories(root.resolve("a"));
        BufferedImage img = new BufferedImage(2, 1, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, (200 << 16) | (100 << 8) | 50);
        img.setRGB(1, 0, 0xFFFFFF);
        Files.write(root.resolve("a/x.png"), TestFiles.pngBytes(img));
        ImageDataset ds = ImageFolderReader.readDirectory(root, ImageFolderReader.Options.DEFAULT.withChannels(1), "g");
        assertEquals(1, ds.channels());
        // round(0.299*200 + 0.587*100 + 0.114*50) = round(124.2) = 124
        assertEquals(124, ds.image(0)[0] & 0xFF);
        assertEquals(255, ds.image(0)[1] & 0xFF);
    }

    @Test
    void emptyFolderMissingRootAndUnreadableImageAreErrors() throws IOException {
        Path root = tree();
        Files.createDirectories(root.resolve("empty"));
        DatasetFormatException e = assertThrows(DatasetFormatException.class,
                () -> ImageFolderReader.readDirectory(root, ImageFolderReader.Options.DEFAULT, "t"));
        assertTrue(e.getMessage().contains("empty") && e.getMessage().contains("no .jpg"), e.getMessage());
        Files.delete(root.resolve("empty"));

        Files.write(root.resolve("cat/broken.jpg"), new byte[]{1, 2, 3, 4, 5});
        e = assertThrows(DatasetFormatException.class,
                () -> ImageFolderReader.readDirectory(root, ImageFolderReader.Options.DEFAULT, "t"));
        assertTrue(e.getMessage().contains("broken.jpg") && e.getMessage().contains("unreadable"), e.getMessage());

        assertThrows(IOException.class,
                () -> ImageFolderReader.readDirectory(dir.resolve("missing"), ImageFolderReader.Options.DEFAULT, "t"));
        Path noClasses = Files.createDirectories(dir.resolve("noclasses"));
        e = assertThrows(DatasetFormatException.class,
                () -> ImageFolderReader.readDirectory(noClasses, ImageFolderReader.Options.DEFAULT, "t"));
        assertTrue(e.getMessage().contains("no class folders"), e.getMessage());
    }

    @Test
    void tarErrorsNameTheEntry() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("train/a/", new byte[0]);
        entries.put("train/b/", new byte[0]);
        entries.put("train/a/x.png", TestFiles.pngBytes(TestFiles.patternImage(3, 3, 0)));
        Path tgz = dir.resolve("e.tar.gz");
        TestFiles.writeTarGz(tgz, entries);
        DatasetFormatException e = assertThrows(DatasetFormatException.class,
                () -> ImageFolderReader.readTarGz(tgz, "train/", ImageFolderReader.Options.DEFAULT, "t"));
        assertTrue(e.getMessage().contains("train/b/") && e.getMessage().contains("no .jpg"), e.getMessage());

        entries.remove("train/b/");
        entries.put("train/a/y.jpg", new byte[]{9, 9, 9});
        TestFiles.writeTarGz(tgz, entries);
        e = assertThrows(DatasetFormatException.class,
                () -> ImageFolderReader.readTarGz(tgz, "train/", ImageFolderReader.Options.DEFAULT, "t"));
        assertTrue(e.getMessage().contains("e.tar.gz!train/a/y.jpg"), e.getMessage());

        e = assertThrows(DatasetFormatException.class,
                () -> ImageFolderReader.readTarGz(tgz, "test/", ImageFolderReader.Options.DEFAULT, "t"));
        assertTrue(e.getMessage().contains("no class folders under 'test/'"), e.getMessage());

        Files.write(tgz, new byte[]{0x1f, (byte) 0x8b, 1, 2, 3});
        e = assertThrows(DatasetFormatException.class,
                () -> ImageFolderReader.readTarGz(tgz, "train/", ImageFolderReader.Options.DEFAULT, "t"));
        assertTrue(e.getMessage().contains("e.tar.gz"), e.getMessage());
    }

    @Test
    void optionsValidation() {
        assertThrows(IllegalArgumentException.class, () -> new ImageFolderReader.Options(32, 0, 0, 3));
        assertThrows(IllegalArgumentException.class, () -> new ImageFolderReader.Options(0, 0, -1, 3));
        var e = assertThrows(IllegalArgumentException.class, () -> new ImageFolderReader.Options(0, 0, 0, 2));
        assertTrue(e.getMessage().contains("channels"));
    }
}
