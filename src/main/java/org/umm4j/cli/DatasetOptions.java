package org.umm4j.cli;

import org.umm4j.data.Datasets;
import org.umm4j.data.ImageDataset;
import org.umm4j.data.Split;
import org.umm4j.data.Subsets;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The dataset flags shared by every command ({@code --dataset --data-dir --train-limit --test-limit}), and their
 * round trip through a run's manifest so that {@code eval}, {@code umm} and {@code report} find the data a run was
 * trained on.
 */
public final class DatasetOptions {
    @Option(names = "--dataset", defaultValue = "synthetic",
            description = "Dataset: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}, embedded, needs no files).",
            completionCandidates = Names.class)
    String dataset = "synthetic";

    @Option(names = "--data-dir", description = "Directory holding the dataset's files (not needed for synthetic).")
    Path dataDir;

    @Option(names = "--train-limit", defaultValue = "0",
            description = "Use a class-balanced subset of at most this many training images (0 = all; default: ${DEFAULT-VALUE}).")
    int trainLimit;

    @Option(names = "--test-limit", defaultValue = "0",
            description = "Use a class-balanced subset of at most this many test images (0 = all; default: ${DEFAULT-VALUE}).")
    int testLimit;

    @Option(names = "--long-tail", defaultValue = "0",
            description = "Make the training split long-tailed with this imbalance ratio n_max/n_min (CIFAR-10-LT style, "
                    + "n_c = n_max (1/ratio)^(c/(C-1)); 0 = off; default: ${DEFAULT-VALUE}).")
    double longTail;

    /** picocli completion candidates: the dataset names. */
    static final class Names implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return Datasets.NAMES.iterator();
        }
    }

    /** @return a validated copy from explicit values (used when reading a manifest) */
    public static DatasetOptions of(String dataset, Path dataDir, int trainLimit, int testLimit) {
        DatasetOptions o = new DatasetOptions();
        o.dataset = dataset;
        o.dataDir = dataDir;
        o.trainLimit = trainLimit;
        o.testLimit = testLimit;
        o.validate();
        return o;
    }

    /** Checks the flags; the error names the flag and lists valid values. */
    public void validate() {
        String n = dataset == null ? "" : dataset.toLowerCase(Locale.ROOT);
        if (!Datasets.NAMES.contains(n)) {
            throw new IllegalArgumentException("--dataset '" + dataset + "' is not one of " + String.join(", ", Datasets.NAMES));
        }
        dataset = n;
        if (!n.equals("synthetic") && !n.equals("fashion-mnist") && dataDir == null) {
            throw new IllegalArgumentException("--dataset " + n + " needs --data-dir DIR (the folder holding its files)");
        }
        if (longTail != 0 && !(longTail >= 1)) {
            throw new IllegalArgumentException("--long-tail must be 0 (off) or an imbalance ratio >= 1, got " + longTail);
        }
        if (trainLimit < 0 || testLimit < 0) {
            throw new IllegalArgumentException("--train-limit and --test-limit must be >= 0");
        }
    }

    /** @return the dataset name */
    public String name() {
        return dataset;
    }

    /** Loads a split, cut to the limit with a seeded class-balanced subset when one is set. */
    public ImageDataset load(Split split, long seed) throws IOException {
        validate();
        ImageDataset d = Datasets.load(dataset, dataDir, split);
        int limit = split == Split.TEST ? testLimit : trainLimit;
        if (limit > 0 && limit < d.size()) {
            d = Subsets.classBalancedFraction(d, (double) limit / d.size(), seed);
        }
        if (split == Split.TRAIN && longTail >= 1) {
            d = Subsets.longTailed(d, longTail, seed);
        }
        return d;
    }

    /** @return the flags as manifest entries */
    public Map<String, Object> toManifest() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("dataset", dataset);
        m.put("dataDir", dataDir == null ? null : dataDir.toAbsolutePath().toString());
        m.put("trainLimit", trainLimit);
        m.put("testLimit", testLimit);
        m.put("longTail", longTail);
        return m;
    }

    /** Rebuilds the options from {@link #toManifest()} entries (a run manifest's config). */
    public static DatasetOptions fromManifest(Map<String, ?> m) {
        Object dir = m.get("dataDir");
        DatasetOptions o = of(String.valueOf(m.get("dataset")), dir == null ? null : Path.of(dir.toString()),
                intOr(m.get("trainLimit")), intOr(m.get("testLimit")));
        o.longTail = m.get("longTail") instanceof Number n ? n.doubleValue() : 0;
        o.validate();
        return o;
    }

    private static int intOr(Object v) {
        return v == null ? 0 : ((Number) v).intValue();
    }
}
