package org.umm4j.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** File helpers shared by the readers (package-private: not part of the API). */
final class DataFiles {
    private DataFiles() {
    }

    /** Reads a whole record file, checking that its length is a positive multiple of {@code recordBytes}. */
    static byte[] readRecords(Path file, int recordBytes) throws IOException {
        long len = sizeOf(file);
        if (len == 0) {
            throw new DatasetFormatException(file, "file is empty, expected records of " + recordBytes + " bytes");
        }
        if (len % recordBytes != 0) {
            throw new DatasetFormatException(file, "length " + len + " bytes is not a multiple of the record size "
                    + recordBytes + " (truncated or wrong format?): " + (len / recordBytes) + " whole records and "
                    + (len % recordBytes) + " extra bytes");
        }
        if (len > Integer.MAX_VALUE - 16) {
            throw new DatasetFormatException(file, "file of " + len + " bytes is too large to read into memory");
        }
        return Files.readAllBytes(file);
    }

    static long sizeOf(Path file) throws IOException {
        try {
            return Files.size(file);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "dataset file not found");
        }
    }

    static void requireDirectory(Path dir, String what) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(String.valueOf(dir), null, what + " directory not found");
        }
    }

    /** Regular files of {@code dir} whose name matches the glob, sorted by name. */
    static List<Path> listSorted(Path dir, String glob) throws IOException {
        List<Path> out = new ArrayList<>();
        try (var ds = Files.newDirectoryStream(dir, glob)) {
            for (Path p : ds) {
                if (Files.isRegularFile(p)) {
                    out.add(p);
                }
            }
        }
        out.sort((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
        return out;
    }

    /** Non-blank lines of a UTF-8 text file, trimmed (the CIFAR label-name files end with blank lines). */
    static List<String> readNames(Path file) throws IOException {
        try (Stream<String> lines = Files.lines(file, StandardCharsets.UTF_8)) {
            return lines.map(String::trim).filter(s -> !s.isEmpty()).toList();
        }
    }

    /** {@code "0", "1", ...}: names for label files that ship without a names file. */
    static List<String> numericNames(int n) {
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(Integer.toString(i));
        }
        return out;
    }
}
