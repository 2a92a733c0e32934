package org.umm4j.data.augment;

/**
 * Thrown to the consumer of a {@link MultiViewBatchIterator} when producing a batch failed on a worker thread
 * (the cause is the worker's exception) or the consumer was interrupted while waiting.
 */
public class AugmentationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what failed (batch, sample, view) @param cause the underlying failure */
    public AugmentationException(String message, Throwable cause) {
        super(message, cause);
    }
}
