package dev.berth.registry.store;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads a blob in chunks on the worker pool, for drivers without a local file to send. The caller
 * asks for the next chunk only after the previous one was written, which is the backpressure.
 */
public final class BlobReader {
    private static final int CHUNK = 1 << 16;

    private final InputStream in;
    private final WorkerPool pool;
    private long remaining;

    BlobReader(InputStream in, WorkerPool pool, long length) {
        this.in = in;
        this.pool = pool;
        this.remaining = length;
    }

    /** The next chunk; an empty buffer at the end of the requested length. */
    public Future<Buffer> next() {
        if (remaining == 0) {
            return Future.succeededFuture(Buffer.buffer());
        }
        return pool.call(() -> {
            byte[] chunk = new byte[(int) Math.min(CHUNK, remaining)];
            int n = in.readNBytes(chunk, 0, chunk.length);
            if (n == 0) {
                throw new IOException("blob ended " + remaining + " bytes early");
            }
            remaining -= n;
            return Buffer.buffer(n == chunk.length ? chunk : java.util.Arrays.copyOf(chunk, n));
        });
    }

    public Future<Void> close() {
        return pool.call(() -> {
            in.close();
            return null;
        });
    }
}
