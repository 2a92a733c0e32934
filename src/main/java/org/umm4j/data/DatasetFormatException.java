package org.umm4j.data;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A dataset file (or archive entry) exists but its content is not what the format requires:
 * a truncated file, a length that is not a multiple of the record size, a bad magic number, a label
 * out of range, an image that cannot be decoded, a missing or empty class folder.
 *
 * <p>The message always names the file (or archive entry) and says what was expected, so the user
 * can fix the data; readers never skip bad records silently.
 */
public class DatasetFormatException extends IOException {
    private final String source;

    /**
     * @param source  the file or archive entry that is wrong
     * @param problem what is wrong and what was expected
     */
    public DatasetFormatException(String source, String problem) {
        super(source + ": " + problem);
        this.source = source;
    }

    /**
     * @param file    the file that is wrong
     * @param problem what is wrong and what was expected
     */
    public DatasetFormatException(Path file, String problem) {
        this(String.valueOf(file), problem);
    }

    /**
     * @param source  the file or archive entry that is wrong
     * @param problem what is wrong
     * @param cause   the underlying error
     */
    public DatasetFormatException(String source, String problem, Throwable cause) {
        super(source + ": " + problem, cause);
        this.source = source;
    }

    /** @return the file or archive entry the problem was found in */
    public String source() {
        return source;
    }
}
