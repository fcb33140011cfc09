package dev.berth.registry.store;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.util.concurrent.Callable;
import java.util.concurrent.RejectedExecutionException;

/**
 * Where blocking storage work runs: a named Vert.x worker pool, unordered, so that one slow call
 * never queues others behind it. Futures complete on the caller's context.
 */
public final class WorkerPool implements AutoCloseable {
    private final WorkerExecutor executor;

    public WorkerPool(Vertx vertx, String name, int size) {
        this.executor = vertx.createSharedWorkerExecutor(name, size);
    }

    /** Runs {@code work} on the pool; a pool that is shutting down gives a failed future, never a throw. */
    public <T> Future<T> call(Callable<T> work) {
        try {
            return executor.executeBlocking(work, false);
        } catch (RejectedExecutionException e) {
            return Future.failedFuture(e);
        }
    }

    @Override
    public void close() {
        executor.close();
    }
}
