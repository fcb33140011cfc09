package dev.berth.storage;

import java.io.IOException;

/**
 * The backing store did not answer, or answered that it is overloaded or failing (timeouts,
 * connection errors, throttling, 5xx), after the driver's own retries. The operation did not
 * happen as far as the caller can tell; trying again later may succeed.
 */
public final class StorageUnavailableException extends IOException {
    public StorageUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
