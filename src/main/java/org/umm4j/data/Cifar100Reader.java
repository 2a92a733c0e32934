package org.umm4j.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads the CIFAR-100 binary format (Krizhevsky 2009; "binary version" cifar-100-binary.tar.gz).
 *
 * <p>Each record is 3074 bytes: the coarse label (0..19), the fine label (0..99), then 3072 pixel
 * bytes laid out as in CIFAR-10 (R, G, B planes of 32x32, row-major = CHW). The training split is
 * every {@code train*.bin} file of the directory in name order ({@code train.bin} in the original),
 * the test split every {@code test*.bin}. Fine labels are used unless {@link LabelKind#COARSE} is asked
 * for; names come from {@code fine_label_names.txt} / {@code coarse_label_names.txt} when present,
 * otherwise the labels' decimal numbers.
 */
public final class Cifar100Reader {
    /** bytes per record: 2 labels + 3 x 32 x 32 pixels */
    public static final int RECORD_BYTES = 2 + 3 * 32 * 32;
    /** the directory name inside cifar-100-binary.tar.gz */
    public static final String ARCHIVE_DIR = "cifar-100-binary";

    /** Which of the two labels of a record becomes the image label. */
    public enum LabelKind {
        /** the 100 fine classes (byte 1 of a record); the default */
        FINE,
        /** the 20 superclasses (byte 0 of a record) */
        COARSE
    }

    private Cifar100Reader() {
    }

    /** Reads {@code split} with fine labels; see {@link #read(Path, Split, LabelKind)}. */
    public static ImageDataset read(Path dir, Split split) throws IOException {
        return read(dir, split, LabelKind.FINE);
    }

    /**
     * @param dir   directory holding {@code train*.bin} / {@code test*.bin}
     * @param split TRAIN or TEST
     * @param kind  fine (100 classes) or coarse (20 classes) labels
     * @return the images, uint8 CHW 3x32x32
     * @throws IOException on missing or malformed files
     */
    public static ImageDataset read(Path dir, Split split, LabelKind kind) throws IOException {
        DataFiles.requireDirectory(dir, "CIFAR-100");
        String glob = switch (split) {
            case TRAIN -> "train*.bin";
            case TEST -> "test*.bin";
            case UNLABELLED -> throw new IllegalArgumentException("CIFAR-100 has no unlabelled split; use TRAIN or TEST");
        };
        List<Path> files = DataFiles.listSorted(dir, glob);
        if (files.isEmpty()) {
            throw new DatasetFormatException(dir, "no " + glob + " files for the " + split
                    + " split of CIFAR-100 (expected the binary version, cifar-100-binary.tar.gz)");
        }
        int expected = kind == LabelKind.FINE ? 100 : 20;
        Path namesFile = dir.resolve(kind == LabelKind.FINE ? "fine_label_names.txt" : "coarse_label_names.txt");
        List<String> names = Files.isRegularFile(namesFile) ? DataFiles.readNames(namesFile)
                : DataFiles.numericNames(expected);
        if (names.size() != expected) {
            throw new DatasetFormatException(namesFile, "expected " + expected + " class names, found " + names.size());
        }
        String name = "cifar100-" + split.name().toLowerCase() + (kind == LabelKind.COARSE ? "-coarse" : "");
        return Cifar10Reader.CifarRecords.read(files, 2, kind == LabelKind.FINE ? 1 : 0, names, name);
    }
}
