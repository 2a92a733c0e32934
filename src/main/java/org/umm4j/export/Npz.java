package org.umm4j.export;

import org.umm4j.io.AtomicFiles;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * NumPy {@code .npz} archives: a zip file with one {@code NAME.npy} entry ({@link NpyArray}) per array, as written
 * by {@code numpy.savez} and read by {@code numpy.load}.
 *
 * <p>{@link #write} stores the entries uncompressed ({@code ZIP_STORED}, like {@code numpy.savez}; float weights
 * barely compress), in the map's iteration order, and replaces the target atomically through
 * {@link AtomicFiles}: a reader sees the old file or the complete new one. {@link #read} also accepts deflated
 * entries ({@code numpy.savez_compressed}). Errors name the file: a missing file is a
 * {@link NoSuchFileException}, anything that is not a complete zip of {@code .npy} entries (a truncated
 * download, a DL4J model zip, a text file) an {@link NpzFormatException}.
 */
public final class Npz {
    private static final String SUFFIX = ".npy";

    private Npz() {
    }

    /**
     * Writes {@code arrays} to {@code file} atomically.
     *
     * @param arrays name -> array; names must be non-empty and may contain dots (e.g. {@code layer1.0.conv1.weight})
     * @throws java.io.UncheckedIOException naming the file when it cannot be written
     */
    public static void write(Path file, Map<String, NpyArray> arrays) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(arrays, "arrays");
        arrays.forEach((k, v) -> {
            if (k == null || k.isEmpty() || k.contains("/") || k.contains("\\")) {
                throw new IllegalArgumentException("array name must be non-empty and contain no path separator, got '"
                        + k + "'");
            }
            Objects.requireNonNull(v, "array '" + k + "'");
        });
        AtomicFiles.write(file, out -> writeTo(out, arrays));
    }

    private static void writeTo(OutputStream raw, Map<String, NpyArray> arrays) throws IOException {
        ZipOutputStream zip = new ZipOutputStream(new BufferedOutputStream(raw, 1 << 16));
        for (Map.Entry<String, NpyArray> e : arrays.entrySet()) {
            byte[] bytes = e.getValue().toNpy();
            CRC32 crc = new CRC32();
            crc.update(bytes);
            ZipEntry ze = new ZipEntry(e.getKey() + SUFFIX);
            ze.setMethod(ZipEntry.STORED);
            ze.setSize(bytes.length);
            ze.setCompressedSize(bytes.length);
            ze.setCrc(crc.getValue());
            // a fixed timestamp keeps exports of the same weights byte-identical
            ze.setTime(315532800000L + 86400000L);
            zip.putNextEntry(ze);
            zip.write(bytes);
            zip.closeEntry();
        }
        zip.finish();
        zip.flush();
    }

    /**
     * Reads every array of an archive.
     *
     * @return entry name without {@code .npy} -> array, in the archive's order
     * @throws NoSuchFileException if {@code file} does not exist
     * @throws NpzFormatException  if it is not a complete {@code .npz} (not a zip, truncated, an entry that is not a
     *                             {@code .npy} array or fails its CRC)
     */
    public static Map<String, NpyArray> read(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "no .npz file");
        }
        Map<String, NpyArray> out = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            Enumeration<? extends ZipEntry> en = zip.entries();
            while (en.hasMoreElements()) {
                ZipEntry ze = en.nextElement();
                if (ze.isDirectory()) {
                    continue;
                }
                String name = ze.getName();
                if (!name.endsWith(SUFFIX)) {
                    throw new NpzFormatException(file + " is not a .npz archive: entry '" + name + "' is not a .npy array");
                }
                byte[] bytes;
                try (InputStream in = zip.getInputStream(ze)) {
                    bytes = in.readAllBytes();
                } catch (ZipException e) {
                    throw new NpzFormatException(file + ": entry '" + name + "' is corrupt or truncated: " + e.getMessage(), e);
                }
                if (ze.getSize() >= 0 && bytes.length != ze.getSize()) {
                    throw new NpzFormatException(file + ": entry '" + name + "' is truncated (" + bytes.length + " of "
                            + ze.getSize() + " bytes)");
                }
                // ZipFile does not check the CRC of stored entries; a flipped byte would go unnoticed otherwise
                CRC32 crc = new CRC32();
                crc.update(bytes);
                if (ze.getCrc() != -1 && crc.getValue() != ze.getCrc()) {
                    throw new NpzFormatException(file + ": entry '" + name + "' fails its CRC check (corrupt file)");
                }
                out.put(name.substring(0, name.length() - SUFFIX.length()),
                        NpyArray.parse(bytes, file.getFileName() + ":" + name));
            }
        } catch (ZipException e) {
            throw new NpzFormatException(file + " is not a readable .npz (zip) archive, possibly truncated: "
                    + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new NpzFormatException(file + " is an empty archive: no .npy arrays");
        }
        return out;
    }
}
