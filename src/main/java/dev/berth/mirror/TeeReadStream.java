package dev.berth.mirror;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import io.vertx.core.streams.WriteStream;

/**
 * A read stream that also writes every chunk to a side stream (the client waiting for a blob while
 * it is fetched into the store). The source pauses while either its reader or the side cannot take
 * more. When the side goes away ({@link #dropSide()}), the reader alone sets the pace: the fetch
 * into the store goes on.
 */
final class TeeReadStream implements ReadStream<Buffer> {
    private final ReadStream<Buffer> source;
    private final WriteStream<Buffer> side;
    private boolean sideOpen = true;
    private boolean pausedByReader;
    private boolean pausedBySide;
    private Handler<Void> endHandler;

    TeeReadStream(ReadStream<Buffer> source, WriteStream<Buffer> side) {
        this.source = source;
        this.side = side;
    }

    /** The side is gone (the client disconnected): stop writing to it. */
    void dropSide() {
        sideOpen = false;
        if (pausedBySide) {
            pausedBySide = false;
            if (!pausedByReader) {
                source.resume();
            }
        }
    }

    @Override
    public ReadStream<Buffer> handler(Handler<Buffer> handler) {
        if (handler == null) {
            source.handler(null);
            return this;
        }
        source.handler(chunk -> {
            if (sideOpen) {
                side.write(chunk);
                if (side.writeQueueFull() && !pausedBySide) {
                    pausedBySide = true;
                    source.pause();
                    side.drainHandler(v -> {
                        if (pausedBySide) {
                            pausedBySide = false;
                            if (!pausedByReader) {
                                source.resume();
                            }
                        }
                    });
                }
            }
            handler.handle(chunk);
        });
        return this;
    }

    @Override
    public ReadStream<Buffer> endHandler(Handler<Void> handler) {
        this.endHandler = handler;
        source.endHandler(v -> {
            if (sideOpen) {
                side.end();
            }
            if (endHandler != null) {
                endHandler.handle(null);
            }
        });
        return this;
    }

    @Override
    public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
        source.exceptionHandler(handler);
        return this;
    }

    @Override
    public ReadStream<Buffer> pause() {
        pausedByReader = true;
        source.pause();
        return this;
    }

    @Override
    public ReadStream<Buffer> resume() {
        pausedByReader = false;
        if (!pausedBySide) {
            source.resume();
        }
        return this;
    }

    @Override
    public ReadStream<Buffer> fetch(long amount) {
        source.fetch(amount);
        return this;
    }
}
