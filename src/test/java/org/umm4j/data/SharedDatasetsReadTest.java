package org.umm4j.data;

import org.junit.jupiter.api.Test;
import org.umm4j.testutil.SharedDatasets;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Integration tests on the real files of {@code ../shared/datasets} (skipped where absent).
 *
 * <p>Reference values were read from the raw bytes with numpy, independently of the Java readers:
 * <pre>
 * d = np.fromfile('cifar10-subset/data_batch_1_first1102.bin', np.uint8).reshape(-1, 3073)
 * d[rec, 0]                          # label
 * d[rec, 1 + c*1024 + y*32 + x]      # pixel (c, y, x)
 * np.bincount(all_train[:, 0], minlength=10)
 * c = np.fromfile('cifar100-subset/train_first486.bin', np.uint8).reshape(-1, 3074)
 * c[rec, 0], c[rec, 1], c[rec, 2 + ch*1024 + y*32 + x]   # coarse, fine, pixel
 * </pre>
 */
class SharedDatasetsReadTest {

    private static int px(ImageDataset ds, int i, int c, int y, int x) {
        return ds.image(i)[c * ds.height() * ds.width() + y * ds.width() + x] & 0xFF;
    }

    @Test
    void cifar10SubsetCountsLabelsAndPixels() throws IOException {
        Path dir = SharedDatasets.require("cifar10-subset");
        ImageDataset train = Datasets.load("cifar10", dir, Split.TRAIN);
        ImageDataset test = Datasets.load("cifar10", dir, Split.TEST);
        assertEquals(5170, train.size());
        assertEquals(1017, test.size());
        assertEquals(Cifar10Reader.CLASS_NAMES, train.classNames());
        // numpy: np.bincount(labels, minlength=10) over the five train files / the test file
        assertArrayEquals(new int[]{521, 534, 497, 505, 540, 484, 515, 524, 537, 513}, Subsets.classCounts(train));
        assertArrayEquals(new int[]{105, 93, 100, 104, 92, 87, 114, 102, 110, 110}, Subsets.classCounts(test));
        // numpy: d[0,0] = 6; d[0, 1+0] = 59; d[0, 1+1024+5*32+7] = 77; d[0, 1+2048+31*32+31] = 72
        assertEquals(6, train.label(0));
        assertEquals(59, px(train, 0, 0, 0, 0));
        assertEquals(77, px(train, 0, 1, 5, 7));
        assertEquals(72, px(train, 0, 2, 31, 31));
        // numpy: d[1101, 0] = 6; d[1101, 1+16*32+16] = 107 (last record of data_batch_1)
        assertEquals(6, train.label(1101));
        assertEquals(107, px(train, 1101, 0, 16, 16));
        // numpy (data_batch_5_first1017.bin): d5[-1, 0] = 3; d5[-1, 1+1024+3*32+4] = 153
        assertEquals(3, train.label(5169));
        assertEquals(153, px(train, 5169, 1, 3, 4));
        // numpy (test_batch_first1017.bin): t[0,0] = 3, t[0,1] = 158; t[1016,0] = 1, t[1016, 1+2048+10*32+20] = 61
        assertEquals(3, test.label(0));
        assertEquals(158, px(test, 0, 0, 0, 0));
        assertEquals(1, test.label(1016));
        assertEquals(61, px(test, 1016, 2, 10, 20));
        // python: sha256(pack('>4i', 1017, 3, 32, 32) + per record pack('>i', label) + pixels)
        assertEquals("a261f3623842e46f793d376cc8c2fd19f0b49ec254057ccf6a14263a2f8653b7", DatasetChecksum.sha256(test));
    }

    @Test
    void cifar100SubsetFineAndCoarse() throws IOException {
        Path dir = SharedDatasets.require("cifar100-subset");
        ImageDataset train = Datasets.load("cifar100", dir, Split.TRAIN);
        ImageDataset test = Cifar100Reader.read(dir, Split.TEST);
        assertEquals(486, train.size());
        assertEquals(916, test.size());
        assertEquals(100, train.numClasses());
        Set<Integer> fine = new HashSet<>();
        for (int i = 0; i < test.size(); i++) {
            fine.add(test.label(i));
        }
        assertEquals(100, fine.size(), "the test subset holds all 100 fine classes");
        // numpy: c[0, :2] = (11, 19), c[0, 2] = 255; c[485, 1] = 38, c[485, 2+2048+31*32+0] = 15
        assertEquals(19, train.label(0));
        assertEquals("cattle", train.classNames().get(19));
        assertEquals(255, px(train, 0, 0, 0, 0));
        assertEquals(38, train.label(485));
        assertEquals(15, px(train, 485, 2, 31, 0));
        // numpy: ct[915, :2] = (11, 15), ct[915, 2+1024+7*32+9] = 5
        assertEquals(15, test.label(915));
        assertEquals(5, px(test, 915, 1, 7, 9));
        ImageDataset coarse = Cifar100Reader.read(dir, Split.TRAIN, Cifar100Reader.LabelKind.COARSE);
        assertEquals(20, coarse.numClasses());
        assertEquals(11, coarse.label(0));
        assertEquals("large_omnivores_and_herbivores", coarse.classNames().get(11));
    }

