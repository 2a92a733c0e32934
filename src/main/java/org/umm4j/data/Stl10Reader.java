package org.umm4j.data;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Objects;

/**
 * Reads the STL-10 binary format (Coates, Lee, Ng 2011, "An Analysis of Single-Layer Networks in
 * Unsupervised Feature Learning"; stl10_binary.tar.gz from http://ai.stanford.edu/~acoates/stl10/).
 *
 * <p>{@code train_X.bin}, {@code test_X.bin} and {@code unlabeled_X.bin} hold 96x96x3 images of
 * 27,648 bytes each, stored per channel in <em>column-major</em> order: the byte of channel c, row y,
 * column x is at {@code c*9216 + x*96 + y}. This reader transposes every plane to row-major CHW,
 * {@code out[c*9216 + y*96 + x]}. {@code train_y.bin} / {@code test_y.bin} hold one label byte
 * per image in 1..10, mapped to 0..9. The unlabelled split (100,000 images, 2.7 GB) does not fit a
 * Java array, so images are read lazily from a memory-mapped file (for every split, for uniformity);
 * the file is only checked for size up front. Class names come from {@code class_names.txt} when
 * present, otherwise {@link #CLASS_NAMES}.
 */
public final class Stl10Reader {
    /** image side */
    public static final int SIZE = 96;
    /** bytes per image */
    public static final int IMAGE_BYTES = 3 * SIZE * SIZE;
    /** the ten STL-10 classes in label order (labels 1..10 in the files) */
    public static final List<String> CLASS_NAMES = List.of("airplane", "bird", "car", "cat", "deer", "dog",
            "horse", "monkey", "ship", "truck");
    /** the directory name inside stl10_binary.tar.gz */
    public static final String ARCHIVE_DIR = "stl10_binary";

    private Stl10Reader() {
    }

    /**
     * @param dir   directory holding the STL-10 .bin files
     * @param split TRAIN ({@code train_X/train_y}), TEST ({@code test_X/test_y}) or UNLABELLED ({@code unlabeled_X})
     * @return the images, uint8 CHW 3x96x96
     * @throws IOException on missing files, a wrong file size, a label count that differs from the image
     *                     count or a label outside 1..10
     */
    public static ImageDataset read(Path dir, Split split) throws IOException {
        DataFiles.requireDirectory(dir, "STL-10");
        Path namesFile = dir.resolve("class_names.txt");
        List<String> names = Files.isRegularFile(namesFile) ? DataFiles.readNames(namesFile) : CLASS_NAMES;
        if (names.size() != 10) {
            throw new DatasetFormatException(namesFile, "expected 10 class names, found " + names.size());
        }
        Path xFile = dir.resolve(switch (split) {
            case TRAIN -> "train_X.bin";
            case TEST -> "test_X.bin";
            case UNLABELLED -> "unlabeled_X.bin";
        });
        long len = DataFiles.sizeOf(xFile);
        if (len == 0 || len % IMAGE_BYTES != 0) {
            throw new DatasetFormatException(xFile, "length " + len + " bytes is not a positive multiple of the "
                    + "image size " + IMAGE_BYTES + " (3x96x96; truncated or wrong format?)");
        }
        long count = len / IMAGE_BYTES;
        if (count > Integer.MAX_VALUE) {
            throw new DatasetFormatException(xFile, "too many images: " + count);
        }
        int n = (int) count;
        int[] labels = new int[n];
        String name = "stl10-" + split.name().toLowerCase();
        if (split == Split.UNLABELLED) {
            java.util.Arrays.fill(labels, ImageDataset.UNLABELLED);
        } else {
            Path yFile = dir.resolve(split == Split.TRAIN ? "train_y.bin" : "test_y.bin");
            byte[] y = Files.readAllBytes(requireFile(yFile));
            if (y.length != n) {
                throw new DatasetFormatException(yFile, "holds " + y.length + " labels but " + xFile.getFileName()
                        + " holds " + n + " images");
            }
            for (int i = 0; i < n; i++) {
                int l = y[i] & 0xFF;
                if (l < 1 || l > 10) {
                    throw new DatasetFormatException(yFile, "label " + i + " is " + l + ", expected 1..10");
                }
                labels[i] = l - 1;
            }
        }
        return new MappedStl10(name, xFile, n, labels, names);
    }

    private static Path requireFile(Path p) throws IOException {
        DataFiles.sizeOf(p);
        return p;
    }

    /** Images read on demand from a mapped file and transposed from column-major planes. */
    private static final class MappedStl10 implements ImageDataset {
        private final String name;
        private final int size;
        private final int[] labels;
        private final List<String> classNames;
        private final MappedByteBuffer[] chunks;
        private final int imagesPerChunk;

        MappedStl10(String name, Path file, int size, int[] labels, List<String> classNames) throws IOException {
            this.name = name;
            this.size = size;
            this.labels = labels;
            this.classNames = List.copyOf(classNames);
            // a MappedByteBuffer spans at most 2 GiB, so map whole images in chunks
            this.imagesPerChunk = (Integer.MAX_VALUE / IMAGE_BYTES);
            int nChunks = (size + imagesPerChunk - 1) / imagesPerChunk;
            this.chunks = new MappedByteBuffer[nChunks];
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                for (int c = 0; c < nChunks; c++) {
                    long start = (long) c * imagesPerChunk * IMAGE_BYTES;
                    long images = Math.min(imagesPerChunk, size - (long) c * imagesPerChunk);
                    chunks[c] = ch.map(FileChannel.MapMode.READ_ONLY, start, images * IMAGE_BYTES);
                }
            }
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public int channels() {
            return 3;
        }

        @Override
        public int height() {
            return SIZE;
        }

        @Override
        public int width() {
            return SIZE;
        }

        @Override
        public List<String> classNames() {
            return classNames;
        }

        @Override
        public int label(int index) {
            return labels[Objects.checkIndex(index, size)];
        }

        @Override
        public void copyImage(int index, byte[] dst, int offset) {
            Objects.checkIndex(index, size);
            Objects.checkFromIndexSize(offset, IMAGE_BYTES, dst.length);
            byte[] raw = new byte[IMAGE_BYTES];
            // absolute bulk get: thread-safe, no shared buffer position
            chunks[index / imagesPerChunk].get((index % imagesPerChunk) * IMAGE_BYTES, raw);
            final int plane = SIZE * SIZE;
            for (int c = 0; c < 3; c++) {
                int base = c * plane;
                for (int x = 0; x < SIZE; x++) {
                    int src = base + x * SIZE;
                    for (int y = 0; y < SIZE; y++) {
                        dst[offset + base + y * SIZE + x] = raw[src + y];
                    }
                }
            }
        }
    }
}
