package org.umm4j.export;

import java.io.IOException;

/** A file that is not a readable {@code .npz} archive or {@code .npy} array; the message names the file and entry. */
public final class NpzFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public NpzFormatException(String message) {
        super(message);
    }

    public NpzFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
