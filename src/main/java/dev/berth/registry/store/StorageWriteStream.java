package dev.berth.registry.store;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.streams.WriteStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link WriteStream} that hands buffers, in order and one batch at a time, to a blocking
 * {@link Sink} on the worker pool, with backpressure: the queue holds at most about
 * {@code maxQueuedBytes}, so a fast client never makes the server buffer a whole layer. All methods
 * are called on one event-loop context (as a pipe does) and completions come back on it, so the
 * state below needs no locks.
 */
final class StorageWriteStream implements WriteStream<Buffer> {

    /** Receives a batch of buffers, in order, on a worker thread. */
    @FunctionalInterface
    interface Sink {
        void accept(ByteBuffer[] batch) throws IOException;
    }

    private record Item(Buffer buffer, Promise<Void> promise) {
    }

    private final WorkerPool pool;
    private final Sink sink;
    private final ArrayDeque<Item> queue = new ArrayDeque<>();
    private long maxQueuedBytes;
    private long queuedBytes;
    private boolean running;
    private boolean ended;
    private Throwable failure;
    private Promise<Void> endPromise;
    private Handler<Void> drainHandler;
    private Handler<Throwable> exceptionHandler;

    StorageWriteStream(WorkerPool pool, Sink sink, long maxQueuedBytes) {
        this.pool = pool;
        this.sink = sink;
        this.maxQueuedBytes = maxQueuedBytes;
    }

    @Override
    public WriteStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
        this.exceptionHandler = handler;
        return this;
    }

    @Override
    public Future<Void> write(Buffer data) {
        if (failure != null) {
            return Future.failedFuture(failure);
        }
        if (ended) {
            return Future.failedFuture(new IllegalStateException("stream ended"));
        }
        Promise<Void> promise = Promise.promise();
        queue.add(new Item(data, promise));
        queuedBytes += data.length();
        schedule();
        return promise.future();
    }

    private void schedule() {
        if (running || queue.isEmpty() || failure != null) {
            return;
        }
        running = true;
        List<Item> batch = new ArrayList<>(queue);
        queue.clear();
        long batchBytes = 0;
        for (Item item : batch) {
            batchBytes += item.buffer.length();
        }
        long done = batchBytes;
        pool.<Void>call(() -> {
            ByteBuffer[] buffers = new ByteBuffer[batch.size()];
            for (int i = 0; i < buffers.length; i++) {
                buffers[i] = ((BufferInternal) batch.get(i).buffer).getByteBuf().nioBuffer();
            }
            sink.accept(buffers);
            return null;
        }).onComplete(ar -> {
            running = false;
            boolean wasFull = writeQueueFull();
            queuedBytes -= done;
            if (ar.succeeded()) {
                batch.forEach(i -> i.promise.complete());
            } else {
                fail(ar.cause(), batch);
                return;
            }
            if (wasFull && !writeQueueFull() && drainHandler != null) {
                drainHandler.handle(null);
            }
            schedule();
            finishIfEnded();
        });
    }

    private void fail(Throwable cause, List<Item> batch) {
        failure = cause;
        batch.forEach(i -> i.promise.tryFail(cause));
        queue.forEach(i -> i.promise.tryFail(cause));
        queue.clear();
        queuedBytes = 0;
        if (exceptionHandler != null) {
            exceptionHandler.handle(cause);
        }
        if (endPromise != null) {
            endPromise.tryFail(cause);
        }
    }

    private void finishIfEnded() {
        if (ended && !running && queue.isEmpty() && endPromise != null) {
            if (failure != null) {
                endPromise.tryFail(failure);
            } else {
                endPromise.tryComplete();
            }
        }
    }

    @Override
    public Future<Void> end() {
        if (endPromise == null) {
            ended = true;
            endPromise = Promise.promise();
            finishIfEnded();
        }
        return endPromise.future();
    }

    @Override
    public WriteStream<Buffer> setWriteQueueMaxSize(int maxSize) {
        this.maxQueuedBytes = maxSize;
        return this;
    }

    @Override
    public boolean writeQueueFull() {
        return queuedBytes >= maxQueuedBytes;
    }

    @Override
    public WriteStream<Buffer> drainHandler(Handler<Void> handler) {
        this.drainHandler = handler;
        return this;
    }
}
