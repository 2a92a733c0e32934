package org.umm4j.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Reads MNIST / Fashion-MNIST idx files (LeCun et al. 1998; Xiao, Rasul, Vollgraf 2017), plain or
 * gzip-compressed (detected from the gzip magic bytes, not the file name).
 *
 * <p>An image file starts with the big-endian magic {@code 0x00000803} (unsigned bytes, 3 dimensions),
 * then the count, rows and columns, then {@code count*rows*cols} pixel bytes, row-major; a label file
 * starts with {@code 0x00000801}, then the count, then one byte per label. Images become 1-channel
 * CHW datasets. Standard file names for {@link #read(Path, Split, boolean)}:
 * {@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte}, {@code t10k-images-idx3-ubyte},
 * {@code t10k-labels-idx1-ubyte}, each optionally with {@code .gz} (and the {@code .idx3-ubyte}
 * spelling is accepted too).
 */
public final class IdxReader {
    /** magic of an unsigned-byte 3-d idx file (images) */
    public static final int IMAGES_MAGIC = 0x00000803;
    /** magic of an unsigned-byte 1-d idx file (labels) */
    public static final int LABELS_MAGIC = 0x00000801;
    /** MNIST digit names */
    public static final List<String> MNIST_CLASS_NAMES = DataFiles.numericNames(10);
    /** Fashion-MNIST class names in label order */
    public static final List<String> FASHION_CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress",
            "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    private IdxReader() {
    }

    /**
     * Reads MNIST ({@code fashion=false}) or Fashion-MNIST from a directory of the standard files.
     *
     * @param dir     directory holding the idx files
     * @param split   TRAIN or TEST
     * @param fashion true for Fashion-MNIST class names
     * @return 1x28x28 images with labels 0..9
     * @throws IOException on missing or malformed files
     */
    public static ImageDataset read(Path dir, Split split, boolean fashion) throws IOException {
        DataFiles.requireDirectory(dir, fashion ? "Fashion-MNIST" : "MNIST");
        String prefix = switch (split) {
            case TRAIN -> "train";
            case TEST -> "t10k";
            case UNLABELLED -> throw new IllegalArgumentException("MNIST has no unlabelled split; use TRAIN or TEST");
        };
        Path images = find(dir, prefix + "-images", "idx3-ubyte");
        Path labels = find(dir, prefix + "-labels", "idx1-ubyte");
        String name = (fashion ? "fashion-mnist-" : "mnist-") + split.name().toLowerCase();
        return read(images, labels, fashion ? FASHION_CLASS_NAMES : MNIST_CLASS_NAMES, name);
    }

    private static Path find(Path dir, String stem, String suffix) throws IOException {
        for (String sep : new String[]{"-", "."}) {
            for (String gz : new String[]{"", ".gz"}) {
                Path p = dir.resolve(stem + sep + suffix + gz);
                if (Files.isRegularFile(p)) {
                    return p;
                }
            }
        }
        throw new NoSuchFileException(dir.resolve(stem + "-" + suffix).toString(), null,
                "idx file not found (also tried .gz and the '." + suffix + "' spelling)");
    }

    /**
     * Reads an image idx file and its label idx file.
     *
     * @param imagesFile idx3 unsigned-byte images
     * @param labelsFile idx1 unsigned-byte labels, same count
     * @param classNames names in label order; labels must lie below its size
     * @param name       dataset name
     * @return the dataset (1 channel)
     * @throws IOException on a bad magic number, a count mismatch, a truncated file or a label out of range
     */
    public static ImageDataset read(Path imagesFile, Path labelsFile, List<String> classNames, String name)
            throws IOException {
        int n;
        int rows;
        int cols;
        byte[] pixels;
        try (DataInputStream in = open(imagesFile)) {
            int magic = in.readInt();
            if (magic != IMAGES_MAGIC) {
                throw new DatasetFormatException(imagesFile, String.format(
                        "bad magic number 0x%08x, expected 0x%08x (idx3 unsigned-byte images)", magic, IMAGES_MAGIC));
            }
            n = in.readInt();
            rows = in.readInt();
            cols = in.readInt();
            if (n <= 0 || rows <= 0 || cols <= 0 || (long) n * rows * cols > Integer.MAX_VALUE - 16) {
                throw new DatasetFormatException(imagesFile, "bad header: count " + n + ", rows " + rows
                        + ", cols " + cols);
            }
            pixels = new byte[n * rows * cols];
            readFully(in, pixels, imagesFile, "image data (" + n + " x " + rows + " x " + cols + " bytes)");
            requireEnd(in, imagesFile);
        } catch (EOFException e) {
            throw new DatasetFormatException(imagesFile.toString(), "truncated header", e);
        }
        int[] labels = new int[n];
        try (DataInputStream in = open(labelsFile)) {
            int magic = in.readInt();
            if (magic != LABELS_MAGIC) {
                throw new DatasetFormatException(labelsFile, String.format(
                        "bad magic number 0x%08x, expected 0x%08x (idx1 unsigned-byte labels)", magic, LABELS_MAGIC));
            }
            int m = in.readInt();
            if (m != n) {
                throw new DatasetFormatException(labelsFile, "holds " + m + " labels but " + imagesFile.getFileName()
                        + " holds " + n + " images");
            }
            byte[] raw = new byte[n];
            readFully(in, raw, labelsFile, n + " label bytes");
            requireEnd(in, labelsFile);
            for (int i = 0; i < n; i++) {
                int l = raw[i] & 0xFF;
                if (l >= classNames.size()) {
                    throw new DatasetFormatException(labelsFile, "label " + i + " is " + l + ", expected 0.."
                            + (classNames.size() - 1));
                }
                labels[i] = l;
            }
        } catch (EOFException e) {
            throw new DatasetFormatException(labelsFile.toString(), "truncated header", e);
        }
        return new InMemoryImageDataset(name, 1, rows, cols, pixels, labels, classNames);
    }

    private static DataInputStream open(Path file) throws IOException {
        DataFiles.sizeOf(file);
        InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        raw.mark(2);
        int b0 = raw.read();
        int b1 = raw.read();
        raw.reset();
        InputStream in = (b0 == 0x1f && b1 == 0x8b) ? new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16)
                : raw;
        return new DataInputStream(in);
    }

    private static void readFully(InputStream in, byte[] dst, Path file, String what) throws IOException {
        int off = 0;
        while (off < dst.length) {
            int r = in.read(dst, off, dst.length - off);
            if (r < 0) {
                throw new DatasetFormatException(file, "truncated: " + what + " expected, only " + off
                        + " bytes present");
            }
            off += r;
        }
    }

    private static void requireEnd(InputStream in, Path file) throws IOException {
        if (in.read() >= 0) {
            throw new DatasetFormatException(file, "trailing bytes after the data the header announces");
        }
    }
}
