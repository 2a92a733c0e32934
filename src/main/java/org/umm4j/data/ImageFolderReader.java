package org.umm4j.data;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.imageio.ImageIO;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Locale;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.GZIPInputStream;

/**
 * Reads an image-folder tree {@code root/<class>/*.jpg|*.jpeg|*.png} (the torchvision "ImageFolder"
 * convention), from a directory or streamed from a {@code .tar.gz} without extracting it.
 *
 * <p>Classes are the sub-folder names sorted by {@link String#compareTo} (label = rank); images in a
 * class are taken in file-name order, and with {@link Options#limitPerClass()} only the first
 * {@code limit} names are decoded, so a directory and its tarball give identical datasets whatever the
 * archive's entry order. Images are decoded with {@code javax.imageio}. Without a target size all
 * images must share one size (an error names the first that differs); with one, every image whose
 * size differs is resized bilinearly. 3-channel output is RGB (grey images are replicated); 1-channel
 * output is the grey raster of grey images and {@code round(0.299 R + 0.587 G + 0.114 B)} otherwise.
 *
 * <p>Errors, never silent skips: a missing root, a root without class folders, an empty class folder,
 * a class folder missing from (or not in) a required class list, an image that cannot be decoded;
 * files with other extensions are ignored with a warning log.
 */
public final class ImageFolderReader {
    private static final Logger LOG = LoggerFactory.getLogger(ImageFolderReader.class);

    /**
     * Reading options.
     *
     * @param targetHeight  resize to this height, or 0 to require all images to share one size
     * @param targetWidth   resize to this width, or 0 (both or neither must be set)
     * @param limitPerClass read at most this many images per class (first by file name), 0 = all
     * @param channels      1 (grey) or 3 (RGB)
     */
    public record Options(int targetHeight, int targetWidth, int limitPerClass, int channels) {
        /** all images, native size, RGB */
        public static final Options DEFAULT = new Options(0, 0, 0, 3);

        /** Validates; errors name the field. */
        public Options {
            if (targetHeight < 0 || targetWidth < 0 || (targetHeight == 0) != (targetWidth == 0)) {
                throw new IllegalArgumentException("targetHeight and targetWidth must both be 0 (keep size) or both "
                        + "positive, got " + targetHeight + "x" + targetWidth);
            }
            if (limitPerClass < 0) {
                throw new IllegalArgumentException("limitPerClass must be >= 0 (0 = all), got " + limitPerClass);
            }
            if (channels != 1 && channels != 3) {
                throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
            }
        }

        /** @return a copy with images resized to {@code height x width} */
        public Options withTargetSize(int height, int width) {
            return new Options(height, width, limitPerClass, channels);
        }

        /** @return a copy reading at most {@code limit} images per class */
        public Options withLimitPerClass(int limit) {
            return new Options(targetHeight, targetWidth, limit, channels);
        }

        /** @return a copy producing {@code channels} channels */
        public Options withChannels(int channels) {
            return new Options(targetHeight, targetWidth, limitPerClass, channels);
        }
    }

    private ImageFolderReader() {
    }

    /** @return true when the file name ends in .jpg, .jpeg or .png (any case) */
    public static boolean isImageName(String fileName) {
        String n = fileName.toLowerCase(Locale.ROOT);
        return n.endsWith(".jpg") || n.endsWith(".jpeg") || n.endsWith(".png");
    }

    /**
     * Reads {@code root/<class>/<image>}.
     *
     * @param root    the tree root
     * @param options size, limit and channel options
     * @param name    dataset name
     * @return the images with labels = rank of the class folder name
     * @throws IOException on a missing root, no class folder, an empty class folder or an undecodable image
     */
    public static ImageDataset readDirectory(Path root, Options options, String name) throws IOException {
        return readDirectory(root, options, name, null);
    }

