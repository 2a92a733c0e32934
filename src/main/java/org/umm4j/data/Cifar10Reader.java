package org.umm4j.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the CIFAR-10 binary format (Krizhevsky 2009, "Learning Multiple Layers of Features from Tiny
 * Images"; the "binary version" from https://www.cs.toronto.edu/~kriz/cifar.html).
 *
 * <p>Each record is 3073 bytes: one label byte (0..9), then 1024 red, 1024 green and 1024 blue
 * bytes, each a row-major 32x32 plane. That is exactly the CHW layout of {@link ImageDataset}, so
 * pixels are copied as they are. The training split is every {@code data_batch_*.bin} file of the
 * directory in name order, the test split every {@code test_batch*.bin} file (so truncated copies
 * such as {@code data_batch_1_first1102.bin} read the same way). Class names come from
 * {@code batches.meta.txt} when present, otherwise {@link #CLASS_NAMES}.
 */
public final class Cifar10Reader {
    /** bytes per record: 1 label + 3 x 32 x 32 pixels */
    public static final int RECORD_BYTES = 1 + 3 * 32 * 32;
    /** the ten CIFAR-10 classes in label order (as in batches.meta.txt) */
    public static final List<String> CLASS_NAMES = List.of("airplane", "automobile", "bird", "cat", "deer",
            "dog", "frog", "horse", "ship", "truck");
    /** the directory name inside cifar-10-binary.tar.gz */
    public static final String ARCHIVE_DIR = "cifar-10-batches-bin";

    private Cifar10Reader() {
    }

    /**
     * @param dir   a directory holding {@code data_batch_*.bin} / {@code test_batch*.bin}
     * @param split {@link Split#TRAIN} or {@link Split#TEST}
     * @return the images of that split, uint8 CHW 3x32x32
     * @throws IOException on a missing directory or file, or malformed content (a {@link DatasetFormatException})
     */
    public static ImageDataset read(Path dir, Split split) throws IOException {
        DataFiles.requireDirectory(dir, "CIFAR-10");
        String glob = switch (split) {
            case TRAIN -> "data_batch_*.bin";
            case TEST -> "test_batch*.bin";
            case UNLABELLED -> throw new IllegalArgumentException("CIFAR-10 has no unlabelled split; use TRAIN or TEST");
        };
        List<Path> files = DataFiles.listSorted(dir, glob);
        if (files.isEmpty()) {
            throw new DatasetFormatException(dir, "no " + glob + " files for the " + split
                    + " split of CIFAR-10 (expected the binary version, cifar-10-binary.tar.gz)");
        }
        Path meta = dir.resolve("batches.meta.txt");
        List<String> names = Files.isRegularFile(meta) ? DataFiles.readNames(meta) : CLASS_NAMES;
        if (names.size() != 10) {
            throw new DatasetFormatException(meta, "expected 10 class names, found " + names.size());
        }
        return readFiles(files, names, "cifar10-" + split.name().toLowerCase());
    }

    /**
     * Reads and concatenates CIFAR-10 record files in the given order.
     *
     * @param files      record files (3073-byte records)
     * @param classNames names in label order; every label byte must be below its size
     * @param name       the dataset name
     * @return the images
     * @throws IOException on malformed content (the message names the file and the record)
     */
    public static ImageDataset readFiles(List<Path> files, List<String> classNames, String name) throws IOException {
        return CifarRecords.read(files, 1, 0, classNames, name);
    }

    /** Shared record parser for CIFAR-10 (1 label byte) and CIFAR-100 (2 label bytes). */
    static final class CifarRecords {
        private CifarRecords() {
        }

        static ImageDataset read(List<Path> files, int labelBytes, int labelIndex, List<String> classNames,
                                 String name) throws IOException {
            final int pix = 3 * 32 * 32;
            final int rec = labelBytes + pix;
            List<byte[]> raws = new ArrayList<>();
            long total = 0;
            for (Path f : files) {
                byte[] raw = DataFiles.readRecords(f, rec);
                raws.add(raw);
                total += raw.length / rec;
            }
            if (total * pix > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException(name + ": " + total + " images do not fit one byte array");
            }
            byte[] pixels = new byte[(int) total * pix];
            int[] labels = new int[(int) total];
            int n = 0;
            for (int fi = 0; fi < files.size(); fi++) {
                byte[] raw = raws.get(fi);
                int count = raw.length / rec;
                for (int r = 0; r < count; r++) {
                    int label = raw[r * rec + labelIndex] & 0xFF;
                    if (label >= classNames.size()) {
                        throw new DatasetFormatException(files.get(fi), "record " + r + " (byte offset " + (long) r * rec
                                + ") has label " + label + ", expected 0.." + (classNames.size() - 1));
                    }
                    labels[n] = label;
                    System.arraycopy(raw, r * rec + labelBytes, pixels, n * pix, pix);
                    n++;
                }
            }
            return new InMemoryImageDataset(name, 3, 32, 32, pixels, labels, classNames);
        }
    }
}
