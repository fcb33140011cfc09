package dev.berth.registry.store;

import static dev.berth.registry.store.RegistryCaches.readThrough;

import dev.berth.digest.Digest;
import dev.berth.registry.RepositoryName;
import dev.berth.registry.store.RegistryCaches.RepoDigest;
import dev.berth.storage.PathNotFoundException;
import dev.berth.storage.StorageDriver;
import dev.berth.storage.WalkAction;
import io.vertx.core.Future;
import java.io.IOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * Content-addressed blobs and the links that let a repository serve them. A blob's bytes appear at
 * their content address only by an atomic move after their digest was verified, so a visible blob is
 * always complete.
 */
public final class BlobStore {
    private final StorageDriver driver;
    private final WorkerPool pool;
    private final RegistryCaches caches;
    private final RepositoryLocks locks;
    /** Keyed by digest: held from "are these bytes there" to "linked", and over {@link #deleteIfUnlinked}. */
    private final RepositoryLocks contentLocks;
    /** Whether other processes write the same storage (replicas on one bucket): bytes are then never deleted here. */
    private final boolean shared;

    BlobStore(StorageDriver driver, WorkerPool pool, RegistryCaches caches, RepositoryLocks locks,
              RepositoryLocks contentLocks) {
        this(driver, pool, caches, locks, contentLocks, false);
    }

    BlobStore(StorageDriver driver, WorkerPool pool, RegistryCaches caches, RepositoryLocks locks,
              RepositoryLocks contentLocks, boolean shared) {
        this.driver = driver;
        this.pool = pool;
        this.caches = caches;
        this.locks = locks;
        this.contentLocks = contentLocks;
        this.shared = shared;
    }

    /** Blocking: runs {@code work} under the content lock of {@code digest}. */
    <T> T withContentLock(Digest digest, RepositoryLocks.Locked<T> work) throws Exception {
        return contentLocks.withLock(digest, work);
    }

    /** The blob if {@code repo} may serve it (linked and present). */
    public Future<Optional<BlobInfo>> stat(RepositoryName repo, Digest digest) {
        Long size = caches.linkedBlobs.getIfPresent(new RepoDigest(repo, digest));
        if (size != null) {
            return Future.succeededFuture(Optional.of(new BlobInfo(digest, size)));
        }
        return pool.call(() -> statLinked(repo, digest));
    }

    /** Blocking form of {@link #stat}. */
    Optional<BlobInfo> statLinked(RepositoryName repo, Digest digest) throws IOException {
        return readThrough(caches.linkedBlobs, new RepoDigest(repo, digest), k -> {
            // Reading the link rather than a stat: on S3 a stat of a missing key also lists, to tell
            // a directory; a read is one request whether or not the link is there.
            if (LinkFiles.read(driver, StorageLayout.layerLink(repo, digest)) == null) {
                return null;
            }
            return size(digest).orElse(null);
        }).map(size -> new BlobInfo(digest, size));
    }

    /** Blocking: the size of the blob in the blob store, whatever repositories link it. */
    Optional<Long> size(Digest digest) throws IOException {
        return readThrough(caches.blobSizes, digest, d -> {
            try {
                return driver.stat(StorageLayout.blobData(d)).size();
            } catch (PathNotFoundException e) {
                return null;
            }
        });
    }

    /**
     * Makes {@code digest} servable from {@code target} without uploading it: from {@code from} when
     * given and it holds the blob, otherwise from the blob store when any repository pushed it.
     * Empty when there is nothing to mount.
     */
    public Future<Optional<BlobInfo>> mount(RepositoryName target, Digest digest, Optional<RepositoryName> from,
                                            ChangeHook<BlobInfo> mounted) {
        return pool.call(() -> contentLocks.withLock(digest, () -> {
            Optional<Long> size;
            if (from.isPresent()) {
                size = statLinked(from.get(), digest).map(BlobInfo::size);
            } else {
                size = size(digest);
            }
            if (size.isEmpty()) {
                return Optional.empty();
            }
            BlobInfo blob = new BlobInfo(digest, size.get());
            locks.withLock(target, () -> {
                link(target, digest);
                mounted.accept(blob);
                return null;
            });
            return Optional.of(blob);
        }));
    }

    /** Blocking, under the repository's lock: lets {@code repo} serve {@code digest}. */
    private Void link(RepositoryName repo, Digest digest) throws IOException {
        LinkFiles.write(driver, StorageLayout.layerLink(repo, digest), digest);
        caches.linkedBlobs.invalidate(new RepoDigest(repo, digest));
        return null;
    }

    /**
     * Blocking: moves verified content from {@code sourceKey} to the content address of
     * {@code digest} and links it into {@code repo}.
     */
    void commit(String sourceKey, BlobInfo blob, RepositoryName repo, ChangeHook<BlobInfo> pushed) throws Exception {
        contentLocks.withLock(blob.digest(), () -> {
            driver.move(sourceKey, StorageLayout.blobData(blob.digest()));
            caches.blobSizes.invalidate(blob.digest());
            return locks.withLock(repo, () -> {
                link(repo, blob.digest());
                pushed.accept(blob);
                return null;
            });
        });
    }

