package dev.berth.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Appends content to one key. Content is guaranteed visible at the key only after {@link #commit()}
 * (a driver may show it earlier, e.g. the filesystem). A writer that is closed without commit or
 * cancel leaves its content in place so that a later {@code writer(key, true)} continues it: that
 * is how an upload survives a restart.
 */
public interface StorageWriter extends Closeable {

    /** Appends all remaining bytes of {@code src}. Fails after commit, cancel or close. */
    void write(ByteBuffer src) throws IOException;

    /** Appends all remaining bytes of each buffer in order; drivers may do it in one call. */
    default void write(ByteBuffer[] srcs) throws IOException {
        for (ByteBuffer src : srcs) {
            write(src);
        }
    }

    /** Bytes at the key so far, including those written by earlier writers that this one continues. */
    long size();

    /**
     * Makes the content durable (flushed to stable storage when the driver is configured to) and
     * visible at the key. Further writes fail. Committing twice is an error.
     */
    void commit() throws IOException;

    /** Discards the content written at the key. Safe to call twice and after close. */
    void cancel() throws IOException;

    /** Releases resources; uncommitted content stays for a later continuation. Idempotent. */
    @Override
    void close() throws IOException;
}
