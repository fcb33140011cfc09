package dev.berth.registry.store;

import dev.berth.digest.Digest;
import dev.berth.digest.DigestAlgorithm;
import dev.berth.registry.RepositoryName;
import dev.berth.storage.FileInfo;
import dev.berth.storage.PathNotFoundException;
import dev.berth.storage.StorageDriver;
import dev.berth.storage.StorageWriter;
import dev.berth.storage.WalkAction;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Upload sessions: start, append a stream, complete, cancel, purge. Session state is in storage
 * ({@code startedat} and the data written so far), so a session survives a restart: after one, the
 * first request to it rebuilds the hashing state by reading back the data.
 *
 * <p>Completion is one straight line: commit the data (durable) → verify the digest → move it to
 * the content address → link it into the repository → remove the session. A crash at any point
 * leaves either no visible blob or a complete one.
 */
public final class UploadStore {
    private static final Logger LOG = LoggerFactory.getLogger(UploadStore.class);
    /** Bytes a session's write queue may hold before the client is paused. */
    private static final long WRITE_QUEUE_BYTES = 1L << 20;

    private final StorageDriver driver;
    private final WorkerPool pool;
    private final BlobStore blobs;
    private final boolean shared;
    private final ConcurrentMap<UploadId, BlobUpload> sessions = new ConcurrentHashMap<>();
    /** Loads from storage in progress, shared so that one session is never rebuilt twice at once. */
    private final ConcurrentMap<UploadId, Future<BlobUpload>> loading = new ConcurrentHashMap<>();

    public UploadStore(StorageDriver driver, WorkerPool pool, BlobStore blobs) {
        this(driver, pool, blobs, false);
    }

    /**
     * @param shared whether other processes may write to the same sessions (replicas on one bucket):
     *               then every request checks the stored size instead of trusting memory
     */
    public UploadStore(StorageDriver driver, WorkerPool pool, BlobStore blobs, boolean shared) {
        this.driver = driver;
        this.pool = pool;
        this.blobs = blobs;
        this.shared = shared;
    }

    /** Starts a session in {@code repo}. */
    public Future<BlobUpload> start(RepositoryName repo) {
        UploadId id = UploadId.random();
        Instant now = Instant.now();
        return pool.call(() -> {
            driver.putContent(StorageLayout.uploadStartedAt(repo, id), now.toString().getBytes(StandardCharsets.UTF_8));
            BlobUpload upload = new BlobUpload(repo, id, now, DigestAlgorithm.SHA256.newMessageDigest(), 0);
            sessions.put(id, upload);
            return upload;
        });
    }

    /** The session {@code id} of {@code repo}; fails with {@link UploadUnknownException} when there is none. */
    public Future<BlobUpload> open(RepositoryName repo, UploadId id) {
        BlobUpload known = sessions.get(id);
        if (known != null) {
            if ((shared || known.needsSync()) && !known.isRemoved()) {
                return pool.call(() -> {
                    // Under the session's lock; a session another request holds is left to it.
                    if (known.tryLock()) {
                        try {
                            syncSize(known);
                        } finally {
                            known.unlock();
                        }
                    }
                    return known;
                }).compose(upload -> usable(upload, repo, id));
            }
            return usable(known, repo, id);
        }
        Future<BlobUpload> load = loading.computeIfAbsent(id, k -> pool.call(() -> {
            BlobUpload loaded = load(repo, id);
            BlobUpload raced = sessions.putIfAbsent(id, loaded);
            return raced != null ? raced : loaded;
        }));
        load.onComplete(ar -> loading.remove(id, load));
        return load.compose(upload -> usable(upload, repo, id));
    }

    private static Future<BlobUpload> usable(BlobUpload upload, RepositoryName repo, UploadId id) {
        if (upload.isRemoved() || !upload.repository().equals(repo)) {
            return Future.failedFuture(new UploadUnknownException("upload " + id + " unknown in " + repo));
        }
        return Future.succeededFuture(upload);
    }

    private BlobUpload load(RepositoryName repo, UploadId id) throws IOException, UploadUnknownException {
        Instant startedAt;
        try {
            byte[] started = driver.getContent(StorageLayout.uploadStartedAt(repo, id));
            startedAt = parseInstant(new String(started, StandardCharsets.UTF_8).trim());
        } catch (PathNotFoundException e) {
            throw new UploadUnknownException("upload " + id + " unknown in " + repo);
        }
        BlobUpload upload = new BlobUpload(repo, id, startedAt, DigestAlgorithm.SHA256.newMessageDigest(), 0);
        resync(upload);
        return upload;
    }

