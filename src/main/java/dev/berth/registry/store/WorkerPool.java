package dev.berth.registry.store;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.util.concurrent.Callable;

/**
 * Where blocking storage work runs: a named Vert.x worker pool, unordered, so that one slow call
 * never queues others behind it. Futures complete on the caller's context.
 */
public final class WorkerPool implements AutoCloseable {
    private final WorkerExecutor executor;

    public WorkerPool(Vertx vertx, String name, int size) {
        this.executor = vertx.createSharedWorkerExecutor(name, size);
    }

    /** Runs {@code work} on the pool. */
    public <T> Future<T> call(Callable<T> work) {
        return executor.executeBlocking(work, false);
    }

    @Override
    public void close() {
        executor.close();
    }
}