    /** Blocking: stores small content (a manifest) at its content address. */
    void put(Digest digest, byte[] content) throws IOException {
        driver.putContent(StorageLayout.blobData(digest), content);
        caches.blobSizes.invalidate(digest);
    }

    /** Blocking: the whole content of a blob. */
    byte[] read(Digest digest) throws IOException {
        return driver.getContent(StorageLayout.blobData(digest));
    }

    /**
     * Removes the blob from {@code repo}; false when the repository did not hold it. The bytes stay
     * for GC. {@code deleting} runs (under the lock) before the link goes.
     */
    public Future<Boolean> unlink(RepositoryName repo, Digest digest, ChangeHook<Digest> deleting) {
        return pool.call(() -> locks.withLock(repo, () -> {
            if (LinkFiles.read(driver, StorageLayout.layerLink(repo, digest)) == null) {
                return false;
            }
            deleting.accept(digest);
            try {
                driver.delete(StorageLayout.layer(repo, digest));
            } catch (PathNotFoundException e) {
                // removed by another process meanwhile: the outcome is the same
            } finally {
                caches.linkedBlobs.invalidate(new RepoDigest(repo, digest));
            }
            return true;
        }));
    }

    /**
     * Deletes the bytes of {@code digest} when no repository links them, as a blob or as a manifest;
     * returns whether it did. The look at every repository and the delete happen under the digest's
     * content lock, which pushes, mounts and manifest puts hold from their "is it there" to their
     * link, so nothing can link the bytes in between. It reads one link per repository: a task for
     * background work (mirror eviction), not for requests. Only other processes writing the same
     * storage could slip in between, so on shared storage it deletes nothing (and answers false).
     */
    public Future<Boolean> deleteIfUnlinked(Digest digest) {
        if (shared) {
            return Future.succeededFuture(false);
        }
        return pool.call(() -> contentLocks.withLock(digest, () -> {
            if (size(digest).isEmpty() || linkedAnywhere(digest)) {
                return false;
            }
            try {
                driver.delete(StorageLayout.blob(digest));
            } catch (PathNotFoundException e) {
                return false;
            } finally {
                caches.blobSizes.invalidate(digest);
            }
            return true;
        }));
    }

    /** Blocking: whether any repository links {@code digest} as a blob or a manifest revision. */
    private boolean linkedAnywhere(Digest digest) throws IOException {
        boolean[] linked = {false};
        try {
            driver.walk(StorageLayout.REPOSITORIES, entry -> {
                if (!entry.isDirectory()) {
                    return WalkAction.CONTINUE;
                }
                String dir = entry.key().substring(entry.key().lastIndexOf('/') + 1);
                if (!dir.startsWith("_")) {
                    return WalkAction.CONTINUE;
                }
                Optional<RepositoryName> repo = StorageLayout.repositoryOf(entry.key());
                String link = repo.isEmpty() ? null : switch (dir) {
                    case StorageLayout.LAYERS_DIR -> StorageLayout.layerLink(repo.get(), digest);
                    case StorageLayout.MANIFESTS_DIR -> StorageLayout.revisionLink(repo.get(), digest);
                    default -> null;
                };
                if (link != null && LinkFiles.read(driver, link) != null) {
                    linked[0] = true;
                    return WalkAction.STOP;
                }
                return WalkAction.SKIP_DIRECTORY;
            });
        } catch (PathNotFoundException e) {
            return false;
        }
        return linked[0];
    }

    /** Whether blobs live in local files that can be sent with zero copy ({@link #openLocal}). */
    public boolean hasLocalFiles(Digest digest) {
        return driver.localFile(StorageLayout.blobData(digest)).isPresent();
    }

    /**
     * Opens the blob's local file for reading, on the worker pool (opening a file is a blocking call).
     * The caller sends it with zero copy and closes it with {@link #close}.
     */
    public Future<FileChannel> openLocal(Digest digest) {
        Path path = driver.localFile(StorageLayout.blobData(digest))
                .orElseThrow(() -> new IllegalStateException(driver.name() + " has no local files"));
        return pool.call(() -> FileChannel.open(path, StandardOpenOption.READ));
    }

    /** Closes a channel from {@link #openLocal} on the worker pool. */
    public void close(FileChannel channel) {
        pool.call(() -> {
            channel.close();
            return null;
        });
    }

    /** A URL the client may fetch the blob from directly, when the driver offers one. */
    public Future<Optional<URI>> redirectUrl(Digest digest, String method) {
        return pool.call(() -> driver.redirectUrl(StorageLayout.blobData(digest), method));
    }

    /** A chunked reader of {@code length} bytes of the blob from {@code offset}; the caller closes it. */
    public Future<BlobReader> open(Digest digest, long offset, long length) {
        return pool.call(() -> new BlobReader(driver.reader(StorageLayout.blobData(digest), offset), pool, length));
    }
}
