package org.umm4j.data;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/** Writers of tiny dataset files for the unit tests (independent of the readers under test). */
final class TestFiles {
    private TestFiles() {
    }

    /** Pixel value of record {@code r}, byte {@code j} of the 3072 pixel bytes: a pattern that varies with both. */
    static int pixel(int r, int j) {
        return (r * 31 + j * 7) & 0xFF;
    }

    /** Writes CIFAR records: {@code labelBytes} label bytes per record (given), then the pixel pattern. */
    static void writeCifar(Path file, int[][] labelBytes, int firstRecord) throws IOException {
        int lb = labelBytes[0].length;
        byte[] out = new byte[labelBytes.length * (lb + 3072)];
        for (int r = 0; r < labelBytes.length; r++) {
            int o = r * (lb + 3072);
            for (int b = 0; b < lb; b++) {
                out[o + b] = (byte) labelBytes[r][b];
            }
            for (int j = 0; j < 3072; j++) {
                out[o + lb + j] = (byte) pixel(firstRecord + r, j);
            }
        }
        Files.write(file, out);
    }

    static byte[] pngBytes(BufferedImage img) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        if (!ImageIO.write(img, "png", bos)) {
            throw new IOException("no PNG writer");
        }
        return bos.toByteArray();
    }

    /** An RGB image whose pixel (x, y) is (seed + x, seed + 2y, seed + x + y) mod 256. */
    static BufferedImage patternImage(int w, int h, int seed) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int r = (seed + x) & 0xFF;
                int g = (seed + 2 * y) & 0xFF;
                int b = (seed + x + y) & 0xFF;
                img.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return img;
    }

    /** Writes a .tar.gz holding the given entries (name -> bytes; a name ending in '/' is a directory). */
    static void writeTarGz(Path file, Map<String, byte[]> entries) throws IOException {
        try (OutputStream fo = Files.newOutputStream(file);
             TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(fo))) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (var e : entries.entrySet()) {
                TarArchiveEntry te = new TarArchiveEntry(e.getKey());
                if (!e.getKey().endsWith("/")) {
                    te.setSize(e.getValue().length);
                }
                tar.putArchiveEntry(te);
                if (!e.getKey().endsWith("/")) {
                    tar.write(e.getValue());
                }
                tar.closeArchiveEntry();
            }
        }
    }

    /** Packs a directory tree (relative names under {@code prefix}) in the given entry order. */
    static Map<String, byte[]> treeEntries(Path root, String prefix) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (var s = Files.walk(root)) {
            for (Path p : s.toList()) {
                String rel = root.relativize(p).toString().replace('\\', '/');
                if (Files.isDirectory(p)) {
                    if (!rel.isEmpty()) {
                        out.put(prefix + rel + "/", new byte[0]);
                    }
                } else {
                    out.put(prefix + rel, Files.readAllBytes(p));
                }
            }
        }
        return out;
    }
}