    private static Instant parseInstant(String text) {
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            return Instant.EPOCH; // unreadable: treat as ancient so the purger removes it
        }
    }

    /** Blocking: feeds the object at {@code key} to {@code md}; returns its size (0 when absent). */
    private long hashInto(MessageDigest md, String key) throws IOException {
        long size = 0;
        try (InputStream in = driver.reader(key, 0)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
                size += n;
            }
        } catch (PathNotFoundException e) {
            // nothing written yet
        }
        return size;
    }

    /** Blocking, under the session's lock: resyncs when the stored size differs from the one in memory. */
    private void syncSize(BlobUpload upload) throws IOException, UploadUnknownException {
        if (upload.committed()) {
            return;
        }
        long stored;
        try (StorageWriter w = driver.writer(StorageLayout.uploadData(upload.repository(), upload.id()), true)) {
            stored = w.size();
        }
        if (stored != upload.size()) {
            resync(upload);
        }
        upload.setNeedsSync(false);
    }

    /**
     * Blocking: rebuilds the hashing state and size from the data in storage. A driver that cannot
     * read back uncommitted data (S3 keeps it in an open multipart upload) still knows its size:
     * the session then goes on with its running hash marked stale, and completion hashes the
     * committed data instead. Data that is readable but no longer open for writing was committed
     * by a completion that failed after it (S3): the session is then only good for completing.
     */
    private void resync(BlobUpload upload) throws IOException, UploadUnknownException {
        String key = StorageLayout.uploadData(upload.repository(), upload.id());
        MessageDigest md = upload.sha256();
        md.reset();
        long size = hashInto(md, key);
        long stored;
        try (StorageWriter w = driver.writer(key, true)) {
            stored = w.size();
        }
        if (stored == size) {
            upload.setHashCurrent(true);
        } else if (size == 0) {
            upload.setHashCurrent(false);
        } else if (stored == 0) {
            upload.setHashCurrent(true);
            upload.setCommitted(true);
            stored = size;
        } else {
            throw new UploadUnknownException("upload " + upload.id() + " cannot be resumed: " + size
                    + " bytes readable, " + stored + " stored");
        }
        upload.setSize(stored);
        upload.setNeedsSync(false);
    }

    /**
     * Streams {@code body} onto the end of the session's data, hashing as it goes. The caller holds
     * the session's lock. Completes with the new size; on failure, the bytes that reached storage
     * stay part of the session (the client can ask for its status and resume).
     */
    public Future<Long> append(BlobUpload upload, ReadStream<Buffer> body) {
        String key = StorageLayout.uploadData(upload.repository(), upload.id());
        return pool.call(() -> {
            if (upload.committed()) {
                throw new UploadRangeException("upload " + upload.id() + " was committed for completion", upload.size());
            }
            StorageWriter writer = driver.writer(key, true);
            if (writer.size() != upload.size()) {
                // Never append at an offset the client did not ask for: report where the data ends.
                writer.close();
                resync(upload);
                throw new UploadRangeException("upload " + upload.id() + " holds " + upload.size() + " bytes",
                        upload.size());
            }
            return writer;
        }).compose(writer -> {
            MessageDigest md = upload.sha256();
            StorageWriteStream stream = new StorageWriteStream(pool, batch -> {
                ByteBuffer[] forDigest = new ByteBuffer[batch.length];
                for (int i = 0; i < batch.length; i++) {
                    forDigest[i] = batch[i].duplicate();
                }
                writer.write(batch);
                for (ByteBuffer b : forDigest) {
                    md.update(b);
                }
                upload.setSize(writer.size());
            }, WRITE_QUEUE_BYTES);
            // The close is part of the write (S3 stores the bytes short of a part then): its failure
            // fails the request. After any failure the size in memory is not to be trusted.
            return body.pipeTo(stream).transform(piped -> pool.call(() -> {
                writer.close();
                return null;
            }).transform(closed -> {
                if (piped.failed() || closed.failed()) {
                    upload.setNeedsSync(true);
                    return Future.failedFuture(piped.failed() ? piped.cause() : closed.cause());
                }
                return Future.succeededFuture();
            }));
        }).map(v -> upload.size());
    }

    /**
     * Finishes the session as the blob {@code expected}. Fails with {@link DigestMismatchException}
     * when the data hashes differently; the caller then cancels the session (the HTTP layer does).
     * The caller holds the lock.
     */
    public Future<BlobInfo> complete(BlobUpload upload, Digest expected, ChangeHook<BlobInfo> pushed) {
        RepositoryName repo = upload.repository();
        String key = StorageLayout.uploadData(repo, upload.id());
        return pool.call(() -> {
            if (!upload.committed()) {
                try (StorageWriter w = driver.writer(key, true)) {
                    if (w.size() != upload.size()) {
                        w.close();
                        resync(upload); // may find the data committed by an earlier attempt
                        if (!upload.committed()) {
                            try (StorageWriter again = driver.writer(key, true)) {
                                again.commit();
                            }
                        }
                    } else {
                        w.commit();
                    }
                }
                // From here a retried completion must not commit (and so replace) the data again.
                upload.setCommitted(true);
            }
            Digest actual = expected.algorithm() == DigestAlgorithm.SHA256 && upload.hashCurrent()
                    ? Digest.fromRaw(DigestAlgorithm.SHA256, ((MessageDigest) upload.sha256().clone()).digest())
                    : hash(key, expected.algorithm());
            if (!actual.equals(expected)) {
                throw new DigestMismatchException(expected, actual);
            }
            BlobInfo blob = new BlobInfo(expected, upload.size());
            blobs.commit(key, blob, repo, pushed);
            remove(upload);
            return blob;
        });
    }

    private Digest hash(String key, DigestAlgorithm algorithm) throws IOException {
        MessageDigest md = algorithm.newMessageDigest();
        hashInto(md, key);
        return Digest.fromRaw(algorithm, md.digest());
    }

    /** Discards the session and its data. Safe to call twice. */
    public Future<Void> cancel(BlobUpload upload) {
        return pool.call(() -> {
            remove(upload);
            return null;
        });
    }

    /**
     * Marks the session removed, deletes its storage, then forgets it. In this order a concurrent
     * {@link #open} either finds the (removed) session in memory or finds nothing in storage; the
     * other order would let it reload the session from storage and keep a zombie in memory.
     */
    private void remove(BlobUpload upload) throws IOException {
        upload.markRemoved();
        try {
            driver.delete(StorageLayout.upload(upload.repository(), upload.id()));
        } catch (PathNotFoundException e) {
            // already gone
        } finally {
            sessions.remove(upload.id(), upload);
        }
    }

    /**
     * Removes sessions started before {@code cutoff} that no request is working on, then whatever
     * unfinished writes the driver holds for sessions that are gone (S3 multipart uploads). Returns
     * how many sessions were removed. Runs on the worker pool.
     */
    public Future<Integer> purge(Instant cutoff) {
        return pool.call(() -> {
            List<StaleUpload> stale = new ArrayList<>();
            try {
                driver.walk(StorageLayout.REPOSITORIES, entry -> visitForPurge(entry, cutoff, stale));
            } catch (PathNotFoundException e) {
                // no repository yet
            }
            int removed = 0;
            for (StaleUpload s : stale) {
                // Claim the session as a request would, so that none is writing to what we delete; one
                // not in memory is claimed with a locked placeholder that open() sees as removed.
                BlobUpload session = sessions.get(s.id());
                if (session == null) {
                    BlobUpload placeholder = new BlobUpload(s.repository(), s.id(), Instant.EPOCH,
                            DigestAlgorithm.SHA256.newMessageDigest(), 0);
                    placeholder.tryLock();
                    if (sessions.putIfAbsent(s.id(), placeholder) != null) {
                        continue; // loaded meanwhile: in use, look again next round
                    }
                    session = placeholder;
                } else if (!session.tryLock()) {
                    continue; // a request is working on it
                }
                remove(session);
                removed++;
            }
            // Sessions known only in memory whose storage is gone (another replica completed or
            // cancelled them) are forgotten once they are as old.
            sessions.values().removeIf(s -> s.startedAt().isBefore(cutoff) && !s.isLocked()
                    && !stale.contains(new StaleUpload(s.repository(), s.id())));
            int abandoned = driver.purgeAbandonedWrites(cutoff);
            if (abandoned > 0) {
                LOG.atInfo().addKeyValue("removed", abandoned).log("purged abandoned storage writes");
            }
            return removed;
        });
    }

    private record StaleUpload(RepositoryName repository, UploadId id) {
    }

    private WalkAction visitForPurge(FileInfo entry, Instant cutoff, List<StaleUpload> stale) throws IOException {
        if (!entry.isDirectory()) {
            return WalkAction.CONTINUE;
        }
        String name = entry.key().substring(entry.key().lastIndexOf('/') + 1);
        if (!name.startsWith("_")) {
            return WalkAction.CONTINUE;
        }
        Optional<RepositoryName> repo = StorageLayout.repositoryOf(entry.key());
        if (name.equals(StorageLayout.UPLOADS_DIR) && repo.isPresent()) {
            for (String sessionDir : driver.list(entry.key())) {
                String idText = sessionDir.substring(sessionDir.lastIndexOf('/') + 1);
                if (!UploadId.isValid(idText)) {
                    continue;
                }
                UploadId id = new UploadId(idText);
                Instant started;
                try {
                    started = parseInstant(new String(driver.getContent(StorageLayout.uploadStartedAt(repo.get(), id)),
                            StandardCharsets.UTF_8).trim());
                } catch (PathNotFoundException e) {
                    started = driver.stat(sessionDir).modTime();
                }
                if (started.isBefore(cutoff)) {
                    stale.add(new StaleUpload(repo.get(), id));
                    LOG.atInfo().addKeyValue("repository", repo.get()).addKeyValue("upload", id)
                            .addKeyValue("startedAt", started).log("purging stale upload");
                }
            }
        }
        return WalkAction.SKIP_DIRECTORY;
    }
}
