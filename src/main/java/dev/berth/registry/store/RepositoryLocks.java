package dev.berth.registry.store;

import java.util.concurrent.locks.ReentrantLock;

/**
 * Serialises changes within this process. Two sets exist: one keyed by repository, so that a delete
 * and a push of the same manifest, tag or blob cannot interleave into a tag that points at nothing or
 * a write into a directory being removed; and one keyed by digest (content), so that bytes cannot be
 * deleted between a check that nothing links them and a push or mount that links them. Striped: keys
 * share a fixed set of locks. Only worker threads take them, never an event loop. The one order:
 * a content lock may be held while a repository lock is taken, never the reverse, and no holder
 * takes a second lock of the same set.
 */
final class RepositoryLocks {
    private static final int STRIPES = 64;
    private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];

    RepositoryLocks() {
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new ReentrantLock();
        }
    }

    /** Work done while holding the repository's lock. */
    @FunctionalInterface
    interface Locked<T> {
        T run() throws Exception;
    }

    <T> T withLock(Object key, Locked<T> work) throws Exception {
        ReentrantLock lock = stripes[Math.floorMod(key.hashCode(), STRIPES)];
        lock.lock();
        try {
            return work.run();
        } finally {
            lock.unlock();
        }
    }
}
