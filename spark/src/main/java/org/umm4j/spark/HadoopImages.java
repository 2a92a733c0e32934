package org.umm4j.spark;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;

import java.util.Arrays;
import java.util.Objects;

/**
 * Training images read by the executors from any Hadoop-compatible path ({@code file:}, {@code hdfs:}, {@code s3a:},
 * ...) with {@link JavaSparkContext#binaryRecords}, for data that should not pass through the driver. Fixed-length
 * records of {@code labelBytes} label bytes followed by uint8 CHW pixels: the CIFAR binary format (CIFAR-10: 1 label
 * byte + 3x32x32; CIFAR-100: coarse and fine label bytes + 3x32x32), as {@code Cifar10Reader} and
 * {@code Cifar100Reader} of the library read it on one machine.
 *
 * <p>Record order and index. A record's {@link ImageRecord#index()} is its position in the input (Spark's
 * {@code zipWithIndex}: files in the order Hadoop's input format lists them, records in file order), and the index
 * fixes its augmentations and batch. Pass a glob ({@code dir/data_batch_*.bin}): Hadoop lists the files a glob matches
 * sorted by name, which is also the library readers' order, so the indices equal those of the single-machine dataset.
 * A bare directory is listed in the file system's order, which need not be sorted. A file whose length is not a
 * multiple of the record length fails the read.
 */
public final class HadoopImages {
    /** CIFAR image bytes, 3 x 32 x 32. */
    public static final int CIFAR_IMAGE_BYTES = 3 * 32 * 32;

    private HadoopImages() {
    }

    /** CIFAR-10 binary records ({@code 1 + 3072} bytes, label byte first) under {@code path}. */
    public static JavaRDD<ImageRecord> cifar10(JavaSparkContext sc, String path) {
        return records(sc, path, 1, 0, CIFAR_IMAGE_BYTES, 10);
    }

    /**
     * CIFAR-100 binary records ({@code 2 + 3072} bytes: coarse label, fine label, pixels) under {@code path}.
     *
     * @param fine the fine label (100 classes) when true, the coarse one (20 classes) when false
     */
    public static JavaRDD<ImageRecord> cifar100(JavaSparkContext sc, String path, boolean fine) {
        return records(sc, path, 2, fine ? 1 : 0, CIFAR_IMAGE_BYTES, fine ? 100 : 20);
    }

    /**
     * Fixed-length records: {@code labelBytes} label bytes, then {@code imageBytes} uint8 CHW pixels.
     *
     * @param path       any Hadoop path or glob
     * @param labelBytes label bytes per record, &gt;= 0
     * @param labelIndex which label byte is the label ({@code -1}: none, label -1)
     * @param imageBytes pixel bytes per record, &gt; 0
     * @param numClasses labels must be below this (a larger one fails the read, naming the record)
     */
    public static JavaRDD<ImageRecord> records(JavaSparkContext sc, String path, int labelBytes, int labelIndex,
                                               int imageBytes, int numClasses) {
        Objects.requireNonNull(sc, "sc");
        Objects.requireNonNull(path, "path");
        if (labelBytes < 0 || imageBytes < 1) {
            throw new IllegalArgumentException("labelBytes must be >= 0 and imageBytes > 0, got " + labelBytes + " and "
                    + imageBytes);
        }
        if (labelIndex < -1 || labelIndex >= labelBytes) {
            throw new IllegalArgumentException("labelIndex must be -1 or in [0, " + labelBytes + "), got " + labelIndex);
        }
        return sc.binaryRecords(path, labelBytes + imageBytes).zipWithIndex().map(t -> {
            byte[] rec = t._1();
            int label = labelIndex < 0 ? -1 : rec[labelIndex] & 0xFF;
            if (label >= numClasses) {
                throw new IllegalArgumentException("record " + t._2() + " of " + path + " has label " + label
                        + ", expected < " + numClasses);
            }
            return new ImageRecord(t._2(), Arrays.copyOfRange(rec, labelBytes, rec.length), label);
        });
    }
}