    @Test
    void jpegTarballWithPerClassLimit() throws IOException {
        Path tgz = SharedDatasets.require("cifar10-train-jpeg.tar.gz");
        ImageDataset ds = ImageFolderReader.readTarGz(tgz, "train/",
                ImageFolderReader.Options.DEFAULT.withLimitPerClass(30), "cifar10-jpeg");
        assertEquals(300, ds.size());
        assertEquals(Cifar10Reader.CLASS_NAMES, ds.classNames(), "folder names sorted = CIFAR label order");
        assertArrayEquals(new int[]{30, 30, 30, 30, 30, 30, 30, 30, 30, 30}, Subsets.classCounts(ds));
        assertEquals(3, ds.channels());
        assertEquals(32, ds.height());
        assertEquals(32, ds.width());
        // The JPEGs are lossy copies (README: mean abs error about 6/255). train/airplane/0000.jpg is the first
        // airplane of data_batch_1, record 29 (numpy: [i for i in range(60) if d[i, 0] == 0][0] = 29).
        Path cifarDir = SharedDatasets.require("cifar10-subset");
        ImageDataset orig = Cifar10Reader.read(cifarDir, Split.TRAIN);
        assertEquals(0, orig.label(29));
        byte[] a = ds.image(0);
        byte[] b = orig.image(29);
        double mae = 0;
        for (int j = 0; j < a.length; j++) {
            mae += Math.abs((a[j] & 0xFF) - (b[j] & 0xFF)) / (double) a.length;
        }
        assertTrue(mae < 12, "mean abs error to the original pixels " + mae);
        double maeOther = 0;
        byte[] other = orig.image(30); // the second airplane: a different picture
        for (int j = 0; j < a.length; j++) {
            maeOther += Math.abs((a[j] & 0xFF) - (other[j] & 0xFF)) / (double) a.length;
        }
        assertTrue(maeOther > 3 * mae, "another airplane " + maeOther + " vs " + mae);
    }

    /** Fashion-MNIST from Debian's dataset-fashion-mnist package (apt-get install -y dataset-fashion-mnist). */
    @Test
    void fashionMnistTestSplitFromTheDebianPackage() throws IOException {
        Path dir = Path.of("/usr/share/datasets/fashion-mnist");
        assumeTrue(Files.isRegularFile(dir.resolve("t10k-images-idx3-ubyte.gz")), "dataset-fashion-mnist not installed");
        ImageDataset ds = Datasets.load("fashion-mnist", null, Split.TEST);
        assertEquals(10000, ds.size());
        assertEquals(1, ds.channels());
        assertEquals(28, ds.height());
        // python: im = np.frombuffer(gzip.open('t10k-images-idx3-ubyte.gz').read(), np.uint8)[16:].reshape(-1, 28, 28)
        //         lb = np.frombuffer(gzip.open('t10k-labels-idx1-ubyte.gz').read(), np.uint8)[8:]
        // lb[:5] = [9 2 1 1 6]; np.bincount(lb) = 1000 each; im[0,14,14] = 110; im[0,20,10] = 126;
        // im[9999,13,13] = 95; lb[9999] = 5
        assertArrayEquals(new int[]{9, 2, 1, 1, 6}, new int[]{ds.label(0), ds.label(1), ds.label(2), ds.label(3), ds.label(4)});
        assertArrayEquals(new int[]{1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}, Subsets.classCounts(ds));
        assertEquals(110, px(ds, 0, 0, 14, 14));
        assertEquals(126, px(ds, 0, 0, 20, 10));
        assertEquals(95, px(ds, 9999, 0, 13, 13));
        assertEquals(5, ds.label(9999));
        assertEquals("Ankle boot", ds.classNames().get(9));
    }
}
