package dev.berth.registry.store;

import dev.berth.registry.RepositoryName;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Serialises changes to one repository's metadata (links, revisions, tags, referrers) within this
 * process, so that a delete and a push of the same manifest, tag or blob cannot interleave into a
 * tag that points at nothing or a write into a directory being removed. Striped: repositories share
 * a fixed set of locks. Only worker threads take them, never an event loop; a holder never takes a
 * second one, so there is no lock ordering to get wrong.
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

    <T> T withLock(RepositoryName repo, Locked<T> work) throws Exception {
        ReentrantLock lock = stripes[Math.floorMod(repo.hashCode(), STRIPES)];
        lock.lock();
        try {
            return work.run();
        } finally {
            lock.unlock();
        }
    }
}
