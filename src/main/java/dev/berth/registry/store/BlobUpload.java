package dev.berth.registry.store;

import dev.berth.registry.RepositoryName;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One upload session. Its data lives at {@link StorageLayout#uploadData}; this object carries the
 * running sha256 state and the size so far. One request at a time may work on a session
 * ({@link #tryLock()}); the hashing state is only touched by the lock holder, whose worker calls
 * happen one after the other (the write stream hands batches over in order).
 *
 * <p>A session that was completed, cancelled or purged is marked removed; a request that obtained
 * the object earlier must check {@link #isRemoved()} after locking and treat the upload as unknown.
 */
public final class BlobUpload {
    private final RepositoryName repository;
    private final UploadId id;
    private final Instant startedAt;
    private final AtomicBoolean locked = new AtomicBoolean();
    private volatile boolean removed;
    private final MessageDigest sha256;
    private volatile long size;
    /** False when the running sha256 does not cover the stored data (see {@link UploadStore}). */
    private volatile boolean hashCurrent = true;
    /** True when the size in memory may differ from the stored data (a request failed part-way). */
    private volatile boolean needsSync;
    /** True once the data was committed for completion: nothing may be appended any more. */
    private volatile boolean committed;

    BlobUpload(RepositoryName repository, UploadId id, Instant startedAt, MessageDigest sha256, long size) {
        this.repository = repository;
        this.id = id;
        this.startedAt = startedAt;
        this.sha256 = sha256;
        this.size = size;
    }

    public RepositoryName repository() {
        return repository;
    }

    public UploadId id() {
        return id;
    }

    public Instant startedAt() {
        return startedAt;
    }

    /** Bytes received so far. */
    public long size() {
        return size;
    }

    /** Claims the session for one request; false when another request holds it. */
    public boolean tryLock() {
        return locked.compareAndSet(false, true);
    }

    public void unlock() {
        locked.set(false);
    }

    boolean isLocked() {
        return locked.get();
    }

    /** Whether the session has ended (completed, cancelled or purged); it must not be written again. */
    public boolean isRemoved() {
        return removed;
    }

    void markRemoved() {
        removed = true;
    }

    MessageDigest sha256() {
        return sha256;
    }

    void setSize(long size) {
        this.size = size;
    }

    boolean hashCurrent() {
        return hashCurrent;
    }

    void setHashCurrent(boolean current) {
        this.hashCurrent = current;
    }

    boolean needsSync() {
        return needsSync;
    }

    void setNeedsSync(boolean needsSync) {
        this.needsSync = needsSync;
    }

    boolean committed() {
        return committed;
    }

    void setCommitted(boolean committed) {
        this.committed = committed;
    }
}
