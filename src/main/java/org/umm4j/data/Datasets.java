package org.umm4j.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Loads a dataset by name: the single entry point the CLI and examples use.
 *
 * <p>Names ({@link #NAMES}) and where each looks under {@code dataDir}:
 * <ul>
 *   <li>{@code synthetic}: needs no files; TRAIN = {@link SyntheticDataset} 10 classes x 500, 3x32x32,
 *       seed {@value #SYNTHETIC_TRAIN_SEED}; TEST = 10 x 100, seed {@value #SYNTHETIC_TEST_SEED}; colours from
 *       a palette of {@value #SYNTHETIC_PALETTE} (with a colour of its own, every image could be told from the
 *       others by colour alone, and SimCLR learned that instead of the shapes: the demo's features lost shape
 *       information while pretraining).</li>
 *   <li>{@code cifar10}: {@code dataDir} itself when it holds CIFAR-10 .bin files, else
 *       {@code dataDir/cifar-10-batches-bin} (where {@link Downloader} unpacks it).</li>
 *   <li>{@code cifar100}: {@code dataDir} or {@code dataDir/cifar-100-binary}; fine labels.</li>
 *   <li>{@code stl10}: {@code dataDir} or {@code dataDir/stl10_binary}; TRAIN, TEST or UNLABELLED.</li>
 *   <li>{@code folder}: a tree {@code <class>/*.jpg|png}: {@code dataDir/train} or {@code dataDir/test}
 *       (also {@code val}) when present, else {@code dataDir} itself for TRAIN; or a {@code .tar.gz}
 *       file holding {@code train/<class>/...} and {@code test/<class>/...}.</li>
 *   <li>{@code mnist}, {@code fashion-mnist}: the idx files in {@code dataDir} or
 *       {@code dataDir/<name>}; for fashion-mnist with a null {@code dataDir},
 *       {@code /usr/share/datasets/fashion-mnist} (Debian's dataset-fashion-mnist package).</li>
 * </ul>
 */
public final class Datasets {
    /** the names {@link #load} accepts */
    public static final List<String> NAMES = List.of("synthetic", "cifar10", "cifar100", "stl10", "folder", "mnist",
            "fashion-mnist");
    /** seed of the synthetic training split */
    public static final long SYNTHETIC_TRAIN_SEED = 1;
    /** seed of the synthetic test split */
    public static final long SYNTHETIC_TEST_SEED = 2;
    /** palette size of the synthetic splits ({@link SyntheticDataset.Config#palette()}) */
    public static final int SYNTHETIC_PALETTE = 8;

    private Datasets() {
    }

    /** {@link #load(String, Path, Split, ImageFolderReader.Options)} with default folder options. */
    public static ImageDataset load(String name, Path dataDir, Split split) throws IOException {
        return load(name, dataDir, split, ImageFolderReader.Options.DEFAULT);
    }

    /**
     * @param name          one of {@link #NAMES} (case-insensitive)
     * @param dataDir       where the files are (ignored by {@code synthetic}; may be null there)
     * @param split         which split
     * @param folderOptions size / limit / channel options of the {@code folder} reader
     * @return the dataset
     * @throws IllegalArgumentException for an unknown name (listing the valid ones) or a split the dataset lacks
     * @throws IOException              when files are missing (the message says where they were looked for
     *                                  and how to get them) or malformed
     */
    public static ImageDataset load(String name, Path dataDir, Split split, ImageFolderReader.Options folderOptions)
            throws IOException {
        String n = name == null ? "" : name.toLowerCase(Locale.ROOT);
        if (!NAMES.contains(n)) {
            throw new IllegalArgumentException("unknown dataset '" + name + "'; valid names: " + String.join(", ", NAMES));
        }
        if (n.equals("synthetic")) {
            requireLabelledSplit(n, split);
            return split == Split.TRAIN
                    ? SyntheticDataset.generate(new SyntheticDataset.Config(10, 500, 32, 3, SYNTHETIC_TRAIN_SEED,
                            SYNTHETIC_PALETTE))
                    : SyntheticDataset.generate(new SyntheticDataset.Config(10, 100, 32, 3, SYNTHETIC_TEST_SEED,
                            SYNTHETIC_PALETTE));
        }
        if (dataDir == null && n.equals("fashion-mnist")) {
            dataDir = Path.of("/usr/share/datasets/fashion-mnist");
        }
        if (dataDir == null) {
            throw new IllegalArgumentException("dataset '" + n + "' needs a data directory (--data-dir DIR)");
        }
        switch (n) {
            case "cifar10" -> {
                requireLabelledSplit(n, split);
                return Cifar10Reader.read(locate(dataDir, Cifar10Reader.ARCHIVE_DIR, "data_batch_*.bin", n,
                        DownloadSpec.CIFAR10), split);
            }
            case "cifar100" -> {
                requireLabelledSplit(n, split);
                return Cifar100Reader.read(locate(dataDir, Cifar100Reader.ARCHIVE_DIR, "{train,test}*.bin", n,
                        DownloadSpec.CIFAR100), split);
            }
            case "stl10" -> {
                return Stl10Reader.read(locate(dataDir, Stl10Reader.ARCHIVE_DIR, "*_X.bin", n, DownloadSpec.STL10),
                        split);
            }
            case "mnist", "fashion-mnist" -> {
                requireLabelledSplit(n, split);
                return IdxReader.read(locate(dataDir, n, "*-ubyte*", n, null), split, n.equals("fashion-mnist"));
            }
            default -> {
                requireLabelledSplit(n, split);
                return loadFolder(dataDir, split, folderOptions);
            }
        }
    }

    /**
     * The TEST split must have the TRAIN split's class folders (else its labels would shift): when a
     * training tree exists beside it, its class list is required of the test tree.
     */
    private static ImageDataset loadFolder(Path dataDir, Split split, ImageFolderReader.Options options)
            throws IOException {
        String sub = split == Split.TRAIN ? "train" : "test";
        if (Files.isRegularFile(dataDir) && dataDir.getFileName().toString().endsWith(".tar.gz")) {
            List<String> expected = split == Split.TRAIN ? null : ImageFolderReader.listTarGzClasses(dataDir, "train/");
            return ImageFolderReader.readTarGz(dataDir, sub + "/", options, "folder-" + sub,
                    expected == null || expected.isEmpty() ? null : expected);
        }
        if (split == Split.TRAIN) {
            Path p = dataDir.resolve("train");
            return ImageFolderReader.readDirectory(Files.isDirectory(p) ? p : dataDir, options, "folder-train");
        }
        Path train = dataDir.resolve("train");
        List<String> expected = Files.isDirectory(train) ? ImageFolderReader.listClasses(train) : null;
        for (String s : new String[]{"test", "val"}) {
            Path p = dataDir.resolve(s);
            if (Files.isDirectory(p)) {
                return ImageFolderReader.readDirectory(p, options, "folder-" + s, expected);
            }
        }
        throw new NoSuchFileException(dataDir.toString(), null, "no test/ or val/ folder for the TEST split");
    }

    private static void requireLabelledSplit(String name, Split split) {
        if (split == Split.UNLABELLED) {
            throw new IllegalArgumentException("dataset '" + name + "' has no UNLABELLED split (only stl10 does); "
                    + "use TRAIN and ignore its labels");
        }
    }

    /** {@code dataDir} when it holds files matching {@code glob}, else {@code dataDir/sub}, else an error. */
    private static Path locate(Path dataDir, String sub, String glob, String name, DownloadSpec spec)
            throws IOException {
        if (Files.isDirectory(dataDir) && !DataFiles.listSorted(dataDir, glob).isEmpty()) {
            return dataDir;
        }
        Path p = dataDir.resolve(sub);
        if (Files.isDirectory(p)) {
            return p;
        }
        String how = spec == null ? "" : "; download " + spec.url() + " (or let the Downloader do it) and extract it "
                + "into DIR, then pass --data-dir DIR";
        throw new NoSuchFileException(dataDir.toString(), null, name + " files (" + glob + ") not found in it nor in "
                + p + how);
    }
}
