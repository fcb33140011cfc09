package dev.berth.registry.store;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.berth.digest.Digest;
import dev.berth.registry.RepositoryName;
import dev.berth.registry.Tag;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Optional;

/**
 * Bounded in-memory caches of registry metadata, so that hot reads (manifest by tag, blob HEAD)
 * never touch storage. Only positive answers are cached. Content-addressed entries are immutable;
 * the mutable ones (tags, links) are invalidated by this process after every write it makes, which
 * is exact while one process owns the store. When several do (replicas on one S3 bucket), the
 * mutable caches also expire a while after loading, which bounds how stale another replica's
 * change can look.
 *
 * <p>Write protocol: write storage first, then invalidate. A load that raced with the write is
 * either finished before the invalidation (and removed by it) or starts after the write.
 */
public final class RegistryCaches {
    /** A repository and a digest, as a cache key. */
    public record RepoDigest(RepositoryName repo, Digest digest) {
    }

    /** A repository and a tag, as a cache key. */
    public record RepoTag(RepositoryName repo, Tag tag) {
    }

    /** Blob sizes by (repository, digest) for blobs linked into that repository. */
    final Cache<RepoDigest, Long> linkedBlobs;
    /** Blob sizes by digest for blobs present in the blob store. */
    final Cache<Digest, Long> blobSizes;
    /** Manifests known to be in a repository. */
    final Cache<RepoDigest, Boolean> revisions;
    /** Tag → digest. */
    final Cache<RepoTag, Digest> tags;
    /** Manifest bytes and parse by digest, bounded by total bytes. */
    final Cache<Digest, StoredManifest> manifests;

    public RegistryCaches(long entries, long manifestBytes) {
        this(entries, manifestBytes, null);
    }

    /**
     * @param mutableTtl how long tags and links stay cached, for storage that other processes change
     *                   too (replicas on one bucket); null keeps them until this process changes them
     */
    public RegistryCaches(long entries, long manifestBytes, Duration mutableTtl) {
        this.linkedBlobs = mutable(entries, mutableTtl);
        this.blobSizes = Caffeine.newBuilder().maximumSize(entries).build();
        this.revisions = mutable(entries, mutableTtl);
        this.tags = mutable(entries, mutableTtl);
        this.manifests = Caffeine.newBuilder()
                .maximumWeight(manifestBytes)
                .weigher((Digest d, StoredManifest m) -> m.bytes().length + 256)
                .build();
    }

    private static <K, V> Cache<K, V> mutable(long entries, Duration ttl) {
        Caffeine<Object, Object> b = Caffeine.newBuilder().maximumSize(entries);
        return (ttl == null ? b : b.expireAfterWrite(ttl)).build();
    }

    /** A blocking load that may fail with an I/O error. */
    @FunctionalInterface
    interface Loader<K, V> {
        /** The value for {@code key}, or null when there is none (nothing is cached then). */
        V load(K key) throws IOException;
    }

    /**
     * Reads through {@code cache}: the cached value, or the loaded one (cached when not null). The
     * load runs under the cache's per-key lock, which is what makes invalidate-after-write exact.
     */
    static <K, V> Optional<V> readThrough(Cache<K, V> cache, K key, Loader<K, V> loader) throws IOException {
        try {
            return Optional.ofNullable(cache.get(key, k -> {
                try {
                    return loader.load(k);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