    /**
     * As {@link #readDirectory(Path, Options, String)}, but the class folders must be exactly
     * {@code expectedClasses} (e.g. a test split must have the training split's classes, or its labels
     * would shift): a missing or an extra class folder is an error naming it.
     *
     * @param expectedClasses the required class folder names, or null for no requirement
     */
    public static ImageDataset readDirectory(Path root, Options options, String name, List<String> expectedClasses)
            throws IOException {
        DataFiles.requireDirectory(root, "image-folder root");
        List<Path> classDirs = new ArrayList<>();
        try (var ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) {
                if (Files.isDirectory(p)) {
                    classDirs.add(p);
                } else {
                    LOG.warn("{}: ignoring {} (not a class folder)", root, p.getFileName());
                }
            }
        }
        if (classDirs.isEmpty()) {
            throw new DatasetFormatException(root, "no class folders, expected root/<class>/*.jpg|*.jpeg|*.png");
        }
        classDirs.sort((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
        checkClasses(root.toString(), classDirs.stream().map(p -> p.getFileName().toString()).toList(), expectedClasses);
        Map<String, TreeMap<String, Encoded>> byClass = new TreeMap<>();
        for (Path dir : classDirs) {
            TreeMap<String, Encoded> files = new TreeMap<>();
            byClass.put(dir.getFileName().toString(), files);
            List<Path> images = new ArrayList<>();
            try (var ds = Files.newDirectoryStream(dir)) {
                for (Path p : ds) {
                    if (Files.isRegularFile(p) && isImageName(p.getFileName().toString())) {
                        images.add(p);
                    } else {
                        LOG.warn("{}: ignoring {} (not a .jpg/.jpeg/.png file)", dir, p.getFileName());
                    }
                }
            }
            if (images.isEmpty()) {
                throw new DatasetFormatException(dir, "class folder holds no .jpg/.jpeg/.png image");
            }
            images.sort((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
            int take = options.limitPerClass() > 0 ? Math.min(options.limitPerClass(), images.size()) : images.size();
            for (Path p : images.subList(0, take)) {
                files.put(p.getFileName().toString(), new Encoded(p.toString(), Files.readAllBytes(p)));
            }
        }
        return decodeAll(byClass, options, name);
    }

    /**
     * Streams {@code <prefix><class>/<image>} entries out of a gzip-compressed tar archive, keeping at
     * most {@code limitPerClass} encoded images per class in memory (the first by name).
     *
     * @param archive the .tar.gz
     * @param prefix  folder of the tree inside the archive, e.g. {@code "train/"}; {@code ""} for the top
     * @param options size, limit and channel options
     * @param name    dataset name
     * @return the images
     * @throws IOException on a corrupt archive, a tree without classes, an empty class folder or an
     *                     undecodable image (the message names the archive entry)
     */
    public static ImageDataset readTarGz(Path archive, String prefix, Options options, String name) throws IOException {
        return readTarGz(archive, prefix, options, name, null);
    }

    /**
     * As {@link #readTarGz(Path, String, Options, String)}, with the class folders required to be exactly
     * {@code expectedClasses} (null: no requirement).
     */
    public static ImageDataset readTarGz(Path archive, String prefix, Options options, String name,
                                         List<String> expectedClasses) throws IOException {
        String pre = prefix.isEmpty() || prefix.endsWith("/") ? prefix : prefix + "/";
        DataFiles.sizeOf(archive);
        Map<String, TreeMap<String, Encoded>> byClass = new TreeMap<>();
        TreeSet<String> classFolders = new TreeSet<>();
        int limit = options.limitPerClass();
        try (InputStream fin = Files.newInputStream(archive);
             // the JDK's GZIPInputStream measured about 2x faster than commons-compress's here
             TarArchiveInputStream tar = new TarArchiveInputStream(
                     new BufferedInputStream(new GZIPInputStream(fin, 1 << 16), 1 << 16))) {
            TarArchiveEntry e;
            while ((e = tar.getNextTarEntry()) != null) {
                String path = e.getName();
                if (path.startsWith("./")) {
                    path = path.substring(2);
                }
                if (!path.startsWith(pre)) {
                    continue; // outside the requested tree (e.g. test/ when reading train/)
                }
                String rel = path.substring(pre.length());
                if (e.isDirectory()) {
                    String r = rel.endsWith("/") ? rel.substring(0, rel.length() - 1) : rel;
                    if (!r.isEmpty() && !r.contains("/")) {
                        classFolders.add(r);
                    }
                    continue;
                }
                int slash = rel.indexOf('/');
                if (slash <= 0 || rel.indexOf('/', slash + 1) >= 0 || !e.isFile() || !isImageName(rel)) {
                    LOG.warn("{}: ignoring entry {} (not <class>/<image>.jpg|.jpeg|.png)", archive, path);
                    continue;
                }
                String cls = rel.substring(0, slash);
                String file = rel.substring(slash + 1);
                classFolders.add(cls);
                TreeMap<String, Encoded> files = byClass.computeIfAbsent(cls, k -> new TreeMap<>());
                if (limit > 0 && files.size() >= limit && file.compareTo(files.lastKey()) > 0) {
                    continue; // beyond the first `limit` names of this class: not decoded, by request
                }
                files.put(file, new Encoded(archive + "!" + path, tar.readAllBytes()));
                if (limit > 0 && files.size() > limit) {
                    files.pollLastEntry();
                }
            }
        } catch (IOException ex) {
            if (ex instanceof DatasetFormatException) {
                throw ex;
            }
            throw new DatasetFormatException(archive.toString(), "cannot read tar.gz archive: " + ex.getMessage(), ex);
        }
        for (String cls : classFolders) {
            if (!byClass.containsKey(cls)) {
                throw new DatasetFormatException(archive + "!" + pre + cls + "/",
                        "class folder holds no .jpg/.jpeg/.png image");
            }
        }
        if (byClass.isEmpty()) {
            throw new DatasetFormatException(archive.toString(), "no class folders under '" + pre
                    + "', expected " + pre + "<class>/*.jpg|*.jpeg|*.png");
        }
        checkClasses(archive + "!" + pre, List.copyOf(classFolders), expectedClasses);
        return decodeAll(byClass, options, name);
    }

    /** @return the class folder names of a directory tree, sorted (no image is read) */
    public static List<String> listClasses(Path root) throws IOException {
        DataFiles.requireDirectory(root, "image-folder root");
        List<String> out = new ArrayList<>();
        try (var ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) {
                if (Files.isDirectory(p)) {
                    out.add(p.getFileName().toString());
                }
            }
        }
        out.sort(null);
        return out;
    }

    /** @return the class folder names under {@code prefix} of a .tar.gz, sorted (headers only are read) */
    public static List<String> listTarGzClasses(Path archive, String prefix) throws IOException {
        String pre = prefix.isEmpty() || prefix.endsWith("/") ? prefix : prefix + "/";
        TreeSet<String> out = new TreeSet<>();
        try (InputStream fin = Files.newInputStream(archive);
             TarArchiveInputStream tar = new TarArchiveInputStream(
                     new BufferedInputStream(new GZIPInputStream(fin, 1 << 16), 1 << 16))) {
            TarArchiveEntry e;
            while ((e = tar.getNextTarEntry()) != null) {
                String path = e.getName().startsWith("./") ? e.getName().substring(2) : e.getName();
                if (path.startsWith(pre)) {
                    String rel = path.substring(pre.length());
                    int slash = rel.indexOf('/');
                    if (slash > 0) {
                        out.add(rel.substring(0, slash));
                    } else if (e.isDirectory() && !rel.isEmpty()) {
                        out.add(rel);
                    }
                }
            }
        } catch (IOException ex) {
            throw new DatasetFormatException(archive.toString(), "cannot read tar.gz archive: " + ex.getMessage(), ex);
        }
        return List.copyOf(out);
    }

    private static void checkClasses(String where, List<String> found, List<String> expected)
            throws DatasetFormatException {
        if (expected == null) {
            return;
        }
        for (String c : expected) {
            if (!found.contains(c)) {
                throw new DatasetFormatException(where + (where.endsWith("/") ? "" : "/") + c,
                        "class folder is missing; expected the classes " + expected);
            }
        }
        for (String c : found) {
            if (!expected.contains(c)) {
                throw new DatasetFormatException(where + (where.endsWith("/") ? "" : "/") + c,
                        "unexpected class folder; expected exactly the classes " + expected);
            }
        }
    }

    /** An encoded image and where it came from (for error messages). */
    private record Encoded(String source, byte[] bytes) {
    }

    private static ImageDataset decodeAll(Map<String, TreeMap<String, Encoded>> byClass, Options options, String name)
            throws IOException {
        List<String> classNames = new ArrayList<>(byClass.keySet()); // TreeMap: sorted by name
        int total = byClass.values().stream().mapToInt(Map::size).sum();
        int c = options.channels();
        int h = options.targetHeight();
        int w = options.targetWidth();
        String sizeSource = null;
        byte[] pixels = null;
        int[] labels = new int[total];
        int n = 0;
        for (int label = 0; label < classNames.size(); label++) {
            for (Encoded enc : byClass.get(classNames.get(label)).values()) {
                BufferedImage img = decode(enc);
                if (h == 0) {
                    h = img.getHeight();
                    w = img.getWidth();
                    sizeSource = enc.source();
                } else if (img.getHeight() != h || img.getWidth() != w) {
                    if (options.targetHeight() == 0) {
                        throw new DatasetFormatException(enc.source(), "image is " + img.getWidth() + "x"
                                + img.getHeight() + " (WxH) but " + sizeSource + " is " + w + "x" + h
                                + "; all images must share one size unless a target size is given");
                    }
                    img = resize(img, h, w);
                }
                if (pixels == null) {
                    long bytes = (long) total * c * h * w;
                    if (bytes > Integer.MAX_VALUE - 16) {
                        throw new IllegalArgumentException(name + ": " + total + " images of " + c + "x" + h + "x" + w
                                + " do not fit one byte array; use limitPerClass or a smaller target size");
                    }
                    pixels = new byte[(int) bytes];
                }
                toChw(img, c, pixels, n * c * h * w);
                labels[n++] = label;
            }
        }
        return new InMemoryImageDataset(name, c, h, w, pixels, labels, classNames);
    }

    private static BufferedImage decode(Encoded enc) throws IOException {
        BufferedImage img;
        try {
            img = ImageIO.read(new ByteArrayInputStream(enc.bytes()));
        } catch (IOException | RuntimeException e) {
            throw new DatasetFormatException(enc.source(), "unreadable image: " + e.getMessage(), e);
        }
        if (img == null) {
            throw new DatasetFormatException(enc.source(), "unreadable image: no ImageIO decoder accepts its "
                    + enc.bytes().length + " bytes (corrupt or not a JPEG/PNG)");
        }
        return img;
    }

    private static BufferedImage resize(BufferedImage src, int h, int w) {
        BufferedImage dst = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = dst.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(src, 0, 0, w, h, null);
        } finally {
            g.dispose();
        }
        return dst;
    }

    /** Writes {@code img} as CHW uint8 into {@code dst} at {@code off}. */
    static void toChw(BufferedImage img, int channels, byte[] dst, int off) {
        int h = img.getHeight();
        int w = img.getWidth();
        int plane = h * w;
        boolean grey = img.getType() == BufferedImage.TYPE_BYTE_GRAY;
        if (grey) {
            // read the raster directly: getRGB would pass grey through a colour-space conversion
            var raster = img.getRaster();
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    byte v = (byte) raster.getSample(x, y, 0);
                    for (int ch = 0; ch < channels; ch++) {
                        dst[off + ch * plane + y * w + x] = v;
                    }
                }
            }
            return;
        }
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            img.getRGB(0, y, w, 1, row, 0, w);
            for (int x = 0; x < w; x++) {
                int p = row[x];
                int r = (p >>> 16) & 0xFF;
                int g = (p >>> 8) & 0xFF;
                int b = p & 0xFF;
                int i = off + y * w + x;
                if (channels == 3) {
                    dst[i] = (byte) r;
                    dst[i + plane] = (byte) g;
                    dst[i + 2 * plane] = (byte) b;
                } else {
                    dst[i] = (byte) Math.round(0.299 * r + 0.587 * g + 0.114 * b);
                }
            }
        }
    }
}
