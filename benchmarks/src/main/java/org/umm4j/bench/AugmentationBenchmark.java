package org.umm4j.bench;

import java.util.List;
import java.util.SplittableRandom;
import org.umm4j.data.InMemoryImageDataset;
import org.umm4j.data.augment.MultiViewBatch;
import org.umm4j.data.augment.MultiViewBatchIterator;
import org.umm4j.data.augment.Recipes;

/**
 * Augmentation throughput: images per second through {@link MultiViewBatchIterator} with the SimCLR-CIFAR recipe
 * (two 32 x 32 views per image), default worker count, on a synthetic uint8 dataset.
 *
 * <p>Target: at least 10x the narrow ResNet-18 training throughput (about 92 img/s at width 16 on 2 cores), i.e.
 * about 920 img/s, so that augmentation never starves training. One warm-up epoch (JIT), then the median and best of
 * {@code epochs} timed epochs (the machine is shared, so single epochs are noisy), and the process CPU time per image
 * with the throughput it projects on idle cores. Args:
 * {@code [images=4096] [batch=256] [epochs=5]}.
 */
public final class AugmentationBenchmark {
    private AugmentationBenchmark() {
    }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 4096;
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 256;
        int epochs = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        byte[] pixels = new byte[n * 3 * 32 * 32];
        new SplittableRandom(1).nextBytes(pixels);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 10;
        }
        InMemoryImageDataset ds = new InMemoryImageDataset("synthetic-cifar", 3, 32, 32, pixels, labels,
                List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"));
        double[] rates = new double[epochs];
        double[] cpuPerImage = new double[epochs];
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        com.sun.management.OperatingSystemMXBean cpu = os instanceof com.sun.management.OperatingSystemMXBean c ? c : null;
        int workers = 0;
        for (int e = 0; e <= epochs; e++) {
            long t0 = System.nanoTime();
            long cpu0 = cpu == null ? 0 : cpu.getProcessCpuTime();
            long images = 0;
            double checksum = 0;
            try (MultiViewBatchIterator it = MultiViewBatchIterator.builder().setDataset(ds)
                    .setRecipe(Recipes.simclrCifar()).setBatchSize(batch).setSeed(42).optEpoch(e).build()) {
                workers = it.workers();
                while (it.hasNext()) {
                    MultiViewBatch b = it.next();
                    images += b.size();
                    checksum += b.view(0).getDouble(0, 0, 0, 0); // keep the batch observable
                }
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            double cpuSecs = cpu == null ? Double.NaN : (cpu.getProcessCpuTime() - cpu0) / 1e9;
            double rate = images / secs;
            System.out.printf("epoch %d%s: %d images (2 views each) in %.3f s = %.0f images/s, %.1f us CPU per image"
                    + " (checksum %.3f)%n", e, e == 0 ? " (warm-up)" : "", images, secs, rate, 1e6 * cpuSecs / images,
                    checksum);
            if (e > 0) {
                rates[e - 1] = rate;
                cpuPerImage[e - 1] = cpuSecs / images;
            }
        }
        java.util.Arrays.sort(rates);
        java.util.Arrays.sort(cpuPerImage);
        // Process CPU time per image is far less sensitive to other tenants than wall time: it projects the rate on
        // idle cores (it still includes the JVM's own threads, so it is a conservative figure).
        System.out.printf("CPU time per image (median): %.1f us -> %.0f images/s projected on %d idle cores%n",
                1e6 * cpuPerImage[epochs / 2], workers / cpuPerImage[epochs / 2], workers);
        System.out.printf("AugmentationBenchmark: SimCLR-CIFAR, 2 views x 32x32, batch %d, %d workers: median %.0f,"
                + " best %.0f images/s over %d epochs%n", batch, workers, rates[epochs / 2], rates[epochs - 1], epochs);
    }
}
